package client_test

import (
	"context"
	"encoding/json"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/netlab/netlab/services/platform/addrtest"
	"github.com/netlab/netlab/services/platform/clientcli/clitest"
	"github.com/netlab/netlab/services/tcp-echo/internal/client"
)

func TestMain_Modes(t *testing.T) {
	echoAddr := startServer(t, echo)
	closing := startServer(t, closeAfter(5*64))
	corrupt := startServer(t, corruptAt(100))
	dead := addrtest.ClosedTCP(t)
	clitest.RunCases(t, client.Main, clitest.AddrCases("tcp-echo-client", client.AddrEnv, echoAddr, dead, "Received b'Hello, world'\n"))
	clitest.RunCases(t, client.Main, []clitest.Case{
		{Name: "message", Args: []string{"--addr", echoAddr, "--message", "it's"},
			Stdout: []string{"Received b\"it's\"\n"}, Exact: true},
		{Name: "count", Args: []string{"--addr", echoAddr, "--count", "3", "--interval", "0s"},
			Stdout: []string{"3 sent, 3 ok, 0 errors\nrtt min/avg/p50/p90/p99/p99.9/max = "}},
		{Name: "bulk", Args: []string{"-addr", echoAddr, "-bulk", "1MiB"},
			Stdout: []string{"match: yes\n"}},
		{Name: "unreachable", Args: []string{"--addr", dead},
			Code: 1, Stderr: "tcp-echo-client: cannot reach " + dead + ": connection refused\n"},
		{Name: "unreachable count", Args: []string{"--addr", dead, "--count", "2"},
			Code: 1, Stderr: "cannot reach "},
		{Name: "unreachable bulk", Args: []string{"--addr", dead, "--bulk", "1KiB"},
			Code: 1, Stderr: "cannot reach "},
		{Name: "load", Args: []string{"--addr", echoAddr, "--load", "--connections", "3", "--duration", "100ms"},
			Stdout: []string{"\n0 errors, 0 of 3 connections failed\n"}},
		{Name: "load defaults", Args: []string{"--addr", echoAddr, "--load", "--duration", "100ms"},
			Stdout: []string{"\n8 connections, 64-byte messages, "}},
		{Name: "load with size and timeout", Args: []string{"--addr", echoAddr, "--load", "--connections", "2", "--size", "256KiB", "--duration", "100ms", "--timeout", "2s"},
			Stdout: []string{"\n2 connections, 262144-byte messages, "}},
		{Name: "load server closes mid-run", Args: []string{"--addr", closing, "--load", "--connections", "4", "--duration", "1h", "--timeout", "1s"},
			Code: 1, Stdout: []string{"\n20 round trips, "}, Stderr: "tcp-echo-client: 4 of 4 connections failed (first: server closed the connection after echoing 0 of 64 bytes)\n"},
		{Name: "load wrong echo", Args: []string{"--addr", corrupt, "--load", "--connections", "1", "--duration", "1h", "--timeout", "1s"},
			Code: 1, Stdout: []string{"\n1 round trips, "}, Stderr: "1 of 1 connections failed (first: echo mismatch at offset 36: sent 0x"},
		{Name: "load unreachable", Args: []string{"--addr", dead, "--load", "--connections", "2"},
			Code: 1, Stdout: []string{"\n2 errors (dial 2), 2 of 2 connections failed\n"}, Stderr: "2 of 2 connections failed (first: cannot reach "},
		{Name: "load count", Args: []string{"--addr", echoAddr, "--load", "--connections", "3", "--count", "50"},
			Stdout: []string{"\n3 connections, 64-byte messages, ", "s, 50 round trips asked\n50 round trips, ", "% #", "\n0 errors, 0 of 3 connections failed\n"}},
		{Name: "load open loop", Args: []string{"--addr", echoAddr, "--load", "--connections", "2", "--rate", "200", "--duration", "200ms"},
			Stdout: []string{"s, rate 200/s\n", "\nschedule rate 200/s asked, ", "\nlatency  min/avg/p50/p90/p99/p99.9/max = ",
				" (from the scheduled start)\nrtt      min/avg/p50/p90/p99/p99.9/max = ", " (from the actual start)\n", "% #", "\n0 errors, 0 of 2 connections failed\n"}},
		{Name: "bulk parallel", Args: []string{"--addr", echoAddr, "--bulk", "1MiB", "--parallel", "3"},
			Stdout: []string{"bulk: 3 streams × 1048576 bytes to " + echoAddr + ", 3145728 echoed in ", "\nmatch: yes\nstream 1: 1048576 echoed in ",
				"\nstream 2: 1048576 echoed in ", "\nstream 3: 1048576 echoed in ", ", match yes"}},
		{Name: "bad size", Args: []string{"--bulk", "12XB"}, Code: 2, Stderr: `invalid size "12XB"`},
		{Name: "zero size", Args: []string{"--bulk", "0"}, Code: 2, Stderr: "invalid --bulk 0"},
		{Name: "size over cap", Args: []string{"--bulk", "65GiB"}, Code: 2, Stderr: "invalid --bulk 65GiB"},
		{Name: "count zero", Args: []string{"--count", "0"}, Code: 2, Stderr: "invalid --count 0"},
		{Name: "count over cap", Args: []string{"--count", "10000001"}, Code: 2, Stderr: "invalid --count 10000001"},
		{Name: "count not a number", Args: []string{"--count", "x"}, Code: 2, Stderr: "invalid value"},
		{Name: "negative interval", Args: []string{"--count", "2", "--interval", "-1s"}, Code: 2, Stderr: "invalid --interval"},
		{Name: "interval without count", Args: []string{"--interval", "1s"}, Code: 2, Stderr: "--interval needs --count"},
		{Name: "zero timeout", Args: []string{"--timeout", "0s"}, Code: 2, Stderr: "invalid --timeout"},
		{Name: "empty message", Args: []string{"--message", ""}, Code: 2, Stderr: "invalid --message"},
		{Name: "huge message", Args: []string{"--message", strings.Repeat("x", 1<<20+1)}, Code: 2, Stderr: "invalid --message"},
		{Name: "bulk with count", Args: []string{"--bulk", "1MiB", "--count", "2"}, Code: 2, Stderr: "cannot be combined"},
		{Name: "load with bulk", Args: []string{"--load", "--bulk", "1MiB"}, Code: 2, Stderr: "--load cannot be combined with --bulk"},
		{Name: "load with interval", Args: []string{"--load", "--count", "2", "--interval", "1s"}, Code: 2, Stderr: "--load cannot be combined with --interval"},
		{Name: "load count zero", Args: []string{"--load", "--count", "0"}, Code: 2, Stderr: "invalid --count 0: must be between 1 and "},
		{Name: "rate without load", Args: []string{"--rate", "100"}, Code: 2, Stderr: "--rate needs --load"},
		{Name: "negative rate", Args: []string{"--load", "--rate", "-1"}, Code: 2, Stderr: "invalid --rate -1: must be between 0 (closed loop) and 10000000"},
		{Name: "rate not a number", Args: []string{"--load", "--rate", "NaN"}, Code: 2, Stderr: "invalid --rate NaN"},
		{Name: "parallel without bulk", Args: []string{"--parallel", "2"}, Code: 2, Stderr: "--parallel needs --bulk"},
		{Name: "parallel zero", Args: []string{"--bulk", "1MiB", "--parallel", "0"}, Code: 2, Stderr: "invalid --parallel 0: must be between 1 and 128"},
		{Name: "parallel over cap", Args: []string{"--bulk", "1MiB", "--parallel", "129"}, Code: 2, Stderr: "invalid --parallel 129"},
		{Name: "save without load or bulk", Args: []string{"--count", "1", "--save", "x.json"}, Code: 2, Stderr: "--save needs --load or --bulk"},
		{Name: "save without a file", Args: []string{"--load", "--save", ""}, Code: 2, Stderr: "invalid --save: give a file name"},
		{Name: "label without save", Args: []string{"--load", "--label", "x"}, Code: 2, Stderr: "--label is only for --save"},
		{Name: "load with message", Args: []string{"--load", "--message", "x"}, Code: 2, Stderr: "--load cannot be combined with --message"},
		{Name: "connections zero", Args: []string{"--load", "--connections", "0"}, Code: 2, Stderr: "invalid --connections 0: must be between 1 and 10000"},
		{Name: "connections over cap", Args: []string{"--load", "--connections", "10001"}, Code: 2, Stderr: "invalid --connections 10001"},
		{Name: "connections not a number", Args: []string{"--load", "--connections", "x"}, Code: 2, Stderr: "invalid value \"x\" for flag -connections"},
		{Name: "size zero", Args: []string{"--load", "--size", "0"}, Code: 2, Stderr: "invalid --size 0: must be between 1 byte and 1MiB"},
		{Name: "size over cap", Args: []string{"--load", "--size", "1048577"}, Code: 2, Stderr: "invalid --size 1048577"},
		{Name: "bad size unit", Args: []string{"--load", "--size", "64XB"}, Code: 2, Stderr: `--size: invalid size "64XB"`},
		{Name: "duration too short", Args: []string{"--load", "--duration", "99ms"}, Code: 2, Stderr: "invalid --duration 99ms: must be between 100ms and 1h"},
		{Name: "duration too long", Args: []string{"--load", "--duration", "61m"}, Code: 2, Stderr: "invalid --duration 1h1m0s"},
		{Name: "duration not a duration", Args: []string{"--load", "--duration", "10"}, Code: 2, Stderr: "for flag -duration"},
		{Name: "connections without load", Args: []string{"--connections", "5"}, Code: 2, Stderr: "--connections needs --load"},
		{Name: "size without load", Args: []string{"--size", "64"}, Code: 2, Stderr: "--size needs --load"},
		{Name: "duration without load", Args: []string{"--load=false", "--duration", "1s"}, Code: 2, Stderr: "--duration needs --load"},
		{Name: "report interval without a mode", Args: []string{"--report-interval", "1s"}, Code: 2, Stderr: "--report-interval"},
		{Name: "report interval too short", Args: []string{"--count", "1", "--report-interval", "1ms"}, Code: 2, Stderr: "--report-interval"},
	})
}

func TestMain_JSON(t *testing.T) {
	addr := startServer(t, echo)
	for _, args := range [][]string{
		{"--addr", addr, "--json"},
		{"--addr", addr, "--json", "--count", "2", "--interval", "0s"},
		{"--addr", addr, "--json", "--bulk", "64KiB"},
		{"--addr", addr, "--json", "--load", "--connections", "2", "--duration", "100ms"},
		{"--addr", addr, "--json", "--load", "--connections", "2", "--count", "20", "--rate", "1000"},
		{"--addr", addr, "--json", "--bulk", "64KiB", "--parallel", "4"},
	} {
		var v map[string]any
		clitest.RunObject(t, client.Main, 0, &v, args...)
	}
}

func TestMain_LoadJSON(t *testing.T) {
	tests := []struct {
		name       string
		handle     func(net.Conn)
		wantCode   int
		wantOps    int // -1: some
		wantErrors map[string]int
		wantFailed int
	}{
		{"echo", echo, 0, -1, map[string]int{}, 0},
		{"server closes mid-run", closeAfter(3 * 64), 1, 6, map[string]int{"short_read": 2}, 2},
		{"server echoes wrong bytes", corruptAt(64 + 5), 1, 2, map[string]int{"mismatch": 2}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startServer(t, tt.handle)
			var v loadJSON
			stdout := clitest.RunObject(t, client.Main, tt.wantCode, &v,
				"--addr", addr, "--load", "--json", "--connections", "2", "--size", "64", "--duration", "200ms")
			if v.Connections != 2 || v.DurationSeconds <= 0 {
				t.Errorf("JSON %s", stdout)
			}
			if tt.wantOps < 0 && v.Ops <= 0 || tt.wantOps >= 0 && v.Ops != int64(tt.wantOps) {
				t.Errorf("ops %v, want %v", v.Ops, tt.wantOps)
			}
			v.check(t, 64, tt.wantFailed, tt.wantErrors)
		})
	}
}

// TestMain_LoadInterrupted is Ctrl-C during --load: the run ends early, the
// summary is printed, and good round trips so far make it a success.
func TestMain_LoadInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addr := startServer(t, cancelAfter(50, cancel)) // cancel is what SIGINT does
	code, stdout, stderr := clitest.Run(ctx, client.Main, []string{"--addr", addr, "--load", "--connections", "2", "--duration", "1h"}, nil)
	if code != 0 || stderr != "" {
		t.Errorf("exit %d, stderr %q; want 0 and nothing", code, stderr)
	}
	if !strings.Contains(stdout, "s (interrupted)\n") || !strings.Contains(stdout, "\n0 errors, 0 of 2 connections failed\n") {
		t.Errorf("summary:\n%s", stdout)
	}
}

// TestMain_ReportInterval runs each long mode with --report-interval and
// --json: interval objects come first, one a line, then the summary, and
// the intervals add up to it.
func TestMain_ReportInterval(t *testing.T) {
	addr := startServer(t, echo)
	tests := []struct {
		name      string
		args      []string
		wantOps   func(summary map[string]float64) float64 // what the intervals' ops add up to
		wantBytes func(summary map[string]float64) float64
	}{
		{name: "load", args: []string{"--load", "--connections", "3", "--duration", "300ms", "--report-interval", "50ms"},
			wantOps:   func(s map[string]float64) float64 { return s["ops"] },
			wantBytes: func(s map[string]float64) float64 { return s["ops"] * 64 }},
		{name: "count", args: []string{"--count", "30", "--interval", "10ms", "--report-interval", "50ms"},
			wantOps:   func(s map[string]float64) float64 { return s["ok"] },
			wantBytes: func(s map[string]float64) float64 { return s["ok"] * 12 }},
		{name: "bulk", args: []string{"--bulk", "256MiB", "--report-interval", "10ms"},
			wantOps:   func(map[string]float64) float64 { return 0 },
			wantBytes: func(s map[string]float64) float64 { return s["echoed"] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, _ := clitest.MustRun(t, client.Main, 0, append([]string{"--addr", addr, "--json"}, tt.args...)...)
			r := clitest.ParseReport(t, stdout)
			var summary map[string]float64
			_ = json.Unmarshal(r.Summary, &summary) // the strings and objects do not fit: numbers are what counts
			r.EveryOpTimed(t)
			sum := r.Sum()
			if len(r.Intervals) < 2 || float64(sum.Ops) != tt.wantOps(summary) ||
				float64(sum.Bytes) != tt.wantBytes(summary) || sum.Bytes == 0 {
				t.Errorf("%d intervals adding up to %+v; summary %s", len(r.Intervals), sum, r.Summary)
			}
		})
	}
}

func TestMain_ReportIntervalText(t *testing.T) {
	addr := startServer(t, echo)
	stdout, _ := clitest.MustRun(t, client.Main, 0, "--load", "--duration", "250ms", "--report-interval", "100ms", "--addr", addr)
	if !regexp.MustCompile(`^\[   0\.00-   0\.\d\d s\] \d+ ops `).MatchString(stdout) ||
		!strings.Contains(stdout, " latency p50/p90/p99/p99.9/max = ") || !strings.Contains(stdout, "--- "+addr+" tcp-echo load ---") {
		t.Errorf("stdout:\n%s", stdout)
	}
}
