package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/netlab/netlab/services/udp-responder/internal/udpclient"
	"github.com/netlab/netlab/services/udp-responder/probe"
)

// startUDP runs handle for every datagram on 127.0.0.1:0, in arrival order.
func startUDP(t *testing.T, handle func(b []byte, reply func([]byte))) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 1<<16)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("read: %v", err)
				}
				return
			}
			handle(buf[:n], func(b []byte) { _, _ = pc.WriteTo(b, from) })
		}
	})
	t.Cleanup(func() {
		_ = pc.Close()
		wg.Wait()
	})
	return pc.LocalAddr().String()
}

// respond is the real server's behaviour in greet mode.
func respond(b []byte, reply func([]byte)) {
	if probe.IsProbe(b) {
		probe.MarkReply(b)
		reply(b)
		return
	}
	reply([]byte("Hello, client!"))
}

func seqOf(b []byte) uint64 { return binary.BigEndian.Uint64(b[16:24]) }

func TestRun(t *testing.T) {
	server := startUDP(t, respond)
	silent := startUDP(t, func([]byte, func([]byte)) {})
	dropping := startUDP(t, func(b []byte, reply func([]byte)) {
		if probe.IsProbe(b) && seqOf(b)%10 == 9 {
			return
		}
		respond(b, reply)
	})
	corrupting := startUDP(t, func(b []byte, reply func([]byte)) {
		if probe.IsProbe(b) && seqOf(b) == 3 {
			b[len(b)-1] ^= 1
		}
		respond(b, reply)
	})
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantStdout string // substring; exact when wantExact
		wantExact  bool
		wantStderr string // substring
	}{
		{name: "default hello via env", env: map[string]string{"UDP_SERVER_ADDR": server},
			wantCode: 0, wantStdout: "Received: Hello, client!\n", wantExact: true},
		{name: "addr flag beats env", args: []string{"--addr", server}, env: map[string]string{"UDP_SERVER_ADDR": silent},
			wantCode: 0, wantStdout: "Received: Hello, client!\n", wantExact: true},
		{name: "message", args: []string{"--addr", server, "--message", "Hello again, server"},
			wantCode: 0, wantStdout: "Received: Hello, client!\n", wantExact: true},
		{name: "no reply", args: []string{"--addr", silent, "--timeout", "20ms", "--tries", "2"},
			wantCode: 1, wantStderr: "udp-client: no reply from " + silent + " after 2 tries (20ms each)\n"},
		{name: "exit", args: []string{"--addr", silent, "--exit", "s3cr3t-token"},
			wantCode: 0, wantStdout: "sent exit\n", wantExact: true},
		{name: "probe", args: []string{"--addr", server, "--count", "50", "--rate", "5000"},
			wantCode: 0, wantStdout: "--- " + server + " probe statistics ---\n50 sent, 50 received, 0 lost (0.00% loss), 0 reordered, 0 duplicated, 0 corrupted\nrtt min/avg/p50/p90/p99/max = "},
		{name: "probe two sockets unpaced", args: []string{"--addr", server, "--count", "20", "--rate", "0", "--concurrency", "2", "--size", "1000"},
			wantCode: 0, wantStdout: "20 sent, 20 received, 0 lost"},
		{name: "probe no replies", args: []string{"--addr", silent, "--count", "5", "--timeout", "20ms"},
			wantCode: 1, wantStdout: "5 sent, 0 received, 5 lost (100.00% loss)",
			wantStderr: "udp-client: no replies from " + silent + " (5 probes sent)\n"},
		{name: "probe loss within max", args: []string{"--addr", dropping, "--count", "50", "--rate", "5000", "--timeout", "100ms", "--max-loss", "10"},
			wantCode: 0, wantStdout: "50 sent, 45 received, 5 lost (10.00% loss)"},
		{name: "probe loss above max", args: []string{"--addr", dropping, "--count", "50", "--rate", "5000", "--timeout", "100ms", "--max-loss", "9.5"},
			wantCode: 1, wantStdout: "50 sent, 45 received, 5 lost (10.00% loss)",
			wantStderr: "udp-client: loss 10.00% is above --max-loss 9.5%\n"},
		{name: "probe loss by default", args: []string{"--addr", dropping, "--count", "50", "--rate", "5000", "--timeout", "100ms"},
			wantCode: 0, wantStdout: "5 lost (10.00% loss)"},
		{name: "probe corrupted", args: []string{"--addr", corrupting, "--count", "10", "--rate", "5000", "--timeout", "100ms"},
			wantCode: 1, wantStdout: "10 sent, 9 received, 1 lost (10.00% loss), 0 reordered, 0 duplicated, 1 corrupted",
			wantStderr: "udp-client: 1 corrupted replies\n"},
		{name: "unresolvable", args: []string{"--addr", "127.0.0.1:notaport"},
			wantCode: 1, wantStderr: "udp-client: cannot resolve 127.0.0.1:notaport: lookup udp/notaport: unknown port\n"},
		{name: "unresolvable probe", args: []string{"--addr", "127.0.0.1:notaport", "--count", "1"},
			wantCode: 1, wantStderr: "cannot resolve"},
		{name: "help", args: []string{"--help"}, wantCode: 0, wantStdout: "Usage: udp-client [flags]"},
		{name: "short help", args: []string{"-h"}, wantCode: 0, wantStdout: "Usage: udp-client [flags]"},

		{name: "unknown flag", args: []string{"--bogus"}, wantCode: 2, wantStderr: "flag provided but not defined: -bogus"},
		{name: "positional argument", args: []string{"x"}, wantCode: 2, wantStderr: `unexpected argument "x"`},
		{name: "bad address", args: []string{"--addr", "localhost"}, wantCode: 2, wantStderr: `invalid address "localhost" from --addr`},
		{name: "bad env address", env: map[string]string{"UDP_SERVER_ADDR": "nohost"}, wantCode: 2, wantStderr: "from UDP_SERVER_ADDR"},
		{name: "zero timeout", args: []string{"--timeout", "0s"}, wantCode: 2, wantStderr: "invalid --timeout 0s"},
		{name: "zero tries", args: []string{"--tries", "0"}, wantCode: 2, wantStderr: "invalid --tries 0"},
		{name: "too many tries", args: []string{"--tries", "101"}, wantCode: 2, wantStderr: "invalid --tries 101"},
		{name: "empty message", args: []string{"--message", ""}, wantCode: 2, wantStderr: "invalid --message"},
		{name: "huge message", args: []string{"--message", strings.Repeat("x", probe.MaxSize+1)}, wantCode: 2, wantStderr: "invalid --message"},
		{name: "empty exit token", args: []string{"--exit", ""}, wantCode: 2, wantStderr: "invalid --exit"},
		{name: "exit token with space", args: []string{"--exit", "a b"}, wantCode: 2, wantStderr: "invalid --exit"},
		{name: "exit with message", args: []string{"--exit", "tok", "--message", "hi"}, wantCode: 2, wantStderr: "--exit cannot be combined with --message"},
		{name: "count with message", args: []string{"--count", "2", "--message", "hi"}, wantCode: 2, wantStderr: "--count cannot be combined with --message"},
		{name: "count with exit", args: []string{"--count", "2", "--exit", "tok"}, wantCode: 2, wantStderr: "--count cannot be combined with --exit"},
		{name: "count with tries", args: []string{"--count", "2", "--tries", "2"}, wantCode: 2, wantStderr: "--count cannot be combined with --tries"},
		{name: "count zero", args: []string{"--count", "0"}, wantCode: 2, wantStderr: "invalid --count 0"},
		{name: "count over cap", args: []string{"--count", "10000001"}, wantCode: 2, wantStderr: "invalid --count 10000001"},
		{name: "count not a number", args: []string{"--count", "x"}, wantCode: 2, wantStderr: "invalid value"},
		{name: "negative rate", args: []string{"--count", "2", "--rate", "-1"}, wantCode: 2, wantStderr: "invalid --rate -1"},
		{name: "rate NaN", args: []string{"--count", "2", "--rate", "NaN"}, wantCode: 2, wantStderr: "invalid --rate NaN"},
		{name: "rate infinite", args: []string{"--count", "2", "--rate", "Inf"}, wantCode: 2, wantStderr: "invalid --rate +Inf"},
		{name: "size too small", args: []string{"--count", "2", "--size", "35"}, wantCode: 2, wantStderr: "invalid --size 35: must be between 36 and 65507"},
		{name: "size too big", args: []string{"--count", "2", "--size", "65508"}, wantCode: 2, wantStderr: "invalid --size 65508"},
		{name: "concurrency zero", args: []string{"--count", "2", "--concurrency", "0"}, wantCode: 2, wantStderr: "invalid --concurrency 0"},
		{name: "concurrency over cap", args: []string{"--count", "2", "--concurrency", "257"}, wantCode: 2, wantStderr: "invalid --concurrency 257"},
		{name: "max loss over 100", args: []string{"--count", "2", "--max-loss", "101"}, wantCode: 2, wantStderr: "invalid --max-loss 101"},
		{name: "max loss negative", args: []string{"--count", "2", "--max-loss", "-1"}, wantCode: 2, wantStderr: "invalid --max-loss -1"},
		{name: "rate without count", args: []string{"--rate", "10"}, wantCode: 2, wantStderr: "--rate needs --count"},
		{name: "size without count", args: []string{"--size", "100"}, wantCode: 2, wantStderr: "--size needs --count"},
		{name: "concurrency without count", args: []string{"--concurrency", "2"}, wantCode: 2, wantStderr: "--concurrency needs --count"},
		{name: "max loss without count", args: []string{"--max-loss", "5"}, wantCode: 2, wantStderr: "--max-loss needs --count"},
		{name: "progress without count", args: []string{"--progress"}, wantCode: 2, wantStderr: "--progress needs --count"},
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
			if tt.wantCode == 2 && !strings.HasSuffix(stderr.String(), "\nRun 'udp-client --help' for usage.\n") {
				t.Errorf("usage error without the help hint: %q", stderr.String())
			}
		})
	}
}

func TestRun_ExitSendsToken(t *testing.T) {
	got := make(chan string, 1)
	addr := startUDP(t, func(b []byte, _ func([]byte)) { got <- string(b) })
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"--exit", "s3cr3t-token"}, func(k string) string {
		return map[string]string{udpclient.AddrEnv: addr}[k]
	}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if msg := <-got; msg != "exit s3cr3t-token" {
		t.Errorf("server got %q", msg)
	}
}

func TestRun_JSON(t *testing.T) {
	server := startUDP(t, respond)
	tests := []struct {
		args     []string
		wantKeys []string
	}{
		{[]string{"--addr", server, "--json"}, []string{"mode", "received", "rtt_ns", "rtt", "tries"}},
		{[]string{"--addr", server, "--json", "--exit", "tok3n-abc"}, []string{"mode", "addr", "sent"}},
		{[]string{"--addr", server, "--json", "--count", "5", "--rate", "5000"}, []string{
			"mode", "run_id", "sent", "received", "lost", "loss_percent", "reordered", "duplicated", "corrupted",
			"rtt_min_ns", "rtt_min", "rtt_avg_ns", "rtt_p50_ns", "rtt_p90_ns", "rtt_p99_ns", "rtt_max_ns", "rtt_max",
			"jitter_ns", "jitter", "duration_ns", "duration",
		}},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if code := run(t.Context(), tt.args, func(string) string { return "" }, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", tt.args, code, stderr.String())
		}
		var v map[string]any
		if err := json.Unmarshal(stdout.Bytes(), &v); err != nil || bytes.Count(stdout.Bytes(), []byte("\n")) != 1 {
			t.Errorf("%v: not one JSON object (%v): %q", tt.args, err, stdout.String())
		}
		for _, k := range tt.wantKeys {
			if _, ok := v[k]; !ok {
				t.Errorf("%v: no key %q in %s", tt.args, k, stdout.String())
			}
		}
	}
}

// TestRun_Interrupted stops a long probe run the way Ctrl-C does: the
// summary is printed and, with replies, the exit code is 0.
func TestRun_Interrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var seen atomic.Int64
	addr := startUDP(t, func(b []byte, reply func([]byte)) {
		if seen.Add(1) == 20 {
			cancel()
		}
		respond(b, reply)
	})
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"--addr", addr, "--count", "1000000", "--rate", "2000"}, func(string) string { return "" }, &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), "(interrupted after ") || !strings.Contains(stdout.String(), "rtt min/avg") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}

// TestRun_InterruptedBeforeSending: nothing sent, nothing to report.
func TestRun_InterruptedBeforeSending(t *testing.T) {
	addr := startUDP(t, respond)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, args := range [][]string{{"--addr", addr}, {"--addr", addr, "--count", "5"}} {
		var stdout, stderr bytes.Buffer
		code := run(ctx, args, func(string) string { return "" }, &stdout, &stderr)
		if code != 1 || stderr.String() != "udp-client: interrupted\n" || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout.String(), stderr.String())
		}
	}
}

func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	p := &progressLine{w: &b}
	p.finish(udpclient.Result{}) // nothing printed yet: nothing to finish
	if b.Len() != 0 {
		t.Fatalf("finish before any update wrote %q", b.String())
	}
	p.update(udpclient.Progress{Count: 100000, Sent: 5000, Received: 4998, Reordered: 1})
	p.update(udpclient.Progress{Count: 100000, Sent: 6000, Received: 6000})
	p.finish(udpclient.Result{Count: 100000, Stats: udpclient.Stats{Sent: 100000, Received: 99999}})
	want := "\rsent 5000/100000 received 4998 unanswered 2 reordered 1 duplicated 0 corrupted 0" +
		"\rsent 6000/100000 received 6000 unanswered 0 reordered 0 duplicated 0 corrupted 0" +
		"\rsent 100000/100000 received 99999 unanswered 1 reordered 0 duplicated 0 corrupted 0\n"
	if b.String() != want {
		t.Errorf("progress\n got %q\nwant %q", b.String(), want)
	}

	// A shorter line blanks out the rest of the longer one.
	b.Reset()
	p = &progressLine{w: &b}
	p.update(udpclient.Progress{Count: 10, Sent: 10, Received: 0})
	p.update(udpclient.Progress{Count: 10, Sent: 10, Received: 9})
	if !strings.HasSuffix(b.String(), "\rsent 10/10 received 9 unanswered 1 reordered 0 duplicated 0 corrupted 0 ") {
		t.Errorf("no padding: %q", b.String())
	}
}

// TestRun_Progress runs a little over a second so that one progress line
// is printed and then finished.
func TestRun_Progress(t *testing.T) {
	if testing.Short() {
		t.Skip("takes over a second")
	}
	addr := startUDP(t, respond)
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"--addr", addr, "--count", "1200", "--rate", "1000", "--progress"}, func(string) string { return "" }, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.HasPrefix(stderr.String(), "\rsent ") || !strings.HasSuffix(stderr.String(), "\rsent 1200/1200 received 1200 unanswered 0 reordered 0 duplicated 0 corrupted 0\n") {
		t.Errorf("stderr %q", stderr.String())
	}
	// A short run prints no progress, even when asked.
	stderr.Reset()
	if code := run(t.Context(), []string{"--addr", addr, "--count", "5", "--progress"}, func(string) string { return "" }, &stdout, &stderr); code != 0 || stderr.Len() != 0 {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// closedAddr is a UDP address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	_ = pc.Close()
	return addr
}

func TestRun_Load(t *testing.T) {
	server := startUDP(t, respond)
	echo := startUDP(t, func(b []byte, reply func([]byte)) { reply(b) })
	// Sequence numbers count from 1 on every socket: odd ones are dropped.
	everyOther := startUDP(t, func(b []byte, reply func([]byte)) {
		if probe.IsProbe(b) && seqOf(b)%2 == 0 {
			respond(b, reply)
		}
	})
	closed := closedAddr(t)
	fast := []string{"--duration", "200ms"}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string // substrings
		wantStderr string   // substring; none when empty
	}{
		{name: "text", args: []string{"--addr", server, "--load", "--sockets", "4"}, wantCode: 0,
			wantStdout: []string{"--- " + server + " load statistics (4 sockets, 64-byte requests, 200ms) ---\n", " received, 0 lost (0.00% loss), ", " replies/s\nrtt min/avg/p50/p90/p99/max = "}},
		{name: "plain echo server, big requests", args: []string{"--addr", echo, "--load", "--size", "1400"}, wantCode: 0,
			wantStdout: []string{"(1 sockets, 1400-byte requests, 200ms)", " 0 lost (0.00% loss)"}},
		{name: "loss within max", args: []string{"--addr", everyOther, "--load", "--sockets", "2", "--timeout", "10ms", "--max-loss", "60"},
			wantCode: 0, wantStdout: []string{" replies/s\n"}},
		{name: "loss by default", args: []string{"--addr", everyOther, "--load", "--sockets", "2", "--timeout", "10ms"},
			wantCode: 0, wantStdout: []string{" replies/s\n"}},
		{name: "loss above max", args: []string{"--addr", everyOther, "--load", "--sockets", "2", "--timeout", "10ms", "--max-loss", "40"},
			wantCode: 1, wantStdout: []string{" replies/s\n"}, wantStderr: "% is above --max-loss 40%\n"},
		{name: "nothing listening", args: []string{"--addr", closed, "--load", "--sockets", "2", "--timeout", "20ms"},
			wantCode: 1, wantStdout: []string{" sent, 0 received, ", " lost (100.00% loss)", "errors: refused "},
			wantStderr: "udp-client: no replies from " + closed + " ("},
		{name: "unresolvable", args: []string{"--addr", "127.0.0.1:notaport", "--load"}, wantCode: 1, wantStderr: "cannot resolve"},

		{name: "with count", args: []string{"--load", "--count", "5"}, wantCode: 2, wantStderr: "--load cannot be combined with --count"},
		{name: "with exit", args: []string{"--load", "--exit", "s3cr3t-token"}, wantCode: 2, wantStderr: "--load cannot be combined with --exit"},
		{name: "with message", args: []string{"--load", "--message", "hi"}, wantCode: 2, wantStderr: "--load cannot be combined with --message"},
		{name: "with tries", args: []string{"--load", "--tries", "2"}, wantCode: 2, wantStderr: "--load cannot be combined with --tries"},
		{name: "with rate", args: []string{"--load", "--rate", "10"}, wantCode: 2, wantStderr: "--load cannot be combined with --rate"},
		{name: "with concurrency", args: []string{"--load", "--concurrency", "2"}, wantCode: 2, wantStderr: "--load cannot be combined with --concurrency"},
		{name: "with progress", args: []string{"--load", "--progress"}, wantCode: 2, wantStderr: "--load cannot be combined with --progress"},
		{name: "sockets zero", args: []string{"--load", "--sockets", "0"}, wantCode: 2, wantStderr: "invalid --sockets 0: must be between 1 and 1024"},
		{name: "sockets over cap", args: []string{"--load", "--sockets", "1025"}, wantCode: 2, wantStderr: "invalid --sockets 1025"},
		{name: "size too small", args: []string{"--load", "--size", "35"}, wantCode: 2, wantStderr: "invalid --size 35: must be between 36 and 65507"},
		{name: "size too big", args: []string{"--load", "--size", "65508"}, wantCode: 2, wantStderr: "invalid --size 65508"},
		{name: "duration too short", args: []string{"--load", "--duration", "99ms"}, wantCode: 2, wantStderr: "invalid --duration 99ms: must be between 100ms and 1h0m0s"},
		{name: "duration too long", args: []string{"--load", "--duration", "61m"}, wantCode: 2, wantStderr: "invalid --duration 1h1m0s"},
		{name: "timeout zero", args: []string{"--load", "--timeout", "0s"}, wantCode: 2, wantStderr: "invalid --timeout 0s: must be between 1ms and 1m0s with --load"},
		{name: "timeout too long", args: []string{"--load", "--timeout", "2m"}, wantCode: 2, wantStderr: "invalid --timeout 2m0s"},
		{name: "max loss over 100", args: []string{"--load", "--max-loss", "101"}, wantCode: 2, wantStderr: "invalid --max-loss 101"},
		{name: "max loss NaN", args: []string{"--load", "--max-loss", "NaN"}, wantCode: 2, wantStderr: "invalid --max-loss NaN"},
		{name: "sockets without load", args: []string{"--sockets", "2"}, wantCode: 2, wantStderr: "--sockets needs --load"},
		{name: "duration without load", args: []string{"--duration", "1s"}, wantCode: 2, wantStderr: "--duration needs --load"},
		{name: "load turned off", args: []string{"--load=false", "--sockets", "2"}, wantCode: 2, wantStderr: "--sockets needs --load"},
		{name: "size needs a mode", args: []string{"--size", "100"}, wantCode: 2, wantStderr: "--size needs --count or --load"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := tt.args
			if tt.wantCode != 2 {
				args = append(slices.Clone(args), fast...)
			}
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), args, func(string) string { return "" }, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tt.wantCode, stderr.String())
			}
			for _, want := range tt.wantStdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout %q, want %q in it", stdout.String(), want)
				}
			}
			if tt.wantStderr == "" && stderr.Len() > 0 || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q, want %q", stderr.String(), tt.wantStderr)
			}
			if tt.wantCode == 2 && !strings.HasSuffix(stderr.String(), "\nRun 'udp-client --help' for usage.\n") {
				t.Errorf("usage error without the help hint: %q", stderr.String())
			}
		})
	}
}

func TestRun_LoadJSON(t *testing.T) {
	// Sequence numbers count from 1 on every socket: odd ones are dropped.
	everyOther := startUDP(t, func(b []byte, reply func([]byte)) {
		if probe.IsProbe(b) && seqOf(b)%2 == 0 {
			respond(b, reply)
		}
	})
	var stdout, stderr bytes.Buffer
	args := []string{"--addr", everyOther, "--load", "--sockets", "3", "--size", "100", "--duration", "300ms", "--timeout", "10ms", "--json"}
	if code := run(t.Context(), args, func(string) string { return "" }, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var v struct {
		Mode             string             `json:"mode"`
		Sockets          int                `json:"sockets"`
		Size             int                `json:"size"`
		DurationSeconds  float64            `json:"duration_seconds"`
		Sent             int64              `json:"sent"`
		Received         int64              `json:"received"`
		Lost             int64              `json:"lost"`
		Unfinished       int64              `json:"unfinished"`
		LossPercent      *float64           `json:"loss_percent"`
		RepliesPerSecond float64            `json:"replies_per_second"`
		RTT              map[string]float64 `json:"rtt_us"`
		Errors           map[string]int64   `json:"errors"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &v); err != nil || bytes.Count(stdout.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("not one JSON object (%v): %q", err, stdout.String())
	}
	if v.Mode != "load" || v.Sockets != 3 || v.Size != 100 || v.DurationSeconds != 0.3 || v.Errors == nil {
		t.Errorf("JSON %s", stdout.String())
	}
	if v.Sent != v.Received+v.Lost+v.Unfinished || v.LossPercent == nil || *v.LossPercent < 45 || *v.LossPercent > 55 {
		t.Errorf("want about 50%% loss: %s", stdout.String())
	}
	if want := float64(v.Received) / 0.3; v.RepliesPerSecond < want-1 || v.RepliesPerSecond > want+1 {
		t.Errorf("replies_per_second %g, want %g", v.RepliesPerSecond, want)
	}
	for _, k := range []string{"p50", "p90", "p99", "max"} {
		if v.RTT[k] <= 0 {
			t.Errorf("rtt_us.%s = %g in %s", k, v.RTT[k], stdout.String())
		}
	}
}

// TestRun_LoadInterrupted stops an hour-long load the way Ctrl-C does: the
// summary is printed and, with replies, the exit code is 0.
func TestRun_LoadInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var seen atomic.Int64
	addr := startUDP(t, func(b []byte, reply func([]byte)) {
		if seen.Add(1) == 100 {
			cancel()
		}
		respond(b, reply)
	})
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"--addr", addr, "--load", "--sockets", "2", "--duration", "1h"}, func(string) string { return "" }, &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), "(interrupted after ") || !strings.Contains(stdout.String(), "rtt min/avg") || stderr.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}
