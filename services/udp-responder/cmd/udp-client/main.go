// Command udp-client talks to a udp-responder: by default it does what the
// Python tutorial client does (send "Hello, server!", print the reply),
// retrying since UDP loses datagrams; it can send the tutorial's "exit"
// (--exit) and measure loss, reordering, duplication, corruption, RTT and
// jitter with numbered probes (--count), and put a closed-loop load on it
// (--load).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/netlab/netlab/services/udp-responder/internal/udpclient"
	"github.com/netlab/netlab/services/udp-responder/probe"

	"github.com/netlab/netlab/services/platform/clientcli"
)

const prog = "udp-client"

const usage = `Usage: udp-client [flags]

Sends a datagram to a udp-responder and prints the reply. With no flags it
does what the tutorial client does: sends "Hello, server!" and prints
Received: Hello, client!
It does not send "exit" afterwards (the server ignores it without a token;
see --exit). With --count it sends numbered probes and reports loss,
reordering, duplication, corruption, round-trip times and jitter. With
--load it keeps one request outstanding per socket for a fixed time and
reports replies per second, loss and round-trip times.

Flags:
  --addr HOST:PORT   server address (default $UDP_SERVER_ADDR, else 127.0.0.1:12345)
  --message TEXT     text to send (default "Hello, server!"; 1..65507 bytes). In
                     greet mode the server answers only a message at least as
                     long as its greeting (14 bytes)
  --tries N          sends before giving up (default 3, 1..100)
  --timeout D        wait for a reply to each try; with --count, wait for the
                     last replies after the last probe (default 2s)
  --exit TOKEN       send "exit TOKEN" (stops a server whose SHUTDOWN_TOKEN is
                     TOKEN), print "sent exit" and wait for nothing
  --json             print the result as one JSON object

Probe mode:
  --count N          send N probes (1..10000000)
  --rate R           probes per second over all sockets (default 1000; 0 sends
                     as fast as possible). The server drops what exceeds its
                     per-source limit (by default 2000/s, bursts of 4000)
  --size BYTES       probe datagram size (36..65507, default 64; also for
                     --load); the server ignores datagrams above its
                     MAX_DATAGRAM (2048 by default)
  --concurrency C    sockets sending in parallel, each at R/C (1..256, default 1)
  --max-loss P       fail when the loss exceeds P percent (0..100, default 100;
                     also for --load)
  --progress         print progress to stderr every second (default: when
                     stderr is a terminal; --progress=false turns it off)

Load mode (closed loop):
  --load             each socket sends a probe of --size bytes, waits for its
                     reply or --timeout (then the request counts as lost),
                     and sends the next at once, for --duration; replies to
                     earlier requests are ignored (counted as "late")
  --sockets K        sockets, each with one request outstanding (1..1024,
                     default 1)
  --duration D       how long to send (100ms..1h, default 10s)
  --timeout D        with --load: per request (1ms..1m, default 200ms)
  With --load, --size, --max-loss and --json apply; --count, --rate,
  --concurrency, --progress, --message, --tries and --exit do not. The
  server's per-source rate limit (RATE_LIMIT, RATE_BURST) counts every
  request: raise it for a load test.

  -h, --help         show this help

Ctrl-C in probe mode stops sending, waits up to --timeout for the replies
still on their way and prints the summary; in load mode it stops at once
and prints the summary. A second Ctrl-C quits at once.

Exit status: 0 success; 1 failure (cannot resolve, no reply; with --count:
nothing received, corrupted replies, or loss above --max-loss; with --load:
nothing received, or loss above --max-loss); 2 usage error.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // a second signal kills at once
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// probeFlags are the flags that only mean something with --count, and
// sharedFlags those that mean something with --count or --load.
var (
	probeFlags  = []string{"rate", "concurrency", "progress"}
	sharedFlags = []string{"size", "max-loss"}
)

// loadFlags only mean something with --load; notLoadFlags never do.
var (
	loadFlags    = []string{"sockets", "duration"}
	notLoadFlags = []string{"count", "exit", "message", "tries", "rate", "concurrency", "progress"}
)

// run is the whole program; it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var (
		addr        = fs.String("addr", "", "")
		message     = fs.String("message", udpclient.DefaultMessage, "")
		tries       = fs.Int("tries", udpclient.DefaultTries, "")
		timeout     = fs.Duration("timeout", udpclient.DefaultTimeout, "")
		exitToken   = fs.String("exit", "", "")
		asJSON      = fs.Bool("json", false, "")
		count       = fs.Int("count", 0, "")
		rate        = fs.Float64("rate", udpclient.DefaultRate, "")
		size        = fs.Int("size", udpclient.DefaultSize, "")
		concurrency = fs.Int("concurrency", udpclient.DefaultConcurrency, "")
		maxLoss     = fs.Float64("max-loss", 100, "")
		progress    = fs.Bool("progress", false, "")
		load        = fs.Bool("load", false, "")
		sockets     = fs.Int("sockets", udpclient.DefaultLoadSockets, "")
		duration    = fs.Duration("duration", udpclient.DefaultLoadDuration, "")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		return usageError(stderr, err.Error())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	if fs.NArg() > 0 {
		return usageError(stderr, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	resolved, err := clientcli.ResolveAddr(*addr, set["addr"], getenv, udpclient.AddrEnv, udpclient.DefaultAddr)
	if err != nil {
		return usageError(stderr, err.Error())
	}
	*addr = resolved
	if *load {
		return loadMode(ctx, set, *addr, loadArgs{
			sockets: *sockets, size: *size, duration: *duration, timeout: *timeout,
			maxLoss: *maxLoss, asJSON: *asJSON,
		}, stdout, stderr)
	}
	for _, name := range loadFlags {
		if set[name] {
			return usageError(stderr, fmt.Sprintf("--%s needs --load", name))
		}
	}
	if *timeout <= 0 {
		return usageError(stderr, fmt.Sprintf("invalid --timeout %s: must be positive", *timeout))
	}
	if !set["count"] {
		for _, name := range probeFlags {
			if set[name] {
				return usageError(stderr, fmt.Sprintf("--%s needs --count", name))
			}
		}
		for _, name := range sharedFlags {
			if set[name] {
				return usageError(stderr, fmt.Sprintf("--%s needs --count or --load", name))
			}
		}
	}
	for _, pair := range [][2]string{{"count", "message"}, {"count", "tries"}, {"count", "exit"}, {"exit", "message"}, {"exit", "tries"}} {
		if set[pair[0]] && set[pair[1]] {
			return usageError(stderr, fmt.Sprintf("--%s cannot be combined with --%s", pair[0], pair[1]))
		}
	}
	c := &udpclient.Client{Addr: *addr, Timeout: *timeout, Tries: *tries}

	switch {
	case set["exit"]:
		if *exitToken == "" || strings.ContainsAny(*exitToken, " \t\r\n") || len(*exitToken) > udpclient.MaxMessageSize-len("exit ") {
			return usageError(stderr, "invalid --exit: the token must be 1 or more characters without spaces")
		}
		return runExit(ctx, c, *exitToken, *asJSON, stdout, stderr)

	case set["count"]:
		switch {
		case *count < 1 || *count > udpclient.MaxCount:
			return usageError(stderr, fmt.Sprintf("invalid --count %d: must be between 1 and %d", *count, udpclient.MaxCount))
		case math.IsNaN(*rate) || *rate < 0 || *rate > udpclient.MaxRate:
			return usageError(stderr, fmt.Sprintf("invalid --rate %g: must be between 0 and %d", *rate, udpclient.MaxRate))
		case *size < probe.HeaderSize || *size > probe.MaxSize:
			return usageError(stderr, fmt.Sprintf("invalid --size %d: must be between %d and %d", *size, probe.HeaderSize, probe.MaxSize))
		case *concurrency < 1 || *concurrency > udpclient.MaxConcurrency:
			return usageError(stderr, fmt.Sprintf("invalid --concurrency %d: must be between 1 and %d", *concurrency, udpclient.MaxConcurrency))
		case math.IsNaN(*maxLoss) || *maxLoss < 0 || *maxLoss > 100:
			return usageError(stderr, fmt.Sprintf("invalid --max-loss %g: must be between 0 and 100", *maxLoss))
		}
		opts := udpclient.ProbeOptions{Count: *count, Rate: *rate, Size: *size, Concurrency: *concurrency}
		showProgress := isTerminal(stderr)
		if set["progress"] {
			showProgress = *progress
		}
		return runProbe(ctx, c, opts, *maxLoss, showProgress, *asJSON, stdout, stderr)
	}

	if *tries < 1 || *tries > udpclient.MaxTries {
		return usageError(stderr, fmt.Sprintf("invalid --tries %d: must be between 1 and %d", *tries, udpclient.MaxTries))
	}
	if len(*message) == 0 || len(*message) > udpclient.MaxMessageSize {
		return usageError(stderr, fmt.Sprintf("invalid --message: must be 1 to %d bytes, got %d", udpclient.MaxMessageSize, len(*message)))
	}
	res, err := c.Send(ctx, []byte(*message))
	if err != nil {
		return failure(stderr, err)
	}
	if *asJSON {
		err = res.WriteJSON(stdout)
	} else {
		err = res.WriteText(stdout)
	}
	if err != nil {
		return failure(stderr, err)
	}
	return 0
}

func runExit(ctx context.Context, c *udpclient.Client, token string, asJSON bool, stdout, stderr io.Writer) int {
	if err := c.Exit(ctx, token); err != nil {
		return failure(stderr, err)
	}
	if asJSON {
		b, _ := json.Marshal(struct {
			Mode string `json:"mode"`
			Addr string `json:"addr"`
			Sent bool   `json:"sent"`
		}{"exit", c.Addr, true})
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		fmt.Fprintln(stdout, "sent exit")
	}
	return 0
}

func runProbe(ctx context.Context, c *udpclient.Client, opts udpclient.ProbeOptions, maxLoss float64, showProgress, asJSON bool, stdout, stderr io.Writer) int {
	var line *progressLine
	if showProgress {
		line = &progressLine{w: stderr}
		opts.Progress = line.update
	}
	res, err := c.Probe(ctx, opts)
	if err != nil && (!res.Interrupted || res.Sent == 0) {
		line.finish(res)
		return failure(stderr, err) // nothing was sent: nothing to summarise
	}
	line.finish(res)
	if asJSON {
		_ = res.WriteJSON(stdout)
	} else {
		_ = res.WriteText(stdout)
	}

	switch {
	case res.Sent == 0 && res.SendErrors > 0:
		return failure(stderr, fmt.Errorf("no probe could be sent (%v)", res.LastErr))
	case res.Sent == 0:
		return failure(stderr, errors.New("no probe was sent"))
	case res.Received == 0:
		msg := fmt.Sprintf("no replies from %s (%d probes sent)", res.Addr, res.Sent)
		if res.Unreachable > 0 {
			msg += ": connection refused (nothing listening on that port?)"
		}
		fmt.Fprintf(stderr, "%s: %s\n", prog, msg)
		return 1
	}
	var problems []string
	if res.Corrupted > 0 {
		problems = append(problems, fmt.Sprintf("%d corrupted replies", res.Corrupted))
	}
	if res.LossPercent > maxLoss {
		problems = append(problems, fmt.Sprintf("loss %.2f%% is above --max-loss %g%%", res.LossPercent, maxLoss))
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "%s: %s\n", prog, strings.Join(problems, "; "))
		return 1
	}
	return 0 // interrupted after some replies is a success, as with ping
}

type loadArgs struct {
	sockets, size     int
	duration, timeout time.Duration
	maxLoss           float64
	asJSON            bool
}

// loadMode checks the flags of --load and runs it.
func loadMode(ctx context.Context, set map[string]bool, addr string, a loadArgs, stdout, stderr io.Writer) int {
	for _, name := range notLoadFlags {
		if set[name] {
			return usageError(stderr, fmt.Sprintf("--load cannot be combined with --%s", name))
		}
	}
	if !set["timeout"] {
		a.timeout = udpclient.DefaultLoadTimeout
	}
	switch {
	case a.sockets < 1 || a.sockets > udpclient.MaxLoadSockets:
		return usageError(stderr, fmt.Sprintf("invalid --sockets %d: must be between 1 and %d", a.sockets, udpclient.MaxLoadSockets))
	case a.size < probe.HeaderSize || a.size > probe.MaxSize:
		return usageError(stderr, fmt.Sprintf("invalid --size %d: must be between %d and %d", a.size, probe.HeaderSize, probe.MaxSize))
	case a.duration < udpclient.MinLoadDuration || a.duration > udpclient.MaxLoadDuration:
		return usageError(stderr, fmt.Sprintf("invalid --duration %s: must be between %s and %s", a.duration, udpclient.MinLoadDuration, udpclient.MaxLoadDuration))
	case a.timeout < udpclient.MinLoadTimeout || a.timeout > udpclient.MaxLoadTimeout:
		return usageError(stderr, fmt.Sprintf("invalid --timeout %s: must be between %s and %s with --load", a.timeout, udpclient.MinLoadTimeout, udpclient.MaxLoadTimeout))
	case math.IsNaN(a.maxLoss) || a.maxLoss < 0 || a.maxLoss > 100:
		return usageError(stderr, fmt.Sprintf("invalid --max-loss %g: must be between 0 and 100", a.maxLoss))
	}
	c := &udpclient.Client{Addr: addr}
	res, err := c.Load(ctx, udpclient.LoadOptions{Sockets: a.sockets, Size: a.size, Duration: a.duration, Timeout: a.timeout})
	if err != nil && (!res.Interrupted || res.Sent == 0) {
		return failure(stderr, err) // the run did not start: nothing to summarise
	}
	if a.asJSON {
		_ = res.WriteJSON(stdout)
	} else {
		_ = res.WriteText(stdout)
	}
	switch {
	case res.Received == 0:
		msg := fmt.Sprintf("no replies from %s (%d requests sent)", res.Addr, res.Sent)
		if res.Errors[udpclient.ErrKindRefused] > 0 {
			msg += ": connection refused (nothing listening on that port?)"
		}
		fmt.Fprintf(stderr, "%s: %s\n", prog, msg)
		return 1
	case res.LossPercent > a.maxLoss:
		fmt.Fprintf(stderr, "%s: loss %.2f%% is above --max-loss %g%%\n", prog, res.LossPercent, a.maxLoss)
		return 1
	}
	return 0 // interrupted after some replies is a success, as with ping
}

// progressLine keeps one progress line on stderr up to date with \r.
type progressLine struct {
	w       io.Writer
	width   int // of the last line, to blank out what a shorter one leaves
	printed bool
}

func (p *progressLine) update(pr udpclient.Progress) {
	line := fmt.Sprintf("sent %d/%d received %d unanswered %d reordered %d duplicated %d corrupted %d",
		pr.Sent, pr.Count, pr.Received, pr.Unanswered(), pr.Reordered, pr.Duplicated, pr.Corrupted)
	pad := max(p.width-len(line), 0)
	p.width = len(line)
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
	p.printed = true
}

// finish rewrites the line with the final counts and ends it, if a
// progress line was printed at all.
func (p *progressLine) finish(res udpclient.Result) {
	if p == nil || !p.printed {
		return
	}
	p.update(udpclient.Progress{
		Count: int64(res.Count), Sent: res.Sent, Received: res.Received,
		Reordered: res.Reordered, Duplicated: res.Duplicated, Corrupted: res.Corrupted,
	})
	fmt.Fprintln(p.w)
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func failure(stderr io.Writer, err error) int { return clientcli.Failure(stderr, prog, err) }

func usageError(stderr io.Writer, msg string) int { return clientcli.UsageError(stderr, prog, msg) }
