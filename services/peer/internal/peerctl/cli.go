package peerctl

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/netlab/netlab/services/peer/api"
	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/platform/clientcli"
)

const prog = "peerctl"

const usage = `Usage: peerctl [--node ADDR] [--json] COMMAND [ARGS]

Drives a netlab peer node through its admin API.

Commands:
  ls                      files in the swarm (every file this node can see)
  get ID|NAME [--out P]   download a file into the node's share, with a live
                          progress bar; --out also saves a copy at P
  status                  this node: id, files, peers, downloads
  peers                   the peers this node knows
  send FILE [--name N]    the tutorial's sender: add FILE ("-": stdin, with
                          --name) to the node's share and offer it
  receive [--out P]       the tutorial's receiver: wait for an offered file,
                          download it, save it at P (default received_file.txt;
                          "-": write the file to stdout)

Flags (before or after the command):
  --node ADDR   the node's admin address, host:port or http://host:port
                (default $PEER_NODE, else 127.0.0.1:9090; the compose stack
                publishes its nodes on 127.0.0.1:9101-9110)
  --json        print the answer as one JSON object (ls, status, peers, get)

get / receive flags:
  --out PATH          also save the file here (written to PATH.part, checked
                      against the file id, then renamed); "-" writes the
                      file's bytes to stdout
  --stall-timeout D   give up when the download makes no progress for D
                      (default 30s); the reason is printed
  --timeout D         receive: how long to wait for an offered file (default 60s)
  --name NAME         receive: the offered file to take when several are;
                      send: the name in the share (default FILE's base name)
  --progress          progress bar on stderr (default: when stderr is a terminal;
                      otherwise a line every 2 s)
  --report-interval D a line on stdout every D (10ms..1h) with the bytes and
                      pieces of that interval and the throughput; with --json
                      one JSON object each, before the final one

The command's flags may come before or after its argument. Ctrl-C stops
waiting (the node goes on downloading); a second Ctrl-C quits at once.

Exit status: 0 done, 1 failure (not found, no peers, stalled, hash mismatch),
2 usage.
`

// Main runs peerctl and returns its exit status.
func Main(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	r := &runner{getenv: getenv, stdin: stdin, stdout: clientcli.SyncWriter(stdout), stderr: stderr}
	fs := clientcli.NewFlags(prog, usage)
	r.declareGlobal(fs)
	if code, ok := fs.ParseCommand(args, stdout, stderr); !ok {
		return code
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return clientcli.UsageError(stderr, prog, "missing command")
	}
	err := r.command(ctx, rest[0], rest[1:])
	if ctx.Err() != nil && err != nil {
		err = ctx.Err()
	}
	var ue usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return 0
	case errors.As(err, &ue):
		return clientcli.UsageError(stderr, prog, ue.msg)
	case err != nil:
		return clientcli.Failure(stderr, prog, err)
	}
	return 0
}

// declareGlobal adds --node and --json to fs. Every command's flag set
// declares them too, so they may come before the command or anywhere
// after it (peerctl ls --node ADDR).
func (r *runner) declareGlobal(fs *clientcli.Flags) {
	fs.StringVar(&r.node, "node", r.node, "")
	fs.BoolVar(&r.json, "json", r.json, "")
}

// connect makes the node's client once every flag is read: --node, else
// $PEER_NODE, else the default. A bad address is a usage error.
func (r *runner) connect() error {
	node := r.node
	if node == "" {
		if node = r.getenv(NodeEnv); node == "" {
			node = DefaultNode
		}
	}
	c, err := api.NewClient(node)
	if err != nil {
		return usageError{err.Error()}
	}
	r.c = c
	return nil
}

// command runs one command; "help" asks for the usage (flag.ErrHelp).
func (r *runner) command(ctx context.Context, cmd string, args []string) error {
	switch cmd {
	case "ls":
		return r.noArgs(ctx, cmd, args, r.ls)
	case "status":
		return r.noArgs(ctx, cmd, args, r.status)
	case "peers":
		return r.noArgs(ctx, cmd, args, r.peers)
	case "get":
		return r.get(ctx, args)
	case "send":
		return r.send(ctx, args)
	case "receive":
		return r.receive(ctx, args)
	case "help":
		return flag.ErrHelp
	}
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

type runner struct {
	c      *api.Client // made by connect once the flags are read
	node   string      // --node
	json   bool        // --json
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// noArgs runs a command that takes only the global flags.
func (r *runner) noArgs(ctx context.Context, cmd string, args []string, f func(context.Context) error) error {
	fs := clientcli.NewFlags(prog, usage)
	r.declareGlobal(fs)
	if err := r.parseFlags(fs, args, 0, cmd+" takes no arguments"); err != nil {
		return err
	}
	return f(ctx)
}

// parseFlags parses args with fs and wants nargs positional arguments
// (argsUsage says so otherwise), then connects to the node. A bad flag or
// count is a usage error.
func (r *runner) parseFlags(fs *clientcli.Flags, args []string, nargs int, argsUsage string) error {
	if err := fs.ParseArgs(args, r.stderr); errors.Is(err, flag.ErrHelp) {
		return err
	} else if err != nil {
		return usageError{err.Error()}
	}
	if len(fs.Args()) != nargs {
		return usageError{argsUsage}
	}
	return r.connect()
}

func (r *runner) printJSON(v any) error { return clientcli.WriteJSON(r.stdout, v) }

func (r *runner) ls(ctx context.Context) error {
	files, err := r.c.Swarm(ctx)
	if err != nil {
		return err
	}
	if r.json {
		return r.printJSON(files)
	}
	if len(files) == 0 {
		fmt.Fprintln(r.stdout, "no files in the swarm")
		return nil
	}
	tw := tabwriter.NewWriter(r.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSIZE\tHOLDERS\tHERE")
	for _, f := range files {
		here := ""
		if f.Local {
			here = "yes"
		}
		name := f.Name
		if f.Offered {
			name += " (offered)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", shortID(f.ID), name, humanBytes(f.Size), len(f.Holders), here)
	}
	return tw.Flush()
}

func (r *runner) status(ctx context.Context) error {
	s, err := r.c.Status(ctx)
	if err != nil {
		return err
	}
	dls, err := r.c.Downloads(ctx)
	if err != nil {
		return err
	}
	if r.json {
		return r.printJSON(map[string]any{"node": s, "downloads": dls})
	}
	fmt.Fprintf(r.stdout, "node %s listening on %s, up %s\n", s.NodeID, s.Listen, (time.Duration(s.UptimeSecs) * time.Second).String())
	fmt.Fprintf(r.stdout, "files shared: %d; peers: %d connected of %d known; downloads active: %d\n",
		s.Files, s.PeersConnected, s.PeersKnown, s.DownloadsActive)
	fmt.Fprintf(r.stdout, "protocol version %d; uploaded %s in %d pieces\n", s.ProtocolVersion, humanBytes(s.BytesUploaded), s.PiecesUploaded)
	if !s.ServePieces {
		fmt.Fprintln(r.stdout, "serving pieces: off (SERVE_PIECES=false): downloads only")
	}
	if s.UploadRate > 0 {
		fmt.Fprintf(r.stdout, "upload rate cap: %s/s\n", humanBytes(s.UploadRate))
	}
	for _, d := range dls {
		line := fmt.Sprintf("  %s %s %s %d/%d pieces", shortID(d.ID), d.Name, d.State, d.PiecesHeld, d.Pieces)
		if d.Stalled != "" {
			line += " (stalled: " + d.Stalled + ")"
		}
		if d.Error != "" {
			line += " (error: " + d.Error + ")"
		}
		fmt.Fprintln(r.stdout, line)
	}
	return nil
}

func (r *runner) peers(ctx context.Context) error {
	ps, err := r.c.Peers(ctx)
	if err != nil {
		return err
	}
	if r.json {
		return r.printJSON(ps)
	}
	tw := tabwriter.NewWriter(r.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tSTATE\tVERSION\tSOURCE\tFILES\tBAD PIECES")
	for _, p := range ps {
		state := "known"
		switch {
		case p.Self:
			state = "this node"
		case p.Avoided:
			state = "avoided"
		case p.Connected:
			state = "connected"
		case p.Failures > 0:
			state = fmt.Sprintf("unreachable (%d tries)", p.Failures)
		}
		version := "-"
		if p.Version > 0 {
			version = strconv.Itoa(p.Version)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", p.Addr, state, version, p.Source, p.Files, p.BadPieces)
	}
	return tw.Flush()
}

type transferFlags struct {
	out          string
	stallTimeout time.Duration
	timeout      time.Duration
	name         string
	progress     bool
	progressSet  bool
	report       *clientcli.ReportFlag
}

// parseTransfer reads the flags of get, send and receive; they may come
// before or after the nargs positional arguments, which it returns.
func (r *runner) parseTransfer(cmd string, args []string, defaultOut string, nargs int, argsUsage string) (transferFlags, []string, error) {
	fs := clientcli.NewFlags(prog, usage)
	r.declareGlobal(fs)
	var tf transferFlags
	fs.StringVar(&tf.out, "out", defaultOut, "")
	fs.DurationVar(&tf.stallTimeout, "stall-timeout", 30*time.Second, "")
	fs.DurationVar(&tf.timeout, "timeout", 60*time.Second, "")
	fs.StringVar(&tf.name, "name", "", "")
	fs.BoolVar(&tf.progress, "progress", false, "")
	tf.report = fs.ReportInterval()
	if err := r.parseFlags(fs, args, nargs, argsUsage); err != nil {
		return tf, nil, err
	}
	tf.progressSet = fs.Given("progress")
	switch {
	case tf.stallTimeout <= 0 || tf.timeout <= 0:
		return tf, nil, usageError{"--stall-timeout and --timeout must be positive"}
	case fs.Given("report-interval") && cmd == "send":
		return tf, nil, usageError{"--report-interval needs get or receive"}
	case fs.Given("report-interval") && tf.out == "-":
		return tf, nil, usageError{"--report-interval cannot be combined with --out - (the file goes to stdout)"}
	}
	if err := tf.report.Check(); err != nil {
		return tf, nil, usageError{err.Error()}
	}
	return tf, fs.Args(), nil
}

func (r *runner) get(ctx context.Context, args []string) error {
	tf, pos, err := r.parseTransfer("get", args, "", 1, "get takes one file id or name")
	if err != nil {
		return err
	}
	return r.fetch(ctx, pos[0], tf)
}

// fetch starts the download of ref, follows it to the end and saves a copy
// when asked.
func (r *runner) fetch(ctx context.Context, ref string, tf transferFlags) error {
	d, err := r.c.Start(ctx, ref)
	if err != nil {
		return err
	}
	if d, err = r.follow(ctx, d, tf); err != nil {
		return err
	}
	if tf.out == "-" {
		// The file itself on stdout, for `docker compose run -T ... > file`.
		return r.copyVerified(ctx, d, r.stdout)
	}
	if tf.out != "" {
		if err := r.save(ctx, d, tf.out); err != nil {
			return err
		}
	}
	if r.json {
		return r.printJSON(d)
	}
	fmt.Fprintf(r.stdout, "%s (%s, id %s) complete in %.1fs", d.Name, humanBytes(d.Size), shortID(d.ID), d.ElapsedSecs)
	if d.Resumed > 0 {
		fmt.Fprintf(r.stdout, ", %d pieces resumed", d.Resumed)
	}
	fmt.Fprintln(r.stdout)
	for addr, s := range d.Sources {
		fmt.Fprintf(r.stdout, "  from %s: %d pieces, %s", addr, s.Pieces, humanBytes(s.Bytes))
		if s.Bad > 0 {
			fmt.Fprintf(r.stdout, ", %d bad pieces refetched elsewhere", s.Bad)
		}
		fmt.Fprintln(r.stdout)
	}
	if tf.out != "" {
		fmt.Fprintf(r.stdout, "saved to %s\n", tf.out)
	}
	return nil
}

// follow polls the download until it completes, fails or stalls for too
// long, drawing the progress bar and the interval report as it goes.
func (r *runner) follow(ctx context.Context, d api.Download, tf transferFlags) (api.Download, error) {
	bar := newProgress(r.stderr, tf.progress, tf.progressSet)
	defer bar.finish()
	var last atomic.Pointer[api.Download] // the latest status, for the report
	first := d
	last.Store(&first)
	stopReport := tf.report.Reporting(r.stdout, r.json).Start(func() clientcli.Totals {
		d := last.Load()
		return clientcli.Totals{Ops: int64(d.Verified), Bytes: d.Bytes, Errors: int64(d.Failed)}
	})
	defer stopReport()
	poll := time.NewTicker(250 * time.Millisecond)
	defer poll.Stop()
	for {
		bar.update(d)
		switch {
		case d.State == api.StateComplete:
			return d, nil
		case d.State == api.StateFailed:
			return d, fmt.Errorf("download of %s failed: %s", d.Name, d.Error)
		case d.Stalled != "" && d.StalledSecs >= tf.stallTimeout.Seconds():
			return d, fmt.Errorf("download of %s stalled for %s: %s", orID(d), tf.stallTimeout, d.Stalled)
		}
		select {
		case <-ctx.Done():
			return d, ctx.Err()
		case <-poll.C:
		}
		next, err := r.c.Download(ctx, d.ID)
		if err != nil {
			return d, err
		}
		d = next
		last.Store(&next)
	}
}

func orID(d api.Download) string {
	if d.Name != "" {
		return d.Name
	}
	return shortID(d.ID)
}

// save copies the node's file to path and checks it hashes to the file id,
// so what lands on disk is exactly what was shared.
func (r *runner) save(ctx context.Context, d api.Download, path string) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	tmp := path + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	err = r.copyVerified(ctx, d, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// copyVerified streams the node's copy of the file into w while hashing
// it, and fails when the bytes do not hash to the file id (for stdout the
// bytes are already out; the exit status says they are wrong).
func (r *runner) copyVerified(ctx context.Context, d api.Download, w io.Writer) error {
	want, err := content.ParseID(d.ID)
	if err != nil {
		return err
	}
	h, err := content.NewHasher(d.PieceSize, want.Alg())
	if err != nil {
		return fmt.Errorf("piece size from the node: %w", err)
	}
	n, err := r.c.File(ctx, d.Name, io.MultiWriter(w, h))
	if err != nil {
		return fmt.Errorf("copy %s from the node: %w", d.Name, err)
	}
	if m := h.Manifest(); n != d.Size || m.ID() != want {
		return fmt.Errorf("hash mismatch: the %d bytes copied from the node do not hash to id %s", n, want.Short())
	}
	return nil
}

func (r *runner) send(ctx context.Context, args []string) error {
	tf, pos, err := r.parseTransfer("send", args, "", 1, "send takes one file")
	if err != nil {
		return err
	}
	name := tf.name
	if name == "" {
		if pos[0] == "-" {
			return usageError{"send - (stdin) needs --name"}
		}
		name = filepath.Base(pos[0])
	}
	lf, err := putFile(ctx, r.c, pos[0], r.stdin, name)
	if err != nil {
		return err
	}
	if r.json {
		return r.printJSON(lf)
	}
	fmt.Fprintf(r.stdout, "offered %s (%s, id %s)\n", lf.Name, humanBytes(lf.Size), shortID(lf.ID))
	fmt.Fprintln(r.stdout, "on another node: peerctl --node OTHER receive --out received_file.txt")
	return nil
}

func (r *runner) receive(ctx context.Context, args []string) error {
	tf, _, err := r.parseTransfer("receive", args, "received_file.txt", 0, "receive takes no arguments (use --name to choose a file)")
	if err != nil {
		return err
	}
	deadline := time.Now().Add(tf.timeout)
	for {
		files, err := r.c.Swarm(ctx)
		if err != nil {
			return err
		}
		var offered []api.SwarmFile
		for _, f := range files {
			if f.Offered && (tf.name == "" || f.Name == tf.name) {
				offered = append(offered, f)
			}
		}
		switch {
		case len(offered) == 1:
			if !r.json {
				fmt.Fprintf(r.stderr, "receiving %s (%s) offered by %s\n", offered[0].Name, humanBytes(offered[0].Size), holdersText(offered[0]))
			}
			return r.fetch(ctx, offered[0].ID, tf)
		case len(offered) > 1:
			names := make([]string, len(offered))
			for i, f := range offered {
				names[i] = f.Name
			}
			return usageError{fmt.Sprintf("several files are offered (%s): choose one with --name", strings.Join(names, ", "))}
		}
		if time.Now().After(deadline) {
			s, err := r.c.Status(ctx)
			if err == nil && s.PeersConnected == 0 {
				return fmt.Errorf("no peers: nothing offered after %s and this node is connected to no peer", tf.timeout)
			}
			return fmt.Errorf("no file offered in the swarm after %s", tf.timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func holdersText(f api.SwarmFile) string {
	if f.Local && len(f.Holders) == 0 {
		return "this node"
	}
	return strings.Join(f.Holders, ", ")
}

// shortID is the short form of a file id the node gave (content.ID.Short:
// the digest's first 12 hex digits, without a "blake3:" prefix).
func shortID(id string) string {
	if p, err := content.ParseID(id); err == nil {
		return p.Short()
	}
	return id[:min(len(id), 12)]
}
