package udpclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/netlab/netlab/services/udp-responder/internal/udpclient"
	"github.com/netlab/netlab/services/udp-responder/probe"
)

// runMain runs udp-client with args and the environment env.
func runMain(ctx context.Context, args []string, env map[string]string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = udpclient.Main(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestMain_Modes(t *testing.T) {
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
			wantCode: 0, wantStdout: "--- " + server + " probe statistics ---\n50 sent, 50 received, 0 lost (0.00% loss), 0 reordered, 0 duplicated, 0 corrupted\nrtt min/avg/p50/p90/p99/p99.9/max = "},
		{name: "probe two sockets unpaced", args: []string{"--addr", server, "--count", "20", "--rate", "0", "--connections", "2", "--size", "1000"},
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
		{name: "connections zero", args: []string{"--count", "2", "--connections", "0"}, wantCode: 2, wantStderr: "invalid --connections 0"},
		{name: "connections over cap", args: []string{"--count", "2", "--connections", "257"}, wantCode: 2, wantStderr: "invalid --connections 257: must be between 1 and 256"},
		{name: "deprecated name in the error", args: []string{"--count", "2", "--concurrency", "257"}, wantCode: 2,
			wantStderr: "udp-client: --concurrency is deprecated; use --connections\nudp-client: invalid --concurrency 257"},
		{name: "max loss over 100", args: []string{"--count", "2", "--max-loss", "101"}, wantCode: 2, wantStderr: "invalid --max-loss 101"},
		{name: "max loss negative", args: []string{"--count", "2", "--max-loss", "-1"}, wantCode: 2, wantStderr: "invalid --max-loss -1"},
		{name: "rate without count", args: []string{"--rate", "10"}, wantCode: 2, wantStderr: "--rate needs --count"},
		{name: "size without count", args: []string{"--size", "100"}, wantCode: 2, wantStderr: "--size needs --count"},
		{name: "connections without a mode", args: []string{"--connections", "2"}, wantCode: 2, wantStderr: "--connections needs --count or --load"},
		{name: "report interval without a mode", args: []string{"--report-interval", "1s"}, wantCode: 2, wantStderr: "--report-interval needs --count or --load"},
		{name: "report interval too short", args: []string{"--count", "2", "--report-interval", "1ms"}, wantCode: 2, wantStderr: "invalid --report-interval 1ms"},
		{name: "max loss without count", args: []string{"--max-loss", "5"}, wantCode: 2, wantStderr: "--max-loss needs --count"},
		{name: "progress without count", args: []string{"--progress"}, wantCode: 2, wantStderr: "--progress needs --count"},
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
			if tt.wantCode == 2 && !strings.HasSuffix(stderr, "\nRun 'udp-client --help' for usage.\n") {
				t.Errorf("usage error without the help hint: %q", stderr)
			}
		})
	}
}

func TestMain_ExitSendsToken(t *testing.T) {
	got := make(chan string, 1)
	addr := startUDP(t, func(b []byte, _ func([]byte)) { got <- string(b) })
	if code, _, stderr := runMain(t.Context(), []string{"--exit", "s3cr3t-token"}, map[string]string{udpclient.AddrEnv: addr}); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if msg := <-got; msg != "exit s3cr3t-token" {
		t.Errorf("server got %q", msg)
	}
}

func TestMain_JSON(t *testing.T) {
	server := startUDP(t, respond)
	tests := []struct {
		args     []string
		wantKeys []string
	}{
		{[]string{"--addr", server, "--json"}, []string{"mode", "received", "rtt_ns", "rtt", "tries"}},
		{[]string{"--addr", server, "--json", "--exit", "tok3n-abc"}, []string{"mode", "addr", "sent"}},
		{[]string{"--addr", server, "--json", "--count", "5", "--rate", "5000"}, []string{
			"mode", "run_id", "connections", "sent", "received", "lost", "loss_percent", "reordered", "reorder_extent_max",
			"duplicated", "corrupted", "latency", "jitter_ns", "jitter", "duration_ns", "duration",
		}},
	}
	for _, tt := range tests {
		code, stdout, stderr := runMain(t.Context(), tt.args, nil)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tt.args, code, stderr)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(stdout), &v); err != nil || strings.Count(stdout, "\n") != 1 {
			t.Errorf("%v: not one JSON object (%v): %q", tt.args, err, stdout)
		}
		for _, k := range tt.wantKeys {
			if _, ok := v[k]; !ok {
				t.Errorf("%v: no key %q in %s", tt.args, k, stdout)
			}
		}
	}
}

// TestMain_Interrupted stops a long probe run the way Ctrl-C does: the
// summary is printed and, with replies, the exit code is 0.
func TestMain_Interrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var seen atomic.Int64
	addr := startUDP(t, func(b []byte, reply func([]byte)) {
		if seen.Add(1) == 20 {
			cancel()
		}
		respond(b, reply)
	})
	code, stdout, stderr := runMain(ctx, []string{"--addr", addr, "--count", "1000000", "--rate", "2000"}, nil)
	if code != 0 || !strings.Contains(stdout, "(interrupted after ") || !strings.Contains(stdout, "rtt min/avg") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestMain_InterruptedBeforeSending: nothing sent, nothing to report.
func TestMain_InterruptedBeforeSending(t *testing.T) {
	addr := startUDP(t, respond)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, args := range [][]string{{"--addr", addr}, {"--addr", addr, "--count", "5"}} {
		code, stdout, stderr := runMain(ctx, args, nil)
		if code != 1 || stderr != "udp-client: interrupted\n" || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}

func TestProgressLine_Draws(t *testing.T) {
	var b bytes.Buffer
	p := udpclient.NewProgressLine(&b)
	p.Finish(udpclient.Result{}) // nothing printed yet: nothing to finish
	if b.Len() != 0 {
		t.Fatalf("finish before any update wrote %q", b.String())
	}
	p.Update(udpclient.Progress{Count: 100000, Sent: 5000, Received: 4998, Reordered: 1})
	p.Update(udpclient.Progress{Count: 100000, Sent: 6000, Received: 6000})
	p.Finish(udpclient.Result{Count: 100000, Stats: udpclient.Stats{Sent: 100000, Received: 99999}})
	want := "\rsent 5000/100000 received 4998 unanswered 2 reordered 1 duplicated 0 corrupted 0" +
		"\rsent 6000/100000 received 6000 unanswered 0 reordered 0 duplicated 0 corrupted 0" +
		"\rsent 100000/100000 received 99999 unanswered 1 reordered 0 duplicated 0 corrupted 0\n"
	if b.String() != want {
		t.Errorf("progress\n got %q\nwant %q", b.String(), want)
	}

	// A shorter line blanks out the rest of the longer one.
	b.Reset()
	p = udpclient.NewProgressLine(&b)
	p.Update(udpclient.Progress{Count: 10, Sent: 10, Received: 0})
	p.Update(udpclient.Progress{Count: 10, Sent: 10, Received: 9})
	if !strings.HasSuffix(b.String(), "\rsent 10/10 received 9 unanswered 1 reordered 0 duplicated 0 corrupted 0 ") {
		t.Errorf("no padding: %q", b.String())
	}
}

// TestMain_Progress runs a little over a second so that one progress line
// is printed and then finished.
func TestMain_Progress(t *testing.T) {
	if testing.Short() {
		t.Skip("takes over a second")
	}
	addr := startUDP(t, respond)
	code, _, stderr := runMain(t.Context(), []string{"--addr", addr, "--count", "1200", "--rate", "1000", "--progress"}, nil)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(stderr, "\rsent ") || !strings.HasSuffix(stderr, "\rsent 1200/1200 received 1200 unanswered 0 reordered 0 duplicated 0 corrupted 0\n") {
		t.Errorf("stderr %q", stderr)
	}
	// A short run prints no progress, even when asked.
	if code, _, stderr := runMain(t.Context(), []string{"--addr", addr, "--count", "5", "--progress"}, nil); code != 0 || stderr != "" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestMain_Load(t *testing.T) {
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
		{name: "text", args: []string{"--addr", server, "--load", "--connections", "4"}, wantCode: 0,
			wantStdout: []string{"--- " + server + " load statistics (4 sockets, 64-byte requests, 200ms) ---\n", " received, 0 lost (0.00% loss), ", " replies/s\nrtt min/avg/p50/p90/p99/p99.9/max = "}},
		{name: "deprecated --sockets", args: []string{"--addr", server, "--load", "--sockets", "3"}, wantCode: 0,
			wantStdout: []string{"(3 sockets, "}, wantStderr: "udp-client: --sockets is deprecated; use --connections\n"},
		{name: "deprecated --concurrency", args: []string{"--addr", server, "--load", "--concurrency", "2"}, wantCode: 0,
			wantStdout: []string{"(2 sockets, "}, wantStderr: "udp-client: --concurrency is deprecated; use --connections\n"},
		{name: "flags after a value-less mode", args: []string{"--load", "--addr", server, "--connections", "2"}, wantCode: 0,
			wantStdout: []string{"(2 sockets, "}},
		{name: "plain echo server, big requests", args: []string{"--addr", echo, "--load", "--size", "1400"}, wantCode: 0,
			wantStdout: []string{"(1 sockets, 1400-byte requests, 200ms)", " 0 lost (0.00% loss)"}},
		{name: "loss within max", args: []string{"--addr", everyOther, "--load", "--connections", "2", "--timeout", "10ms", "--max-loss", "60"},
			wantCode: 0, wantStdout: []string{" replies/s\n"}},
		{name: "loss by default", args: []string{"--addr", everyOther, "--load", "--connections", "2", "--timeout", "10ms"},
			wantCode: 0, wantStdout: []string{" replies/s\n"}},
		{name: "loss above max", args: []string{"--addr", everyOther, "--load", "--connections", "2", "--timeout", "10ms", "--max-loss", "40"},
			wantCode: 1, wantStdout: []string{" replies/s\n"}, wantStderr: "% is above --max-loss 40%\n"},
		{name: "nothing listening", args: []string{"--addr", closed, "--load", "--connections", "2", "--timeout", "20ms"},
			wantCode: 1, wantStdout: []string{" sent, 0 received, ", " lost (100.00% loss)", "errors: refused "},
			wantStderr: "udp-client: no replies from " + closed + " ("},
		{name: "unresolvable", args: []string{"--addr", "127.0.0.1:notaport", "--load"}, wantCode: 1, wantStderr: "cannot resolve"},

		{name: "with count", args: []string{"--load", "--count", "5"}, wantCode: 2, wantStderr: "--load cannot be combined with --count"},
		{name: "with exit", args: []string{"--load", "--exit", "s3cr3t-token"}, wantCode: 2, wantStderr: "--load cannot be combined with --exit"},
		{name: "with message", args: []string{"--load", "--message", "hi"}, wantCode: 2, wantStderr: "--load cannot be combined with --message"},
		{name: "with tries", args: []string{"--load", "--tries", "2"}, wantCode: 2, wantStderr: "--load cannot be combined with --tries"},
		{name: "with rate", args: []string{"--load", "--rate", "10"}, wantCode: 2, wantStderr: "--load cannot be combined with --rate"},
		{name: "with progress", args: []string{"--load", "--progress"}, wantCode: 2, wantStderr: "--load cannot be combined with --progress"},
		{name: "connections zero", args: []string{"--load", "--connections", "0"}, wantCode: 2, wantStderr: "invalid --connections 0: must be between 1 and 1024"},
		{name: "connections over cap", args: []string{"--load", "--connections", "1025"}, wantCode: 2, wantStderr: "invalid --connections 1025"},
		{name: "old and new name", args: []string{"--load", "--sockets", "2", "--connections", "3"}, wantCode: 2,
			wantStderr: "--connections and --sockets are the same flag: give one"},
		{name: "size too small", args: []string{"--load", "--size", "35"}, wantCode: 2, wantStderr: "invalid --size 35: must be between 36 and 65507"},
		{name: "size too big", args: []string{"--load", "--size", "65508"}, wantCode: 2, wantStderr: "invalid --size 65508"},
		{name: "duration too short", args: []string{"--load", "--duration", "99ms"}, wantCode: 2, wantStderr: "invalid --duration 99ms: must be between 100ms and 1h0m0s"},
		{name: "duration too long", args: []string{"--load", "--duration", "61m"}, wantCode: 2, wantStderr: "invalid --duration 1h1m0s"},
		{name: "timeout zero", args: []string{"--load", "--timeout", "0s"}, wantCode: 2, wantStderr: "invalid --timeout 0s: must be between 1ms and 1m0s with --load"},
		{name: "timeout too long", args: []string{"--load", "--timeout", "2m"}, wantCode: 2, wantStderr: "invalid --timeout 2m0s"},
		{name: "max loss over 100", args: []string{"--load", "--max-loss", "101"}, wantCode: 2, wantStderr: "invalid --max-loss 101"},
		{name: "max loss NaN", args: []string{"--load", "--max-loss", "NaN"}, wantCode: 2, wantStderr: "invalid --max-loss NaN"},
		{name: "sockets without a mode", args: []string{"--sockets", "2"}, wantCode: 2, wantStderr: "--sockets needs --count or --load"},
		{name: "duration without load", args: []string{"--duration", "1s"}, wantCode: 2, wantStderr: "--duration needs --load"},
		{name: "load turned off", args: []string{"--load=false", "--duration", "2s"}, wantCode: 2, wantStderr: "--duration needs --load"},
		{name: "size needs a mode", args: []string{"--size", "100"}, wantCode: 2, wantStderr: "--size needs --count or --load"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := tt.args
			if tt.wantCode != 2 {
				args = append(slices.Clone(args), fast...)
			}
			code, stdout, stderr := runMain(t.Context(), args, nil)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tt.wantCode, stderr)
			}
			for _, want := range tt.wantStdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout %q, want %q in it", stdout, want)
				}
			}
			if tt.wantStderr == "" && stderr != "" || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr %q, want %q", stderr, tt.wantStderr)
			}
			if tt.wantCode == 2 && !strings.HasSuffix(stderr, "\nRun 'udp-client --help' for usage.\n") {
				t.Errorf("usage error without the help hint: %q", stderr)
			}
		})
	}
}

func TestMain_LoadJSON(t *testing.T) {
	// Sequence numbers count from 1 on every socket: odd ones are dropped.
	everyOther := startUDP(t, func(b []byte, reply func([]byte)) {
		if probe.IsProbe(b) && seqOf(b)%2 == 0 {
			respond(b, reply)
		}
	})
	args := []string{"--addr", everyOther, "--load", "--connections", "3", "--size", "100", "--duration", "300ms", "--timeout", "10ms", "--json"}
	code, stdout, stderr := runMain(t.Context(), args, nil)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var v struct {
		Mode             string             `json:"mode"`
		Connections      int                `json:"connections"`
		Size             int                `json:"size"`
		DurationSeconds  float64            `json:"duration_seconds"`
		Sent             int64              `json:"sent"`
		Received         int64              `json:"received"`
		Lost             int64              `json:"lost"`
		Unfinished       int64              `json:"unfinished"`
		LossPercent      *float64           `json:"loss_percent"`
		RepliesPerSecond float64            `json:"replies_per_second"`
		Latency          map[string]float64 `json:"latency"`
		Errors           map[string]int64   `json:"errors"`
	}
	if err := json.Unmarshal([]byte(stdout), &v); err != nil || strings.Count(stdout, "\n") != 1 {
		t.Fatalf("not one JSON object (%v): %q", err, stdout)
	}
	if v.Mode != "load" || v.Connections != 3 || v.Size != 100 || v.DurationSeconds != 0.3 || v.Errors == nil {
		t.Errorf("JSON %s", stdout)
	}
	if v.Sent != v.Received+v.Lost+v.Unfinished || v.LossPercent == nil || *v.LossPercent < 45 || *v.LossPercent > 55 {
		t.Errorf("want about 50%% loss: %s", stdout)
	}
	if want := float64(v.Received) / 0.3; v.RepliesPerSecond < want-1 || v.RepliesPerSecond > want+1 {
		t.Errorf("replies_per_second %g, want %g", v.RepliesPerSecond, want)
	}
	if v.Latency["n"] != float64(v.Received) {
		t.Errorf("latency.n = %g, want received %d", v.Latency["n"], v.Received)
	}
	for _, k := range []string{"min_ns", "avg_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"} {
		if v.Latency[k] <= 0 {
			t.Errorf("latency.%s = %g in %s", k, v.Latency[k], stdout)
		}
	}
}

// TestMain_LoadInterrupted stops an hour-long load the way Ctrl-C does: the
// summary is printed and, with replies, the exit code is 0.
func TestMain_LoadInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var seen atomic.Int64
	addr := startUDP(t, func(b []byte, reply func([]byte)) {
		if seen.Add(1) == 100 {
			cancel()
		}
		respond(b, reply)
	})
	code, stdout, stderr := runMain(ctx, []string{"--addr", addr, "--load", "--connections", "2", "--duration", "1h"}, nil)
	if code != 0 || !strings.Contains(stdout, "(interrupted after ") || !strings.Contains(stdout, "rtt min/avg") || stderr != "" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestMain_ReportInterval runs the probe and load modes with
// --report-interval and --json through a server that drops every tenth
// probe: interval objects come first, then the summary, and the intervals'
// sent, replies and loss add up to it.
func TestMain_ReportInterval(t *testing.T) {
	addr := startUDP(t, dropEvery10th)
	tests := []struct {
		name string
		args []string
	}{
		{"probe", []string{"--count", "400", "--rate", "2000", "--timeout", "100ms"}},
		{"load", []string{"--load", "--connections", "2", "--duration", "300ms", "--timeout", "5ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--addr", addr, "--json", "--report-interval", "50ms"}, tt.args...)
			code, stdout, stderr := runMain(t.Context(), args, nil)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			var summary struct {
				Mode                 string
				Sent, Received, Lost int64
				Latency              struct{ N int64 }
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &summary); err != nil || summary.Mode == "" {
				t.Fatalf("last line is not the summary (%v): %s", err, lines[len(lines)-1])
			}
			var sum struct{ sent, ops, lost, latencies int64 }
			for _, line := range lines[:len(lines)-1] {
				var iv struct {
					Type            string
					Sent, Ops, Lost int64
					Latency         struct{ N int64 }
				}
				if err := json.Unmarshal([]byte(line), &iv); err != nil || iv.Type != "interval" {
					t.Fatalf("not an interval line (%v): %s", err, line)
				}
				sum.sent, sum.ops, sum.lost, sum.latencies = sum.sent+iv.Sent, sum.ops+iv.Ops, sum.lost+iv.Lost, sum.latencies+iv.Latency.N
			}
			if len(lines) < 4 || sum.sent != summary.Sent || sum.ops != summary.Received || sum.lost != summary.Lost ||
				sum.latencies != summary.Latency.N || summary.Lost == 0 {
				t.Errorf("%d intervals adding up to %+v; summary %+v\n%s", len(lines)-1, sum, summary, stdout)
			}
		})
	}
}
