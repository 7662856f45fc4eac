package udpclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/netlab/netlab/services/platform/addrtest"
	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/clientcli/clitest"
	"github.com/netlab/netlab/services/udp-responder/internal/udpclient"
	"github.com/netlab/netlab/services/udp-responder/probe"
)

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
	clitest.RunCases(t, udpclient.Main, clitest.AddrCases("udp-client", udpclient.AddrEnv, server, silent, "Received: Hello, client!\n"))
	clitest.RunCases(t, udpclient.Main, []clitest.Case{
		{Name: "message", Args: []string{"--addr", server, "--message", "Hello again, server"},
			Stdout: []string{"Received: Hello, client!\n"}, Exact: true},
		{Name: "no reply", Args: []string{"--addr", silent, "--timeout", "20ms", "--tries", "2"},
			Code: 1, Stderr: "udp-client: no reply from " + silent + " after 2 tries (20ms each)\n"},
		{Name: "exit", Args: []string{"--addr", silent, "--exit", "s3cr3t-token"},
			Stdout: []string{"sent exit\n"}, Exact: true},
		{Name: "probe", Args: []string{"--addr", server, "--count", "50", "--rate", "5000"},
			Stdout: []string{"--- " + server + " probe statistics ---\n50 sent, 50 received, 0 lost (0.00% loss), 0 reordered, 0 duplicated, 0 corrupted\nrtt min/avg/p50/p90/p99/p99.9/max = "}},
		{Name: "probe two sockets unpaced", Args: []string{"--addr", server, "--count", "20", "--rate", "0", "--connections", "2", "--size", "1000"},
			Stdout: []string{"20 sent, 20 received, 0 lost"}},
		{Name: "probe no replies", Args: []string{"--addr", silent, "--count", "5", "--timeout", "20ms"},
			Code: 1, Stdout: []string{"5 sent, 0 received, 5 lost (100.00% loss)"},
			Stderr: "udp-client: no replies from " + silent + " (5 probes sent)\n"},
		{Name: "probe loss within max", Args: []string{"--addr", dropping, "--count", "50", "--rate", "5000", "--timeout", "100ms", "--max-loss", "10"},
			Stdout: []string{"50 sent, 45 received, 5 lost (10.00% loss)"}},
		{Name: "probe loss above max", Args: []string{"--addr", dropping, "--count", "50", "--rate", "5000", "--timeout", "100ms", "--max-loss", "9.5"},
			Code: 1, Stdout: []string{"50 sent, 45 received, 5 lost (10.00% loss)"},
			Stderr: "udp-client: loss 10.00% is above --max-loss 9.5%\n"},
		{Name: "probe loss by default", Args: []string{"--addr", dropping, "--count", "50", "--rate", "5000", "--timeout", "100ms"},
			Stdout: []string{"5 lost (10.00% loss)"}},
		{Name: "probe corrupted", Args: []string{"--addr", corrupting, "--count", "10", "--rate", "5000", "--timeout", "100ms"},
			Code: 1, Stdout: []string{"10 sent, 9 received, 1 lost (10.00% loss), 0 reordered, 0 duplicated, 1 corrupted"},
			Stderr: "udp-client: 1 corrupted replies\n"},
		{Name: "unresolvable", Args: []string{"--addr", "127.0.0.1:notaport"},
			Code: 1, Stderr: "udp-client: cannot resolve 127.0.0.1:notaport: lookup udp/notaport: unknown port\n"},
		{Name: "unresolvable probe", Args: []string{"--addr", "127.0.0.1:notaport", "--count", "1"},
			Code: 1, Stderr: "cannot resolve"},
		{Name: "short help", Args: []string{"-h"}, Stdout: []string{"Usage: udp-client [flags]"}},

		{Name: "zero timeout", Args: []string{"--timeout", "0s"}, Code: 2, Stderr: "invalid --timeout 0s"},
		{Name: "zero tries", Args: []string{"--tries", "0"}, Code: 2, Stderr: "invalid --tries 0"},
		{Name: "too many tries", Args: []string{"--tries", "101"}, Code: 2, Stderr: "invalid --tries 101"},
		{Name: "empty message", Args: []string{"--message", ""}, Code: 2, Stderr: "invalid --message"},
		{Name: "huge message", Args: []string{"--message", strings.Repeat("x", probe.MaxSize+1)}, Code: 2, Stderr: "invalid --message"},
		{Name: "empty exit token", Args: []string{"--exit", ""}, Code: 2, Stderr: "invalid --exit"},
		{Name: "exit token with space", Args: []string{"--exit", "a b"}, Code: 2, Stderr: "invalid --exit"},
		{Name: "exit with message", Args: []string{"--exit", "tok", "--message", "hi"}, Code: 2, Stderr: "--exit cannot be combined with --message"},
		{Name: "count with message", Args: []string{"--count", "2", "--message", "hi"}, Code: 2, Stderr: "--count cannot be combined with --message"},
		{Name: "count with exit", Args: []string{"--count", "2", "--exit", "tok"}, Code: 2, Stderr: "--count cannot be combined with --exit"},
		{Name: "count with tries", Args: []string{"--count", "2", "--tries", "2"}, Code: 2, Stderr: "--count cannot be combined with --tries"},
		{Name: "count zero", Args: []string{"--count", "0"}, Code: 2, Stderr: "invalid --count 0"},
		{Name: "count over cap", Args: []string{"--count", "10000001"}, Code: 2, Stderr: "invalid --count 10000001"},
		{Name: "count not a number", Args: []string{"--count", "x"}, Code: 2, Stderr: "invalid value"},
		{Name: "negative rate", Args: []string{"--count", "2", "--rate", "-1"}, Code: 2, Stderr: "invalid --rate -1"},
		{Name: "rate NaN", Args: []string{"--count", "2", "--rate", "NaN"}, Code: 2, Stderr: "invalid --rate NaN"},
		{Name: "rate infinite", Args: []string{"--count", "2", "--rate", "Inf"}, Code: 2, Stderr: "invalid --rate +Inf"},
		{Name: "size too small", Args: []string{"--count", "2", "--size", "35"}, Code: 2, Stderr: "invalid --size 35: must be between 36 and 65507"},
		{Name: "size too big", Args: []string{"--count", "2", "--size", "65508"}, Code: 2, Stderr: "invalid --size 65508"},
		{Name: "connections zero", Args: []string{"--count", "2", "--connections", "0"}, Code: 2, Stderr: "invalid --connections 0"},
		{Name: "connections over cap", Args: []string{"--count", "2", "--connections", "257"}, Code: 2, Stderr: "invalid --connections 257: must be between 1 and 256"},
		{Name: "deprecated name in the error", Args: []string{"--count", "2", "--concurrency", "257"}, Code: 2,
			Stderr: "udp-client: --concurrency is deprecated; use --connections\nudp-client: invalid --concurrency 257"},
		{Name: "max loss over 100", Args: []string{"--count", "2", "--max-loss", "101"}, Code: 2, Stderr: "invalid --max-loss 101"},
		{Name: "max loss negative", Args: []string{"--count", "2", "--max-loss", "-1"}, Code: 2, Stderr: "invalid --max-loss -1"},
		{Name: "rate without count", Args: []string{"--rate", "10"}, Code: 2, Stderr: "--rate needs --count or --duration or --load"},
		{Name: "bitrate without count", Args: []string{"--bitrate", "1M"}, Code: 2, Stderr: "--bitrate needs --count or --duration or --load"},
		{Name: "size without count", Args: []string{"--size", "100"}, Code: 2, Stderr: "--size needs --count"},
		{Name: "rate and bitrate", Args: []string{"--count", "2", "--rate", "10", "--bitrate", "1M"}, Code: 2, Stderr: "--rate cannot be combined with --bitrate"},
		{Name: "bitrate not a rate", Args: []string{"--count", "2", "--bitrate", "fast"}, Code: 2, Stderr: `invalid --bitrate: "fast" is not a bit rate`},
		{Name: "bitrate zero", Args: []string{"--count", "2", "--bitrate", "0"}, Code: 2, Stderr: `invalid --bitrate: "0" is not a bit rate`},
		{Name: "bitrate negative", Args: []string{"--duration", "1s", "--bitrate", "-5M"}, Code: 2, Stderr: `invalid --bitrate: "-5M" is not a bit rate`},
		{Name: "bitrate over the rate cap", Args: []string{"--count", "2", "--bitrate", "10T"}, Code: 2, Stderr: "invalid --bitrate 10T: "},
		{Name: "duration too short", Args: []string{"--duration", "1ms"}, Code: 2, Stderr: "invalid --duration 1ms: must be between 10ms and 24h0m0s"},
		{Name: "duration unpaced", Args: []string{"--duration", "1s", "--rate", "0"}, Code: 2, Stderr: "--duration needs a rate above 0"},
		{Name: "duration over the count cap", Args: []string{"--duration", "3h", "--rate", "1000"}, Code: 2,
			Stderr: "invalid --duration: duration 3h0m0s at 1000/s is 10800000 probes, more than 10000000"},
		{Name: "duration with message", Args: []string{"--duration", "1s", "--message", "hi"}, Code: 2, Stderr: "--duration cannot be combined with --message"},
		{Name: "save without a mode", Args: []string{"--save", "x.json"}, Code: 2, Stderr: "--save needs --count or --duration or --load"},
		{Name: "label without save", Args: []string{"--count", "1", "--label", "x"}, Code: 2, Stderr: "--label is only for --save"},
		{Name: "save empty", Args: []string{"--count", "1", "--save", ""}, Code: 2, Stderr: "invalid --save"},
		{Name: "connections without a mode", Args: []string{"--connections", "2"}, Code: 2, Stderr: "--connections needs --count or --duration or --load"},
		{Name: "report interval without a mode", Args: []string{"--report-interval", "1s"}, Code: 2, Stderr: "--report-interval needs --count or --duration or --load"},
		{Name: "report interval too short", Args: []string{"--count", "2", "--report-interval", "1ms"}, Code: 2, Stderr: "invalid --report-interval 1ms"},
		{Name: "max loss without count", Args: []string{"--max-loss", "5"}, Code: 2, Stderr: "--max-loss needs --count"},
		{Name: "progress without count", Args: []string{"--progress"}, Code: 2, Stderr: "--progress needs --count"},
	})
}

func TestMain_ExitSendsToken(t *testing.T) {
	got := make(chan string, 1)
	addr := startUDP(t, func(b []byte, _ func([]byte)) { got <- string(b) })
	if code, _, stderr := clitest.Run(t.Context(), udpclient.Main, []string{"--exit", "s3cr3t-token"}, map[string]string{udpclient.AddrEnv: addr}); code != 0 {
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
		var v map[string]any
		stdout := clitest.RunObject(t, udpclient.Main, 0, &v, tt.args...)
		for _, k := range tt.wantKeys {
			if _, ok := v[k]; !ok {
				t.Errorf("%v: no key %q in %s", tt.args, k, stdout)
			}
		}
	}
}

// TestMain_Interrupted stops a long probe run and an hour-long load the
// way Ctrl-C does: the summary is printed and, with replies, the exit code
// is 0.
func TestMain_Interrupted(t *testing.T) {
	for _, tt := range []struct {
		name     string
		args     []string
		cancelAt int64 // requests seen by the server
	}{
		{"probe", []string{"--count", "1000000", "--rate", "2000"}, 20},
		{"load", []string{"--load", "--connections", "2", "--duration", "1h"}, 100},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			var seen atomic.Int64
			addr := startUDP(t, func(b []byte, reply func([]byte)) {
				if seen.Add(1) == tt.cancelAt {
					cancel()
				}
				respond(b, reply)
			})
			code, stdout, stderr := clitest.Run(ctx, udpclient.Main, append([]string{"--addr", addr}, tt.args...), nil)
			if code != 0 || !strings.Contains(stdout, "(interrupted after ") || !strings.Contains(stdout, "rtt min/avg") || stderr != "" {
				t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
		})
	}
}

// TestMain_InterruptedBeforeSending: nothing sent, nothing to report.
func TestMain_InterruptedBeforeSending(t *testing.T) {
	addr := startUDP(t, respond)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, args := range [][]string{{"--addr", addr}, {"--addr", addr, "--count", "5"}} {
		code, stdout, stderr := clitest.Run(ctx, udpclient.Main, args, nil)
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
	_, stderr := clitest.MustRun(t, udpclient.Main, 0, "--addr", addr, "--count", "1200", "--rate", "1000", "--progress")
	if !strings.HasPrefix(stderr, "\rsent ") || !strings.HasSuffix(stderr, "\rsent 1200/1200 received 1200 unanswered 0 reordered 0 duplicated 0 corrupted 0\n") {
		t.Errorf("stderr %q", stderr)
	}
	// A short run prints no progress, even when asked.
	if _, stderr := clitest.MustRun(t, udpclient.Main, 0, "--addr", addr, "--count", "5", "--progress"); stderr != "" {
		t.Errorf("stderr %q", stderr)
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
	closed := addrtest.ClosedUDP(t)
	fast := []string{"--duration", "200ms"}
	cases := []clitest.Case{
		{Name: "text", Args: []string{"--addr", server, "--load", "--connections", "4"},
			Stdout: []string{"--- " + server + " load statistics (4 sockets, 68-byte requests, 200ms) ---\n", " received, 0 lost (0.00% loss), ", " replies/s, ", "bit/s\nrtt min/avg/p50/p90/p99/p99.9/max = ", "\n    "}},
		{Name: "deprecated --sockets", Args: []string{"--addr", server, "--load", "--sockets", "3"},
			Stdout: []string{"(3 sockets, "}, Stderr: "udp-client: --sockets is deprecated; use --connections\n"},
		{Name: "deprecated --concurrency", Args: []string{"--addr", server, "--load", "--concurrency", "2"},
			Stdout: []string{"(2 sockets, "}, Stderr: "udp-client: --concurrency is deprecated; use --connections\n"},
		{Name: "flags after a value-less mode", Args: []string{"--load", "--addr", server, "--connections", "2"},
			Stdout: []string{"(2 sockets, "}},
		{Name: "plain echo server, big requests", Args: []string{"--addr", echo, "--load", "--size", "1400"},
			Stdout: []string{"(1 sockets, 1400-byte requests, 200ms)", " 0 lost (0.00% loss)"}},
		{Name: "loss within max", Args: []string{"--addr", everyOther, "--load", "--connections", "2", "--timeout", "10ms", "--max-loss", "60"},
			Stdout: []string{" replies/s, "}},
		{Name: "loss by default", Args: []string{"--addr", everyOther, "--load", "--connections", "2", "--timeout", "10ms"},
			Stdout: []string{" replies/s, "}},
		{Name: "loss above max", Args: []string{"--addr", everyOther, "--load", "--connections", "2", "--timeout", "10ms", "--max-loss", "40"},
			Code: 1, Stdout: []string{" replies/s, "}, Stderr: "% is above --max-loss 40%\n"},
		{Name: "nothing listening", Args: []string{"--addr", closed, "--load", "--connections", "2", "--timeout", "20ms"},
			Code: 1, Stdout: []string{" sent, 0 received, ", " lost (100.00% loss)", "errors: refused "},
			Stderr: "udp-client: no replies from " + closed + " ("},
		{Name: "unresolvable", Args: []string{"--addr", "127.0.0.1:notaport", "--load"}, Code: 1, Stderr: "cannot resolve"},

		{Name: "with count", Args: []string{"--addr", server, "--load", "--count", "5"},
			Stdout: []string{"5 sent, 5 received, 0 lost"}},
		{Name: "open loop", Args: []string{"--addr", server, "--load", "--rate", "100", "--connections", "2"},
			Stdout: []string{", rate 100/s) ---\n", "\nschedule rate 100/s asked, ", "\nlatency  min/avg/p50/p90/p99/p99.9/max = ", " (from the scheduled start)\n"}},
		{Name: "open loop by bitrate", Args: []string{"--addr", server, "--load", "--bitrate", "54.4k"},
			Stdout: []string{", rate 100/s) ---\n"}},
		{Name: "with exit", Args: []string{"--load", "--exit", "s3cr3t-token"}, Code: 2, Stderr: "--load cannot be combined with --exit"},
		{Name: "with message", Args: []string{"--load", "--message", "hi"}, Code: 2, Stderr: "--load cannot be combined with --message"},
		{Name: "with tries", Args: []string{"--load", "--tries", "2"}, Code: 2, Stderr: "--load cannot be combined with --tries"},
		{Name: "rate and bitrate", Args: []string{"--load", "--rate", "10", "--bitrate", "1M"}, Code: 2, Stderr: "--rate cannot be combined with --bitrate"},
		{Name: "bad bitrate", Args: []string{"--load", "--bitrate", "10X"}, Code: 2, Stderr: `invalid --bitrate: "10X" is not a bit rate`},
		{Name: "bitrate over the rate cap", Args: []string{"--load", "--bitrate", "1T", "--size", "36"}, Code: 2, Stderr: "invalid --bitrate 1T: "},
		{Name: "count zero", Args: []string{"--load", "--count", "0"}, Code: 2, Stderr: "invalid --count 0"},
		{Name: "with progress", Args: []string{"--load", "--progress"}, Code: 2, Stderr: "--load cannot be combined with --progress"},
		{Name: "connections zero", Args: []string{"--load", "--connections", "0"}, Code: 2, Stderr: "invalid --connections 0: must be between 1 and 1024"},
		{Name: "connections over cap", Args: []string{"--load", "--connections", "1025"}, Code: 2, Stderr: "invalid --connections 1025"},
		{Name: "old and new name", Args: []string{"--load", "--sockets", "2", "--connections", "3"}, Code: 2,
			Stderr: "--connections and --sockets are the same flag: give one"},
		{Name: "size too small", Args: []string{"--load", "--size", "35"}, Code: 2, Stderr: "invalid --size 35: must be between 36 and 65507"},
		{Name: "size too big", Args: []string{"--load", "--size", "65508"}, Code: 2, Stderr: "invalid --size 65508"},
		{Name: "duration too short", Args: []string{"--load", "--duration", "99ms"}, Code: 2, Stderr: "invalid --duration 99ms: must be between 100ms and 1h0m0s"},
		{Name: "duration too long", Args: []string{"--load", "--duration", "61m"}, Code: 2, Stderr: "invalid --duration 1h1m0s"},
		{Name: "timeout zero", Args: []string{"--load", "--timeout", "0s"}, Code: 2, Stderr: "invalid --timeout 0s: must be between 1ms and 1m0s with --load"},
		{Name: "timeout too long", Args: []string{"--load", "--timeout", "2m"}, Code: 2, Stderr: "invalid --timeout 2m0s"},
		{Name: "max loss over 100", Args: []string{"--load", "--max-loss", "101"}, Code: 2, Stderr: "invalid --max-loss 101"},
		{Name: "max loss NaN", Args: []string{"--load", "--max-loss", "NaN"}, Code: 2, Stderr: "invalid --max-loss NaN"},
		{Name: "sockets without a mode", Args: []string{"--sockets", "2"}, Code: 2, Stderr: "--sockets needs --count or --duration or --load"},
		{Name: "load turned off", Args: []string{"--load=false", "--duration", "2s", "--rate", "0"}, Code: 2,
			Stderr: "--duration needs a rate above 0"},
		{Name: "size needs a mode", Args: []string{"--size", "100"}, Code: 2, Stderr: "--size needs --count or --duration or --load"},
	}
	for i, c := range cases {
		if c.Code != clientcli.ExitUsage {
			cases[i].Args = append(slices.Clone(c.Args), fast...)
		}
	}
	clitest.RunCases(t, udpclient.Main, cases)
}

func TestMain_LoadJSON(t *testing.T) {
	// Sequence numbers count from 1 on every socket: odd ones are dropped.
	everyOther := startUDP(t, func(b []byte, reply func([]byte)) {
		if probe.IsProbe(b) && seqOf(b)%2 == 0 {
			respond(b, reply)
		}
	})
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
	stdout := clitest.RunObject(t, udpclient.Main, 0, &v,
		"--addr", everyOther, "--load", "--connections", "3", "--size", "100", "--duration", "300ms", "--timeout", "10ms", "--json")
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
			stdout, _ := clitest.MustRun(t, udpclient.Main, 0, append([]string{"--addr", addr, "--json", "--report-interval", "50ms"}, tt.args...)...)
			r := clitest.ParseReport(t, stdout)
			var summary struct {
				Sent, Received, Lost int64
				Latency              struct{ N int64 }
			}
			if err := json.Unmarshal(r.Summary, &summary); err != nil {
				t.Fatal(err)
			}
			r.EveryOpTimed(t)
			sum := r.Sum()
			if len(r.Intervals) < 3 || sum.Sent != summary.Sent || sum.Ops != summary.Received || sum.Lost != summary.Lost ||
				sum.Latency.N != summary.Latency.N || summary.Lost == 0 {
				t.Errorf("%d intervals adding up to %+v; summary %s", len(r.Intervals), sum, r.Summary)
			}
		})
	}
}
