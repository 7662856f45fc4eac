package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// startEcho runs an io.Copy echo server on 127.0.0.1:0.
func startEcho(t *testing.T) string {
	t.Helper()
	return startServer(t, func(c net.Conn) { _, _ = io.Copy(c, c) })
}

// startServer runs handle for each connection accepted on 127.0.0.1:0 and
// closes the connection when it returns.
func startServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("accept: %v", err)
				}
				return
			}
			wg.Go(func() {
				defer c.Close()
				handle(c)
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// closeAfter echoes n bytes, then closes its side (FIN) and drains the
// rest, so that the client sees a clean early EOF rather than a reset.
func closeAfter(n int64) func(net.Conn) {
	return func(c net.Conn) {
		_, _ = io.CopyN(c, c, n)
		_ = c.(*net.TCPConn).CloseWrite()
		_, _ = io.Copy(io.Discard, c)
	}
}

// corruptEcho echoes with the byte at stream offset off flipped.
func corruptEcho(off int) func(net.Conn) {
	return func(c net.Conn) {
		buf := make([]byte, 1)
		for pos := 0; ; pos++ {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			if pos == off {
				buf[0] ^= 1
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}
}

func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func TestRun(t *testing.T) {
	echo := startEcho(t)
	closing := startServer(t, closeAfter(5*64))
	corrupt := startServer(t, corruptEcho(100))
	dead := closedAddr(t)
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantStdout string // substring; exact when wantExact
		wantExact  bool
		wantStderr string // substring
	}{
		{name: "default hello via env", env: map[string]string{"TCP_ECHO_ADDR": echo},
			wantCode: 0, wantStdout: "Received b'Hello, world'\n", wantExact: true},
		{name: "addr flag beats env", args: []string{"--addr", echo}, env: map[string]string{"TCP_ECHO_ADDR": dead},
			wantCode: 0, wantStdout: "Received b'Hello, world'\n", wantExact: true},
		{name: "message", args: []string{"--addr", echo, "--message", "it's"},
			wantCode: 0, wantStdout: "Received b\"it's\"\n", wantExact: true},
		{name: "count", args: []string{"--addr", echo, "--count", "3", "--interval", "0s"},
			wantCode: 0, wantStdout: "3 sent, 3 ok, 0 errors\nrtt min/avg/p50/p99/max = "},
		{name: "bulk", args: []string{"-addr", echo, "-bulk", "1MiB"},
			wantCode: 0, wantStdout: "match: yes\n"},
		{name: "unreachable", args: []string{"--addr", dead},
			wantCode: 1, wantStderr: "tcp-echo-client: cannot reach " + dead + ": connection refused\n"},
		{name: "unreachable count", args: []string{"--addr", dead, "--count", "2"},
			wantCode: 1, wantStderr: "cannot reach "},
		{name: "unreachable bulk", args: []string{"--addr", dead, "--bulk", "1KiB"},
			wantCode: 1, wantStderr: "cannot reach "},
		{name: "load", args: []string{"--addr", echo, "--load", "--connections", "3", "--duration", "100ms"},
			wantCode: 0, wantStdout: "\n0 errors, 0 of 3 connections failed\n"},
		{name: "load defaults", args: []string{"--addr", echo, "--load", "--duration", "100ms"},
			wantCode: 0, wantStdout: "\n8 connections, 64-byte messages, "},
		{name: "load with size and timeout", args: []string{"--addr", echo, "--load", "--connections", "2", "--size", "256KiB", "--duration", "100ms", "--timeout", "2s"},
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
			var stdout, stderr bytes.Buffer
			getenv := func(k string) string { return tt.env[k] }
			code := run(t.Context(), tt.args, getenv, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tt.wantCode, stderr.String())
			}
			if tt.wantExact && stdout.String() != tt.wantStdout || !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout %q, want %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q, want %q", stderr.String(), tt.wantStderr)
			}
			if tt.wantStderr == "" && stderr.Len() > 0 {
				t.Errorf("unexpected stderr %q", stderr.String())
			}
		})
	}
}

func TestRun_JSON(t *testing.T) {
	echo := startEcho(t)
	for _, args := range [][]string{
		{"--addr", echo, "--json"},
		{"--addr", echo, "--json", "--count", "2", "--interval", "0s"},
		{"--addr", echo, "--json", "--bulk", "64KiB"},
		{"--addr", echo, "--json", "--load", "--connections", "2", "--duration", "100ms"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(t.Context(), args, func(string) string { return "" }, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
		var v map[string]any
		if err := json.Unmarshal(stdout.Bytes(), &v); err != nil || bytes.Count(stdout.Bytes(), []byte("\n")) != 1 {
			t.Errorf("%v: not one JSON object (%v): %q", args, err, stdout.String())
		}
	}
}

func TestRun_LoadJSON(t *testing.T) {
	tests := []struct {
		name       string
		handle     func(net.Conn)
		wantCode   int
		wantOps    float64 // -1: some
		wantErrors map[string]float64
		wantFailed float64
	}{
		{"echo", func(c net.Conn) { _, _ = io.Copy(c, c) }, 0, -1, map[string]float64{}, 0},
		{"server closes mid-run", closeAfter(3 * 64), 1, 6, map[string]float64{"short_read": 2}, 2},
		{"server echoes wrong bytes", corruptEcho(64 + 5), 1, 2, map[string]float64{"mismatch": 2}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startServer(t, tt.handle)
			args := []string{"--addr", addr, "--load", "--json", "--connections", "2", "--size", "64", "--duration", "200ms"}
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), args, func(string) string { return "" }, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.wantCode, stderr.String())
			}
			var v struct {
				Mode              string             `json:"mode"`
				Connections       float64            `json:"connections"`
				Size              float64            `json:"size"`
				DurationSeconds   float64            `json:"duration_seconds"`
				Ops               float64            `json:"ops"`
				OpsPerSecond      float64            `json:"ops_per_second"`
				BytesPerSecond    float64            `json:"bytes_per_second"`
				LatencyUs         map[string]float64 `json:"latency_us"`
				Errors            map[string]float64 `json:"errors"`
				FailedConnections *float64           `json:"failed_connections"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &v); err != nil {
				t.Fatalf("%v: %s", err, stdout.String())
			}
			if v.Mode != "load" || v.Connections != 2 || v.Size != 64 || v.DurationSeconds <= 0 || v.FailedConnections == nil || *v.FailedConnections != tt.wantFailed {
				t.Errorf("JSON %s", stdout.String())
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
			for _, k := range []string{"p50", "p90", "p99", "max"} {
				if _, ok := v.LatencyUs[k]; !ok {
					t.Errorf("latency_us.%s missing", k)
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

// TestRun_LoadInterrupted is Ctrl-C during --load: the run ends early, the
// summary is printed, and good round trips so far make it a success.
func TestRun_LoadInterrupted(t *testing.T) {
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
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"--addr", addr, "--load", "--connections", "2", "--duration", "1h"}, func(string) string { return "" }, &stdout, &stderr)
	if code != 0 || stderr.Len() > 0 {
		t.Errorf("exit %d, stderr %q; want 0 and nothing", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "s (interrupted)\n") || !strings.Contains(stdout.String(), "\n0 errors, 0 of 2 connections failed\n") {
		t.Errorf("summary:\n%s", stdout.String())
	}
}
