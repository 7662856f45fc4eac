// Package soak runs netlab's servers natively on loopback under sustained
// load and checks they hold: tcp-echo at 10,000 connections, a UDP flood
// beside a well-behaved client, slowloris against http-hello, a 10-node
// peer swarm sharing a 256 MiB file. `netlab soak` runs it, and
// `make soak` runs that.
//
// Every phase has one shape (see phase.go): it gets an Env, records its
// figures and checks on a Phase, and is timed by the run.
package soak

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/internal/cli"
	"github.com/netlab/netlab/lab/internal/proc"
)

// prog names the command in messages.
const prog = "netlab soak"

const usage = `usage: netlab soak [flags]

Runs netlab's servers (from -bin) natively on loopback under sustained load,
phase by phase, and checks they hold; exit 1 when a check fails.
Every flag can also be set as SOAK_<FLAG> (-tcp-hold: SOAK_TCP_HOLD); a flag
on the command line wins.`

// Main is `netlab soak`: it parses the flags, runs the phases and returns
// the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	o, code, ok := parseFlags(args, getenv, stdout, stderr)
	if !ok {
		return code
	}
	for _, b := range []string{"tcp-echo", "udp-responder", "http-hello", "peer"} {
		if _, err := os.Stat(o.bin + "/" + b); err != nil {
			return cli.UsageError(stderr, prog, fmt.Errorf("-bin: %w (run make build first)", err))
		}
	}
	// Each side of every tcp connection is a file here and in the server.
	limit, err := proc.RaiseFileLimit(uint64(max(o.tcpConns, o.httpSlow) + 1024))
	if err != nil {
		return cli.Failure(stderr, prog, err)
	}
	res := run(ctx, o, limit, stdout, stderr)
	if o.json {
		if err := res.WriteJSON(stdout); err != nil {
			return cli.Failure(stderr, prog, err)
		}
	} else {
		WriteSummary(stdout, res)
	}
	if !res.Passed {
		return cli.ExitFailure
	}
	return cli.ExitOK
}

// parseFlags reads the command line, then SOAK_<FLAG> for every flag not
// on it, and checks the result. When ok is false, code is the exit code.
func parseFlags(args []string, getenv func(string) string, stdout, stderr io.Writer) (o options, code int, ok bool) {
	o = defaults()
	fs := cli.NewFlags(prog)
	define(fs, o.flags())
	if code, ok := cli.Parse(fs, args, usage, stdout, stderr); !ok {
		return o, code, false
	}
	if err := envDefaults(fs, getenv); err != nil {
		return o, cli.UsageError(stderr, prog, err), false
	}
	if err := o.parseOnly(); err != nil {
		return o, cli.UsageError(stderr, prog, err), false
	}
	if err := o.validate(); err != nil {
		return o, cli.UsageError(stderr, prog, err), false
	}
	return o, 0, true
}

// run runs the chosen phases in order, then the parts they left for the
// end, printing each phase's table as it ends (unless -json), and returns
// the whole result.
func run(ctx context.Context, o options, fileLimit uint64, stdout, log io.Writer) *Result {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	var procs proc.Group
	defer procs.StopAll()
	// If a phase ignores the deadline, stop the servers anyway (that ends
	// its loads) so the run still ends.
	stopLate := context.AfterFunc(ctx, func() {
		time.Sleep(15 * time.Second)
		procs.StopAll()
	})
	defer stopLate()
	env := Env{Bin: o.bin, Procs: &procs, Log: log}
	table := stdout
	if o.json {
		table = io.Discard
	}
	la := loadAvg()
	fmt.Fprintf(log, "%s: phases %s, scale %g, timeout %s, open-file limit %d, load average %s\n",
		prog, strings.Join(o.only, ","), o.scale, o.timeout, fileLimit, la)
	res := runPhases(ctx, env, o.phases(), table)
	res.LoadAvg = la
	return res
}

// runPhases runs phases in order, then the parts they left for the end,
// writing each phase's table to table as it ends. Once ctx ends, the
// phases not yet started are recorded as not run.
func runPhases(ctx context.Context, env Env, phases []phase, table io.Writer) *Result {
	res := &Result{Started: time.Now()}
	add := func(ph Phase) {
		if ctx.Err() != nil && ph.Error == "" {
			ph.Error = "run timed out or interrupted: " + ctx.Err().Error()
		}
		res.Phases = append(res.Phases, ph)
		WritePhase(table, ph)
	}
	var later []phase
	for _, p := range phases {
		name, _ := p.describe()
		if ctx.Err() != nil {
			add(Phase{Name: name, Error: "not run"})
			continue
		}
		fmt.Fprintf(env.Log, "%s: phase %s\n", prog, name)
		add(timed(ctx, env, p))
		if d, ok := p.(deferred); ok && d.later() != nil {
			later = append(later, d.later())
		}
	}
	for _, p := range later {
		name, _ := p.describe()
		fmt.Fprintf(env.Log, "%s: phase %s, after the others\n", prog, name)
		add(timed(ctx, env, p))
	}
	res.LoadAvgEnd = loadAvg()
	res.Finish(time.Since(res.Started))
	return res
}

// phases are the chosen phases, in order, with their settings.
func (o options) phases() []phase {
	var out []phase
	for _, name := range o.only {
		switch name {
		case "tcp":
			out = append(out, &tcpSoak{conns: o.tcpConns, active: o.tcpActive, hold: scaled(o.tcpHold, o.scale),
				settle: o.tcpSettle, rssWait: o.tcpRSSWait})
		case "udp":
			out = append(out, &udpSoak{duration: scaled(o.udpDuration, o.scale), flooders: o.udpFlooders,
				rate: o.udpRate, unpinned: o.udpUnpinned})
		case "http":
			out = append(out, &httpSoak{duration: scaled(o.httpDuration, o.scale), slow: o.httpSlow, clients: o.httpClients})
		case "peer":
			out = append(out, &peerSoak{nodes: o.peerNodes, size: int64(o.peerMiB) << 20, bound: o.peerBound})
		}
	}
	return out
}

// scaled shortens (or lengthens) a load duration, never below a second.
func scaled(d time.Duration, scale float64) time.Duration {
	return max(time.Second, time.Duration(float64(d)*scale).Round(100*time.Millisecond))
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
