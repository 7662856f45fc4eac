package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

// startEcho runs an io.Copy echo server on 127.0.0.1:0.
func startEcho(t *testing.T) string {
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
				_, _ = io.Copy(c, c)
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
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
