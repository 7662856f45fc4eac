// Command netlab-bench measures netlab's servers beside the tools people
// use instead (a plain Go server, fortio, socat, nginx), on loopback, with
// the same load, interleaved per rep, and reports medians and same-rep
// ratios: `make bench` runs it.
//
//	netlab-bench [-reps 5] [-duration 5s] [-only tcp-bulk,http-hello] [-json] [-doc docs/benchmarks.md -chart docs/benchmarks.png]
//	netlab-bench serve tcp-copy|http-hello ADDR   (the Go anchors, run by the harness itself)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/netlab/netlab/services/bench/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

func run(ctx context.Context, args []string) int {
	if len(args) >= 1 && args[0] == "serve" {
		if len(args) != 3 {
			fmt.Fprintln(os.Stderr, "usage: netlab-bench serve tcp-copy|http-hello ADDR")
			return 2
		}
		if err := bench.ServeAnchor(ctx, args[1], args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "netlab-bench:", err)
			return 1
		}
		return 0
	}
	fs := flag.NewFlagSet("netlab-bench", flag.ContinueOnError)
	reps := fs.Int("reps", 5, "measurements of each target (median reported)")
	dur := fs.Duration("duration", 5*time.Second, "length of each timed measurement")
	only := fs.String("only", "", "comma-separated workloads (default: all)")
	bin := fs.String("bin", "bin", "directory with netlab's binaries (make build)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	doc := fs.String("doc", "", "update the generated section of this markdown file")
	chart := fs.String("chart", "", "write a PNG chart here")
	containers := fs.Bool("containers", false, "also run netlab's images (make images) on a bridge network, driven from the host")
	imagePrefix := fs.String("image-prefix", "netlab", "image name prefix for -containers")
	imageTag := fs.String("image-tag", "dev", "image tag for -containers")
	profile := fs.String("profile", "", "also measure netlab and each goal's anchor once under perf, writing reports to this directory")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *reps < 1 || *reps > 100 || *dur < time.Second || *dur > 10*time.Minute {
		fmt.Fprintln(os.Stderr, "netlab-bench: -reps must be 1..100 and -duration 1s..10m")
		return 2
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "netlab-bench:", err)
		return 1
	}
	work, err := os.MkdirTemp("", "netlab-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "netlab-bench:", err)
		return 1
	}
	defer os.RemoveAll(work)
	cfg := bench.Config{Bin: *bin, Self: self, Duration: *dur, WorkDir: work}
	if *containers {
		cs, err := bench.OpenContainers(ctx, *imagePrefix, *imageTag, []string{"tcp-echo", "udp-responder", "http-hello", "peer"})
		if err != nil {
			fmt.Fprintln(os.Stderr, "netlab-bench: -containers:", err)
			return 2
		}
		defer cs.Close()
		cfg.Containers = cs
	}
	all := []bench.Workload{cfg.LoopbackCeiling(), cfg.TCPBulk(), cfg.TCPRequestResponse(50), cfg.TCPRequestResponse(200), cfg.UDPRequestReply(50), cfg.HTTPHello(), cfg.PeerTransfer()}
	var chosen []bench.Workload
	want := strings.Split(*only, ",")
	for _, w := range all {
		if *only == "" || slices.Contains(want, w.Name) {
			chosen = append(chosen, w)
		}
	}
	if len(chosen) == 0 {
		fmt.Fprintf(os.Stderr, "netlab-bench: no workload matches -only %q\n", *only)
		return 2
	}
	var prof *bench.Profiler
	if *profile != "" {
		if prof, err = bench.NewProfiler(*profile); err != nil {
			fmt.Fprintln(os.Stderr, "netlab-bench: -profile:", err)
			return 2
		}
	}
	res, err := bench.Run(ctx, chosen, *reps, os.Stderr, prof)
	if err != nil {
		fmt.Fprintln(os.Stderr, "netlab-bench:", err)
		return 1
	}
	res.Duration = dur.String()
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return 1
		}
	} else if err := bench.WriteTable(os.Stdout, res); err != nil {
		return 1
	}
	if *chart != "" {
		if err := bench.WriteChart(*chart, res); err != nil {
			fmt.Fprintln(os.Stderr, "netlab-bench: chart:", err)
			return 1
		}
	}
	if *doc != "" {
		rel := ""
		if *chart != "" {
			rel, _ = filepath.Rel(filepath.Dir(*doc), *chart)
		}
		if err := bench.UpdateDoc(*doc, bench.Markdown(res, rel)); err != nil {
			fmt.Fprintln(os.Stderr, "netlab-bench: doc:", err)
			return 1
		}
	}
	return 0
}
