package client_test

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/netlab/netlab/services/platform/clientcli/clitest"
	"github.com/netlab/netlab/services/tcp-echo/internal/client"
)

// runMain runs tcp-echo-client with args and the environment env.
func runMain(ctx context.Context, args []string, env map[string]string) (code int, stdout, stderr string) {
	return clitest.Run(ctx, client.Main, args, env)
}

func TestMain_Modes(t *testing.T) {
	echoAddr := startServer(t, echo)
	closing := startServer(t, closeAfter(5*64))
	corrupt := startServer(t, corruptAt(100))
	dead := unreachable(t)
	clitest.RunCases(t, client.Main, []clitest.Case{
		{Name: "default hello via env", Env: map[string]string{"TCP_ECHO_ADDR": echoAddr},
			Stdout: []string{"Received b'Hello, world'\n"}, Exact: true},
		{Name: "addr flag beats env", Args: []string{"--addr", echoAddr}, Env: map[string]string{"TCP_ECHO_ADDR": dead},
			Stdout: []string{"Received b'Hello, world'\n"}, Exact: true},
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
		{Name: "help", Args: []string{"--help"}, Stdout: []string{"Usage: tcp-echo-client [flags]"}},
		{Name: "unknown flag", Args: []string{"--bogus"}, Code: 2, Stderr: "flag provided but not defined: -bogus"},
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
		{Name: "bad address", Args: []string{"--addr", "localhost"}, Code: 2, Stderr: `invalid address "localhost" from --addr`},
		{Name: "bad env address", Env: map[string]string{"TCP_ECHO_ADDR": "nohost"}, Code: 2, Stderr: "from TCP_ECHO_ADDR"},
		{Name: "positional argument", Args: []string{"x"}, Code: 2, Stderr: `unexpected argument "x"`},
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
		code, stdout, stderr := runMain(t.Context(), args, nil)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(stdout), &v); err != nil || strings.Count(stdout, "\n") != 1 {
			t.Errorf("%v: not one JSON object (%v): %q", args, err, stdout)
		}
	}
}

func TestMain_LoadJSON(t *testing.T) {
	tests := []struct {
		name       string
		handle     func(net.Conn)
		wantCode   int
		wantOps    float64 // -1: some
		wantErrors map[string]float64
		wantFailed float64
	}{
		{"echo", echo, 0, -1, map[string]float64{}, 0},
		{"server closes mid-run", closeAfter(3 * 64), 1, 6, map[string]float64{"short_read": 2}, 2},
		{"server echoes wrong bytes", corruptAt(64 + 5), 1, 2, map[string]float64{"mismatch": 2}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startServer(t, tt.handle)
			args := []string{"--addr", addr, "--load", "--json", "--connections", "2", "--size", "64", "--duration", "200ms"}
			code, stdout, stderr := runMain(t.Context(), args, nil)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.wantCode, stderr)
			}
			var v struct {
				Mode              string             `json:"mode"`
				Connections       float64            `json:"connections"`
				Size              float64            `json:"size"`
				DurationSeconds   float64            `json:"duration_seconds"`
				Ops               float64            `json:"ops"`
				OpsPerSecond      float64            `json:"ops_per_second"`
				BytesPerSecond    float64            `json:"bytes_per_second"`
				Latency           map[string]float64 `json:"latency"`
				Errors            map[string]float64 `json:"errors"`
				FailedConnections *float64           `json:"failed_connections"`
			}
			if err := json.Unmarshal([]byte(stdout), &v); err != nil {
				t.Fatalf("%v: %s", err, stdout)
			}
			if v.Mode != "load" || v.Connections != 2 || v.Size != 64 || v.DurationSeconds <= 0 || v.FailedConnections == nil || *v.FailedConnections != tt.wantFailed {
				t.Errorf("JSON %s", stdout)
			}
			if tt.wantOps < 0 && v.Ops <= 0 || tt.wantOps >= 0 && v.Ops != tt.wantOps {
				t.Errorf("ops %v, want %v", v.Ops, tt.wantOps)
			}
			if want := v.Ops / v.DurationSeconds; math.Abs(v.OpsPerSecond-want) > 1e-9*want {
				t.Errorf("ops_per_second %v, want ops/duration_seconds %v", v.OpsPerSecond, want)
			}
			if want := v.OpsPerSecond * 64; math.Abs(v.BytesPerSecond-want) > 1e-9*want {
				t.Errorf("bytes_per_second %v, want %v", v.BytesPerSecond, want)
			}
			if len(v.Latency) != 8 || v.Latency["n"] != v.Ops {
				t.Errorf("latency %v, want the 8 keys and n = ops %v", v.Latency, v.Ops)
			}
			for _, k := range []string{"min_ns", "avg_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"} {
				if _, ok := v.Latency[k]; !ok {
					t.Errorf("latency.%s missing", k)
				}
			}
			for _, k := range []string{"dial", "timeout", "short_read", "mismatch", "reset", "other"} {
				if got, ok := v.Errors[k]; !ok || got != tt.wantErrors[k] {
					t.Errorf("errors.%s = %v (present %v), want %v", k, got, ok, tt.wantErrors[k])
				}
			}
		})
	}
}

// TestMain_LoadInterrupted is Ctrl-C during --load: the run ends early, the
// summary is printed, and good round trips so far make it a success.
func TestMain_LoadInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var n atomic.Int64
	addr := startServer(t, func(c net.Conn) {
		buf := make([]byte, 64)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			if n.Add(1) == 50 {
				cancel() // what SIGINT does
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	})
	code, stdout, stderr := runMain(ctx, []string{"--addr", addr, "--load", "--connections", "2", "--duration", "1h"}, nil)
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
			args := append([]string{"--addr", addr, "--json"}, tt.args...)
			code, stdout, stderr := runMain(t.Context(), args, nil)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			r := clitest.ParseReport(t, stdout)
			var summary map[string]float64
			_ = json.Unmarshal(r.Summary, &summary) // the strings and objects do not fit: numbers are what counts
			for _, iv := range r.Intervals {
				if iv.Latency.N != iv.Ops {
					t.Errorf("interval %+v: %d round trips, %d latencies", iv, iv.Ops, iv.Latency.N)
				}
			}
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
	code, stdout, stderr := runMain(t.Context(), []string{"--load", "--duration", "250ms", "--report-interval", "100ms", "--addr", addr}, nil)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !regexp.MustCompile(`^\[   0\.00-   0\.\d\d s\] \d+ ops `).MatchString(stdout) ||
		!strings.Contains(stdout, " latency p50/p90/p99/p99.9/max = ") || !strings.Contains(stdout, "--- "+addr+" tcp-echo load ---") {
		t.Errorf("stdout:\n%s", stdout)
	}
	for _, tt := range []struct{ args []string }{
		{[]string{"--report-interval", "1s"}},
		{[]string{"--count", "1", "--report-interval", "1ms"}},
	} {
		code, _, stderr := runMain(t.Context(), tt.args, nil)
		if code != 2 || !strings.Contains(stderr, "--report-interval") {
			t.Errorf("%q: exit %d, %q; want a usage error naming --report-interval", tt.args, code, stderr)
		}
	}
}
