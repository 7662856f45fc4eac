// Command netlab-soak runs netlab's servers natively on loopback under
// sustained load and checks they hold: tcp-echo at 10,000 connections, a
// UDP flood beside a well-behaved client, slowloris against http-hello, a
// 10-node peer swarm sharing a 256 MiB file. `make soak` runs it.
//
//	netlab-soak [-only tcp,udp,http,peer] [-scale 0.1] [-json] [-bin bin] [-timeout 5m] [phase flags]
//
// Every flag can also come from the environment as SOAK_<FLAG> (-tcp-hold:
// SOAK_TCP_HOLD); a flag on the command line wins.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/netlab/netlab/services/soak/internal/httpsoak"
	"github.com/netlab/netlab/services/soak/internal/peersoak"
	"github.com/netlab/netlab/services/soak/internal/proc"
	"github.com/netlab/netlab/services/soak/internal/report"
	"github.com/netlab/netlab/services/soak/internal/tcpsoak"
	"github.com/netlab/netlab/services/soak/internal/udpsoak"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// phaseNames are the phases, in the order they run.
var phaseNames = []string{"tcp", "udp", "http", "peer"}

type options struct {
	only    []string
	scale   float64
	bin     string
	json    bool
	timeout time.Duration

	tcpConns, tcpActive int
	tcpHold, tcpSettle  time.Duration
	tcpRSSWait          time.Duration
	udpDuration         time.Duration
	udpFlooders         int
	udpRate             int
	udpUnpinned         bool
	httpDuration        time.Duration
	httpSlow            int
	httpClients         int
	peerNodes           int
	peerMiB             int
	peerBound           time.Duration
}

func parseFlags(args []string, getenv func(string) string) (options, error) {
	var o options
	var only string
	fs := flag.NewFlagSet("netlab-soak", flag.ContinueOnError)
	var usage strings.Builder
	fs.SetOutput(&usage)
	fs.StringVar(&only, "only", "", "comma-separated phases to run: "+strings.Join(phaseNames, ",")+" (default: all)")
	fs.Float64Var(&o.scale, "scale", 1, "multiply every hold and load duration by this (0.1 for a quick run)")
	fs.StringVar(&o.bin, "bin", "bin", "directory with netlab's binaries (make build)")
	fs.BoolVar(&o.json, "json", false, "print the result as one JSON document")
	fs.DurationVar(&o.timeout, "timeout", 6*time.Minute, "bound on the whole run")
	fs.IntVar(&o.tcpConns, "tcp-conns", 10000, "tcp: connections held at once")
	fs.IntVar(&o.tcpActive, "tcp-active", 2000, "tcp: of those, connections echoing in a loop")
	fs.DurationVar(&o.tcpHold, "tcp-hold", 60*time.Second, "tcp: how long the connections are held")
	fs.DurationVar(&o.tcpSettle, "tcp-settle", 30*time.Second, "tcp: bound on the wait for the server's goroutines and files to return to baseline")
	fs.DurationVar(&o.tcpRSSWait, "tcp-rss-wait", 250*time.Second, "tcp: bound on the wait for its memory, from the clients leaving: two of Go's periodic GCs, 2 min apart, free it; other phases run meanwhile; 0 skips the check")
	fs.DurationVar(&o.udpDuration, "udp-duration", 30*time.Second, "udp: length of the flood")
	fs.IntVar(&o.udpFlooders, "udp-flooders", 4, "udp: flooding sources (127.0.0.2, .3, ...)")
	fs.IntVar(&o.udpRate, "udp-rate", 200, "udp: the well-behaved client's probes per second")
	fs.BoolVar(&o.udpUnpinned, "udp-unpinned", false, "udp: pin neither the flooders nor the responder (by default the clients share the last CPU and the responder gets the others: an attacker's CPU is not the victim's)")
	fs.DurationVar(&o.httpDuration, "http-duration", 30*time.Second, "http: length of the normal load")
	fs.IntVar(&o.httpSlow, "http-slow", 1000, "http: slowloris connections")
	fs.IntVar(&o.httpClients, "http-clients", 20, "http: normal clients, one request at a time each")
	fs.IntVar(&o.peerNodes, "peer-nodes", 10, "peer: nodes in the swarm")
	fs.IntVar(&o.peerMiB, "peer-mib", 256, "peer: size of the shared file in MiB")
	fs.DurationVar(&o.peerBound, "peer-bound", 2*time.Minute, "peer: bound on the downloads")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, &helpError{usage.String()}
		}
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := envDefaults(fs, getenv); err != nil {
		return o, err
	}
	if only != "" {
		for p := range strings.SplitSeq(only, ",") {
			p = strings.TrimSpace(p)
			if !slices.Contains(phaseNames, p) {
				return o, fmt.Errorf("-only: unknown phase %q (have %s)", p, strings.Join(phaseNames, ","))
			}
			o.only = append(o.only, p)
		}
	}
	if len(o.only) == 0 {
		o.only = phaseNames
	}
	switch {
	case o.scale <= 0 || o.scale > 10:
		return o, errors.New("-scale must be above 0 and at most 10")
	case o.tcpConns < 1 || o.tcpActive < 0 || o.tcpActive > o.tcpConns:
		return o, errors.New("-tcp-conns must be at least 1 and -tcp-active between 0 and -tcp-conns")
	case o.udpFlooders < 1 || o.udpFlooders > 100 || o.udpRate < 1 || o.udpRate > 10000:
		return o, errors.New("-udp-flooders must be 1..100 and -udp-rate 1..10000")
	case o.httpSlow < 0 || o.httpClients < 1:
		return o, errors.New("-http-slow must be at least 0 and -http-clients at least 1")
	case o.peerNodes < 2 || o.peerMiB < 1:
		return o, errors.New("-peer-nodes must be at least 2 and -peer-mib at least 1")
	case o.tcpRSSWait < 0:
		return o, errors.New("-tcp-rss-wait must be 0 (skip) or more")
	case o.timeout <= 0:
		return o, errors.New("-timeout must be positive")
	}
	return o, nil
}

// helpError carries -help's text.
type helpError struct{ text string }

func (h *helpError) Error() string { return h.text }

// envDefaults sets every flag not given on the command line from
// SOAK_<NAME> (dashes as underscores), when that is set.
func envDefaults(fs *flag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		key := "SOAK_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(key); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", key, v, err))
			}
		}
	})
	return errors.Join(errs...)
}

// scaled shortens (or lengthens) a load duration, never below a second.
func scaled(d time.Duration, scale float64) time.Duration {
	return max(time.Second, time.Duration(float64(d)*scale).Round(100*time.Millisecond))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, os.Getenv)
	if err != nil {
		if h, ok := errors.AsType[*helpError](err); ok {
			fmt.Fprintf(stdout, "usage: netlab-soak [flags]; every flag can also be set as SOAK_<FLAG> (-tcp-hold: SOAK_TCP_HOLD)\n%s", h.text)
			return 0
		}
		fmt.Fprintln(stderr, "netlab-soak:", err)
		return 2
	}
	for _, b := range []string{"tcp-echo", "udp-responder", "http-hello", "peer"} {
		if _, err := os.Stat(o.bin + "/" + b); err != nil {
			fmt.Fprintf(stderr, "netlab-soak: %v (run make build first)\n", err)
			return 2
		}
	}
	// Each side of every tcp connection is a file here and in the server.
	limit, err := proc.RaiseFileLimit(uint64(max(o.tcpConns, o.httpSlow) + 1024))
	if err != nil {
		fmt.Fprintln(stderr, "netlab-soak:", err)
		return 1
	}

	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	var procs proc.Group
	defer procs.StopAll()
	// If a phase ignores the deadline, stop the servers anyway (that ends
	// its loads) so the run still ends.
	go func() {
		<-ctx.Done()
		time.Sleep(15 * time.Second)
		procs.StopAll()
	}()

	log := stderr
	table := stdout
	if o.json {
		table = io.Discard
	}
	res := report.Run{Started: time.Now(), LoadAvg: loadAvg()}
	fmt.Fprintf(log, "netlab-soak: phases %s, scale %g, timeout %s, open-file limit %d, load average %s\n",
		strings.Join(o.only, ","), o.scale, o.timeout, limit, res.LoadAvg)
	add := func(ph report.Phase) {
		if ctx.Err() != nil && ph.Error == "" {
			ph.Error = "run timed out or interrupted: " + ctx.Err().Error()
		}
		res.Phases = append(res.Phases, ph)
		report.WritePhase(table, ph)
	}
	// A phase may leave a part to finish after the others (tcp's memory,
	// which Go returns only after its next GC).
	var later []func(context.Context) report.Phase
	for _, name := range o.only {
		if ctx.Err() != nil {
			add(report.Phase{Name: name, Error: "not run"})
			continue
		}
		fmt.Fprintf(log, "netlab-soak: phase %s\n", name)
		ph, finish := runPhase(ctx, name, o, &procs, log)
		add(ph)
		if finish != nil {
			later = append(later, finish)
		}
	}
	for _, finish := range later {
		fmt.Fprintln(log, "netlab-soak: waiting for tcp-echo's memory")
		add(finish(ctx))
	}
	res.LoadAvgEnd = loadAvg()
	res.Finish(time.Since(res.Started))
	if o.json {
		if err := res.WriteJSON(stdout); err != nil {
			fmt.Fprintln(stderr, "netlab-soak:", err)
			return 1
		}
	} else {
		report.WriteSummary(stdout, &res)
	}
	if !res.Passed {
		return 1
	}
	return 0
}

// loadAvg is the host's 1, 5 and 15 minute load averages: other work on
// the machine shows in every figure.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func runPhase(ctx context.Context, name string, o options, procs *proc.Group, log io.Writer) (report.Phase, func(context.Context) report.Phase) {
	switch name {
	case "tcp":
		return tcpsoak.Run(ctx, tcpsoak.Config{Bin: o.bin, Procs: procs, Log: log,
			Conns: o.tcpConns, Active: o.tcpActive, Hold: scaled(o.tcpHold, o.scale), Settle: o.tcpSettle, RSSWait: o.tcpRSSWait})
	case "udp":
		return udpsoak.Run(ctx, udpsoak.Config{Bin: o.bin, Procs: procs, Log: log,
			Duration: scaled(o.udpDuration, o.scale), Flooders: o.udpFlooders, Rate: o.udpRate, Unpinned: o.udpUnpinned}), nil
	case "http":
		return httpsoak.Run(ctx, httpsoak.Config{Bin: o.bin, Procs: procs, Log: log,
			Duration: scaled(o.httpDuration, o.scale), Slow: o.httpSlow, Clients: o.httpClients}), nil
	case "peer":
		return peersoak.Run(ctx, peersoak.Config{Bin: o.bin, Procs: procs, Log: log,
			Nodes: o.peerNodes, Size: int64(o.peerMiB) << 20, Bound: o.peerBound}), nil
	}
	return report.Phase{Name: name, Error: "unknown phase"}, nil
}
