package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/internal/cli"
	"github.com/netlab/netlab/lab/internal/proc"
)

// prog names the command in messages.
const prog = "netlab bench"

const usage = `usage: netlab bench [flags]
       netlab bench serve tcp-copy|udp-echo|http-hello ADDR

Measures netlab's servers (from -bin) beside the tools people use instead (a
plain Go server, fortio, socat, nginx, and the Go HTTP servers go-httpbin,
podinfo and whoami, each on its cheapest route), on loopback, with the same
load, interleaved per rep, and reports medians and same-rep ratios. "serve"
runs one of the plain Go anchors; the benchmark starts them itself. make
bench-tools installs the others.`

// options are the command line's settings.
type options struct {
	reps        int
	duration    time.Duration
	only        string
	bin         string
	json        bool
	doc         string
	chart       string
	containers  bool
	imagePrefix string
	imageTag    string
	profile     string
}

// Main is `netlab bench`: it parses the flags, runs the workloads and
// returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, _ func(string) string) int {
	if len(args) >= 1 && args[0] == "serve" {
		return serve(ctx, args[1:], stderr)
	}
	o, code, ok := parseFlags(args, stdout, stderr)
	if !ok {
		return code
	}
	return run(ctx, o, stdout, stderr)
}

// serve runs a Go anchor until ctx ends.
func serve(ctx context.Context, args []string, stderr io.Writer) int {
	if len(args) != 2 {
		return cli.UsageError(stderr, prog+" serve", errors.New("want tcp-copy|udp-echo|http-hello ADDR"))
	}
	if err := ServeAnchor(ctx, args[0], args[1]); err != nil {
		return cli.Failure(stderr, prog+" serve", err)
	}
	return cli.ExitOK
}

func parseFlags(args []string, stdout, stderr io.Writer) (o options, code int, ok bool) {
	fs := cli.NewFlags(prog)
	fs.IntVar(&o.reps, "reps", 5, "measurements of each target (median reported)")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "length of each timed measurement")
	fs.StringVar(&o.only, "only", "", "comma-separated workloads (default: all)")
	fs.StringVar(&o.bin, "bin", "bin", "directory with netlab's binaries (make build)")
	fs.BoolVar(&o.json, "json", false, "print the result as JSON")
	fs.StringVar(&o.doc, "doc", "", "update the generated section of this markdown file")
	fs.StringVar(&o.chart, "chart", "", "write a PNG chart here")
	fs.BoolVar(&o.containers, "containers", false, "also run netlab's images (make images) on a bridge network, driven from the host")
	fs.StringVar(&o.imagePrefix, "image-prefix", "netlab", "image name prefix for -containers")
	fs.StringVar(&o.imageTag, "image-tag", "dev", "image tag for -containers")
	fs.StringVar(&o.profile, "profile", "", "also measure netlab and each goal's anchor once under perf, writing reports to this directory")
	if code, ok := cli.Parse(fs, args, usage, stdout, stderr); !ok {
		return o, code, false
	}
	switch {
	case o.reps < 1 || o.reps > 100:
		return o, cli.UsageError(stderr, prog, errors.New("-reps must be 1..100")), false
	case o.duration < time.Second || o.duration > 10*time.Minute:
		return o, cli.UsageError(stderr, prog, errors.New("-duration must be 1s..10m")), false
	}
	return o, 0, true
}

// run measures the chosen workloads and writes the result where the
// flags say.
func run(ctx context.Context, o options, stdout, stderr io.Writer) int {
	self, err := os.Executable()
	if err != nil {
		return cli.Failure(stderr, prog, err)
	}
	work, err := os.MkdirTemp("", "netlab-bench-")
	if err != nil {
		return cli.Failure(stderr, prog, err)
	}
	defer os.RemoveAll(work)
	scratch, err := ScratchDir(work)
	if err != nil {
		return cli.Failure(stderr, prog, err)
	}
	defer os.RemoveAll(scratch)
	var procs proc.Group
	defer procs.StopAll()
	cfg := Config{Bin: o.bin, Self: self, Duration: o.duration, WorkDir: work, ScratchDir: scratch, Procs: &procs}
	if o.containers {
		cs, err := OpenContainers(ctx, o.imagePrefix, o.imageTag, []string{"tcp-echo", "udp-responder", "http-hello", "peer"})
		if err != nil {
			return cli.UsageError(stderr, prog, fmt.Errorf("-containers: %w", err))
		}
		defer cs.Close()
		cfg.Containers = cs
	}
	chosen, err := cfg.choose(o.only)
	if err != nil {
		return cli.UsageError(stderr, prog, err)
	}
	var prof *Profiler
	if o.profile != "" {
		if prof, err = NewProfiler(o.profile); err != nil {
			return cli.UsageError(stderr, prog, fmt.Errorf("-profile: %w", err))
		}
	}
	res, err := Run(ctx, chosen, o.reps, stderr, prof)
	if err != nil {
		return cli.Failure(stderr, prog, err)
	}
	res.Duration = o.duration.String()
	if err := write(o, res, stdout); err != nil {
		return cli.Failure(stderr, prog, err)
	}
	return cli.ExitOK
}

// choose is every workload, or those -only names.
func (c Config) choose(only string) ([]Workload, error) {
	all := []Workload{c.LoopbackCeiling(), c.TCPBulk(), c.TCPRequestResponse(50), c.TCPRequestResponse(200),
		c.UDPRequestReply(50), c.HTTPHello(), c.PeerTransfer()}
	if only == "" {
		return all, nil
	}
	want := strings.Split(only, ",")
	var chosen []Workload
	for _, w := range all {
		if slices.Contains(want, w.Name) {
			chosen = append(chosen, w)
		}
	}
	if len(chosen) == 0 {
		return nil, fmt.Errorf("-only: no workload matches %q", only)
	}
	return chosen, nil
}

// write prints the result (a table, or JSON) and writes the chart and the
// document section when asked.
func write(o options, res Result, stdout io.Writer) error {
	if o.json {
		if err := cli.WriteJSON(stdout, res); err != nil {
			return err
		}
	} else if err := WriteTable(stdout, res); err != nil {
		return err
	}
	if o.chart != "" {
		if err := WriteChart(o.chart, res); err != nil {
			return fmt.Errorf("chart: %w", err)
		}
	}
	if o.doc == "" {
		return nil
	}
	rel := ""
	if o.chart != "" {
		rel, _ = filepath.Rel(filepath.Dir(o.doc), o.chart)
	}
	if err := UpdateDoc(o.doc, Markdown(res, rel)); err != nil {
		return fmt.Errorf("doc: %w", err)
	}
	return nil
}
