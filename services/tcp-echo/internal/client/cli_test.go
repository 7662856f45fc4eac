package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/netlab/netlab/services/tcp-echo/internal/client"
)

// runMain runs tcp-echo-client with args and the environment env.
func runMain(ctx context.Context, args []string, env map[string]string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = client.Main(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestMain_Modes(t *testing.T) {
	echoAddr := startServer(t, echo)
	closing := startServer(t, closeAfter(5*64))
	corrupt := startServer(t, corruptAt(100))
	dead := unreachable(t)
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantStdout string // substring; exact when wantExact
		wantExact  bool
		wantStderr string // substring
	}{
		{name: "default hello via env", env: map[string]string{"TCP_ECHO_ADDR": echoAddr},
			wantCode: 0, wantStdout: "Received b'Hello, world'\n", wantExact: true},
		{name: "addr flag beats env", args: []string{"--addr", echoAddr}, env: map[string]string{"TCP_ECHO_ADDR": dead},
			wantCode: 0, wantStdout: "Received b'Hello, world'\n", wantExact: true},
		{name: "message", args: []string{"--addr", echoAddr, "--message", "it's"},
			wantCode: 0, wantStdout: "Received b\"it's\"\n", wantExact: true},
		{name: "count", args: []string{"--addr", echoAddr, "--count", "3", "--interval", "0s"},
			wantCode: 0, wantStdout: "3 sent, 3 ok, 0 errors\nrtt min/avg/p50/p90/p99/p99.9/max = "},
		{name: "bulk", args: []string{"-addr", echoAddr, "-bulk", "1MiB"},
			wantCode: 0, wantStdout: "match: yes\n"},
		{name: "unreachable", args: []string{"--addr", dead},
			wantCode: 1, wantStderr: "tcp-echo-client: cannot reach " + dead + ": connection refused\n"},
		{name: "unreachable count", args: []string{"--addr", dead, "--count", "2"},
			wantCode: 1, wantStderr: "cannot reach "},
		{name: "unreachable bulk", args: []string{"--addr", dead, "--bulk", "1KiB"},
			wantCode: 1, wantStderr: "cannot reach "},
		{name: "load", args: []string{"--addr", echoAddr, "--load", "--connections", "3", "--duration", "100ms"},
			wantCode: 0, wantStdout: "\n0 errors, 0 of 3 connections failed\n"},
		{name: "load defaults", args: []string{"--addr", echoAddr, "--load", "--duration", "100ms"},
			wantCode: 0, wantStdout: "\n8 connections, 64-byte messages, "},
		{name: "load with size and timeout", args: []string{"--addr", echoAddr, "--load", "--connections", "2", "--size", "256KiB", "--duration", "100ms", "--timeout", "2s"},
			wantCode: 0, wantStdout: "\n2 connections, 262144-byte messages, "},
		{name: "load server closes mid-run", args: []string{"--addr", closing, "--load", "--connections", "4", "--duration", "1h", "--timeout", "1s"},
			wantCode: 1, wantStdout: "\n20 round trips, ", wantStderr: "tcp-echo-client: 4 of 4 connections failed (first: server closed the connection after echoing 0 of 64 bytes)\n"},
		{name: "load wrong echo", args: []string{"--addr", corrupt, "--load", "--connections", "1", "--duration", "1h", "--timeout", "1s"},
			wantCode: 1, wantStdout: "\n1 round trips, ", wantStderr: "1 of 1 connections failed (first: echo mismatch at offset 36: sent 0x"},
		{name: "load unreachable", args: []string{"--addr", dead, "--load", "--connections", "2"},
			wantCode: 1, wantStdout: "\n2 errors (dial 2), 2 of 2 connections failed\n", wantStderr: "2 of 2 connections failed (first: cannot reach "},
		{name: "help", args: []string{"--help"}, wantCode: 0, wantStdout: "Usage: tcp-echo-client [flags]"},
		{name: "unknown flag", args: []string{"--bogus"}, wantCode: 2, wantStderr: "flag provided but not defined: -bogus"},
		{name: "bad size", args: []string{"--bulk", "12XB"}, wantCode: 2, wantStderr: `invalid size "12XB"`},
		{name: "zero size", args: []string{"--bulk", "0"}, wantCode: 2, wantStderr: "invalid --bulk 0"},
		{name: "size over cap", args: []string{"--bulk", "65GiB"}, wantCode: 2, wantStderr: "invalid --bulk 65GiB"},
		{name: "count zero", args: []string{"--count", "0"}, wantCode: 2, wantStderr: "invalid --count 0"},
		{name: "count over cap", args: []string{"--count", "10000001"}, wantCode: 2, wantStderr: "invalid --count 10000001"},
		{name: "count not a number", args: []string{"--count", "x"}, wantCode: 2, wantStderr: "invalid value"},
		{name: "negative interval", args: []string{"--count", "2", "--interval", "-1s"}, wantCode: 2, wantStderr: "invalid --interval"},
		{name: "interval without count", args: []string{"--interval", "1s"}, wantCode: 2, wantStderr: "--interval needs --count"},
		{name: "zero timeout", args: []string{"--timeout", "0s"}, wantCode: 2, wantStderr: "invalid --timeout"},
		{name: "empty message", args: []string{"--message", ""}, wantCode: 2, wantStderr: "invalid --message"},
		{name: "huge message", args: []string{"--message", strings.Repeat("x", 1<<20+1)}, wantCode: 2, wantStderr: "invalid --message"},
		{name: "bulk with count", args: []string{"--bulk", "1MiB", "--count", "2"}, wantCode: 2, wantStderr: "cannot be combined"},
		{name: "load with bulk", args: []string{"--load", "--bulk", "1MiB"}, wantCode: 2, wantStderr: "--load cannot be combined with --bulk"},
		{name: "load with count", args: []string{"--load", "--count", "2"}, wantCode: 2, wantStderr: "--load cannot be combined with --count"},
		{name: "load with message", args: []string{"--load", "--message", "x"}, wantCode: 2, wantStderr: "--load cannot be combined with --message"},
		{name: "connections zero", args: []string{"--load", "--connections", "0"}, wantCode: 2, wantStderr: "invalid --connections 0: must be between 1 and 10000"},
		{name: "connections over cap", args: []string{"--load", "--connections", "10001"}, wantCode: 2, wantStderr: "invalid --connections 10001"},
		{name: "connections not a number", args: []string{"--load", "--connections", "x"}, wantCode: 2, wantStderr: "invalid value \"x\" for flag -connections"},
		{name: "size zero", args: []string{"--load", "--size", "0"}, wantCode: 2, wantStderr: "invalid --size 0: must be between 1 byte and 1MiB"},
		{name: "size over cap", args: []string{"--load", "--size", "1048577"}, wantCode: 2, wantStderr: "invalid --size 1048577"},
		{name: "bad size unit", args: []string{"--load", "--size", "64XB"}, wantCode: 2, wantStderr: `--size: invalid size "64XB"`},
		{name: "duration too short", args: []string{"--load", "--duration", "99ms"}, wantCode: 2, wantStderr: "invalid --duration 99ms: must be between 100ms and 1h"},
		{name: "duration too long", args: []string{"--load", "--duration", "61m"}, wantCode: 2, wantStderr: "invalid --duration 1h1m0s"},
		{name: "duration not a duration", args: []string{"--load", "--duration", "10"}, wantCode: 2, wantStderr: "for flag -duration"},
		{name: "connections without load", args: []string{"--connections", "5"}, wantCode: 2, wantStderr: "--connections needs --load"},
		{name: "size without load", args: []string{"--size", "64"}, wantCode: 2, wantStderr: "--size needs --load"},
		{name: "duration without load", args: []string{"--load=false", "--duration", "1s"}, wantCode: 2, wantStderr: "--duration needs --load"},
		{name: "bad address", args: []string{"--addr", "localhost"}, wantCode: 2, wantStderr: `invalid address "localhost" from --addr`},
		{name: "bad env address", env: map[string]string{"TCP_ECHO_ADDR": "nohost"}, wantCode: 2, wantStderr: "from TCP_ECHO_ADDR"},
		{name: "positional argument", args: []string{"x"}, wantCode: 2, wantStderr: `unexpected argument "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t.Context(), tt.args, tt.env)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tt.wantCode, stderr)
			}
			if tt.wantExact && stdout != tt.wantStdout || !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("stdout %q, want %q", stdout, tt.wantStdout)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr %q, want %q", stderr, tt.wantStderr)
			}
			if tt.wantStderr == "" && stderr != "" {
				t.Errorf("unexpected stderr %q", stderr)
			}
		})
	}
}

func TestMain_JSON(t *testing.T) {
	addr := startServer(t, echo)
	for _, args := range [][]string{
		{"--addr", addr, "--json"},
		{"--addr", addr, "--json", "--count", "2", "--interval", "0s"},
		{"--addr", addr, "--json", "--bulk", "64KiB"},
		{"--addr", addr, "--json", "--load", "--connections", "2", "--duration", "100ms"},
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
		name    string
		args    []string
		opsKey  string // the summary's count of what the intervals' ops count
		bytesOf func(summary map[string]any) float64
	}{
		{name: "load", args: []string{"--load", "--connections", "3", "--duration", "300ms"}, opsKey: "ops",
			bytesOf: func(s map[string]any) float64 { return s["ops"].(float64) * 64 }},
		{name: "count", args: []string{"--count", "30", "--interval", "10ms"}, opsKey: "ok",
			bytesOf: func(s map[string]any) float64 { return s["ok"].(float64) * 12 }},
		{name: "bulk", args: []string{"--bulk", "64MiB"}, opsKey: "",
			bytesOf: func(s map[string]any) float64 { return s["echoed"].(float64) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--addr", addr, "--json", "--report-interval", "50ms"}, tt.args...)
			code, stdout, stderr := runMain(t.Context(), args, nil)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			var summary map[string]any
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &summary); err != nil || summary["type"] != nil {
				t.Fatalf("last line is not the summary (%v): %s", err, lines[len(lines)-1])
			}
			var ops, bytes, latencies float64
			for _, line := range lines[:len(lines)-1] {
				var iv struct {
					Type    string             `json:"type"`
					Ops     float64            `json:"ops"`
					Bytes   float64            `json:"bytes"`
					Latency map[string]float64 `json:"latency"`
				}
				if err := json.Unmarshal([]byte(line), &iv); err != nil || iv.Type != "interval" {
					t.Fatalf("not an interval line (%v): %s", err, line)
				}
				ops, bytes, latencies = ops+iv.Ops, bytes+iv.Bytes, latencies+iv.Latency["n"]
			}
			if len(lines) < 3 {
				t.Errorf("%d interval lines, want at least 2:\n%s", len(lines)-1, stdout)
			}
			if tt.opsKey != "" && (ops != summary[tt.opsKey] || latencies != ops) {
				t.Errorf("intervals: %v ops, %v latencies; summary %s = %v", ops, latencies, tt.opsKey, summary[tt.opsKey])
			}
			if want := tt.bytesOf(summary); bytes != want || want == 0 {
				t.Errorf("intervals: %v bytes, summary: %v", bytes, want)
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
