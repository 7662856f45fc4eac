package httpclient_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netlab/netlab/services/http-hello/internal/httpclient"
	"github.com/netlab/netlab/services/platform/addrtest"
	"github.com/netlab/netlab/services/platform/clientcli/clitest"
)

// startServer runs the test server twice: plain HTTP/1.1, and with h2c.
func startServer(t *testing.T) (plain, h2c string) {
	t.Helper()
	return newServer(t, false).URL, newServer(t, true).URL
}

const rawReply = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!"

func TestMain_Modes(t *testing.T) {
	srv, h2c := startServer(t)
	raw, _ := rawServer(t, rawReply, false)
	refused := addrtest.ClosedTCP(t)
	clitest.RunCases(t, httpclient.Main, []clitest.Case{
		{Name: "default via env", Env: map[string]string{"HTTP_HELLO_URL": srv + "/"},
			Stdout: []string{"HTTP/1.1 200 OK\nHello, World!\ndns - connect ", " tls - first-byte ", " total "}},
		{Name: "argument beats env", Args: []string{srv}, Env: map[string]string{"HTTP_HELLO_URL": "http://" + refused + "/"},
			Stdout: []string{"HTTP/1.1 200 OK\nHello, World!\n"}},
		{Name: "url flag", Args: []string{"--url", srv + "/"}, Stdout: []string{"HTTP/1.1 200 OK\nHello, World!\n"}},
		{Name: "no scheme", Args: []string{strings.TrimPrefix(srv, "http://")}, Stdout: []string{"HTTP/1.1 200 OK\n"}},
		{Name: "unexpected status", Args: []string{srv + "/status/404"}, Code: 1,
			Stdout: []string{"HTTP/1.1 404 Not Found\nNot Found\ndns "},
			Stderr: "http-client: GET " + srv + "/status/404: 404 Not Found, expected 200\n"},
		{Name: "expected status", Args: []string{"--expect", "503", srv + "/status/503"}, Stdout: []string{"HTTP/1.1 503 Service Unavailable\n"}},
		{Name: "refused", Args: []string{"http://" + refused + "/"}, Code: 1, Stdout: []string{""}, Exact: true,
			Stderr: "http-client: cannot reach " + refused + ": connection refused\n"},
		{Name: "refused by default URL env", Env: map[string]string{"HTTP_HELLO_URL": refused}, Code: 1,
			Stderr: "cannot reach " + refused},
		{Name: "truncated", Args: []string{"--max-body", "10", srv + "/bytes/100"},
			Stdout: []string{"HTTP/1.1 200 OK\nxxxxxxxxxx\n[body truncated after 10 bytes; see --max-body]\ndns "}},
		{Name: "method header data", Args: []string{"--header", "X-Test: 1", "--data", "hi", srv + "/echo"},
			Stdout: []string{"HTTP/1.1 200 OK\nPOST HTTP/1.1 x=1 body=hi\n"}},
		{Name: "h2c", Args: []string{"--h2c", h2c + "/proto"}, Stdout: []string{"HTTP/2.0 200 OK\nHTTP/2.0\n"}},
		{Name: "http1", Args: []string{"--http1", h2c + "/proto"}, Stdout: []string{"HTTP/1.1 200 OK\nHTTP/1.1\n"}},

		{Name: "raw exact", Args: []string{"--raw", "http://" + raw + "/"}, Stdout: []string{rawReply}, Exact: true},
		{Name: "raw real server", Args: []string{"--raw", srv + "/"},
			Stdout: []string{"HTTP/1.1 200 OK\r\n", "Content-Type: text/plain; charset=utf-8\r\n", "Content-Length: 13\r\n", "Connection: close\r\n\r\nHello, World!"}},
		{Name: "raw refused", Args: []string{"--raw", "http://" + refused + "/"}, Code: 1,
			Stderr: "http-client: cannot reach " + refused + ": connection refused\n"},
		{Name: "raw capped", Args: []string{"--raw", "--max-body", "0", srv + "/"}, Stdout: []string{"HTTP/1.1 200 OK\r\n"}},

		{Name: "count keep-alive", Args: []string{"--count", "10", "--connections", "1", srv},
			Stdout: []string{"#1 HTTP/1.1 200 OK 13 bytes new conn dns - connect ", "#2 HTTP/1.1 200 OK 13 bytes reused conn dns - connect - tls - first-byte ",
				"--- GET " + srv + "/: 10 requests, 1 connections ---\n10 requests, 10 ok, 0 errors in ",
				"status 200: 10\nconnections: 1 new, 9 reused\ntotal      min/avg/p50/p90/p99/p99.9/max = ", "first-byte min/avg/p50/p90/p99/p99.9/max = "}},
		{Name: "count quiet concurrent", Args: []string{"--count", "50", "--connections", "5", "--quiet", srv},
			Stdout: []string{"50 requests, 50 ok, 0 errors"}, NotStdout: "#1 "},
		{Name: "flags after the URL", Args: []string{srv, "--count", "5", "--quiet"},
			Stdout: []string{"5 requests, 5 ok, 0 errors"}, NotStdout: "#1 "},
		{Name: "raw after the URL", Args: []string{srv + "/", "--raw"}, Stdout: []string{"HTTP/1.1 200 OK\r\n"}},
		{Name: "-- ends the flags", Args: []string{"--", "--raw:99999"}, Code: 2, Stderr: `invalid URL "--raw:99999": bad port "99999" (from the argument)`},
		{Name: "deprecated --concurrency", Args: []string{"--count", "4", "--concurrency", "2", "--quiet", srv},
			Stdout: []string{"4 requests, 2 connections ---\n4 requests, 4 ok"},
			Stderr: "http-client: --concurrency is deprecated; use --connections\n"},
		{Name: "count h2c", Args: []string{"--count", "10", "--quiet", "--h2c", h2c},
			Stdout: []string{"10 requests, 10 ok", "connections: 1 new, 9 reused"}},
		{Name: "count paced", Args: []string{"--count", "3", "--rate", "1000", "--quiet", srv},
			Stdout: []string{"3 requests, 1 connections, rate 1000/s ---\n3 requests, 3 ok"}},
		{Name: "count bad status", Args: []string{"--count", "3", "--quiet", srv + "/status/500"}, Code: 1,
			Stdout: []string{"3 requests, 0 ok, 3 errors", "status 500: 3\nerrors: status 3\n"},
			Stderr: "http-client: 3 of 3 requests failed (status 3; last: GET " + srv + "/status/500: 500 Internal Server Error, expected 200)\n"},
		{Name: "count refused", Args: []string{"--count", "2", "http://" + refused}, Code: 1,
			Stdout:    []string{"#1 error: cannot reach " + refused + ": connection refused", "2 requests, 0 ok, 2 errors", "errors: refused 2\nconnections: 0 new, 0 reused\n"},
			NotStdout: "min/avg", Stderr: "2 of 2 requests failed (refused 2; last: cannot reach"},
		{Name: "duration", Args: []string{"--duration", "100ms", "--quiet", srv},
			Stdout: []string{"for 100.0ms, 1 connections ---\n", " ok, 0 errors in ", "100.0% #"}},
		{Name: "open loop", Args: []string{"--duration", "200ms", "--rate", "100", "--quiet", srv},
			Stdout: []string{"for 200.0ms, 1 connections, rate 100/s ---\n", "schedule   rate 100/s asked, ",
				"latency    min/avg/p50/p90/p99/p99.9/max = ", "(from the scheduled start)\ntotal      min/avg"}},
		{Name: "new connection each request", Args: []string{"--count", "3", "--new-conn", "--quiet", srv},
			Stdout: []string{"connections: 3 new, 0 reused\n", "connect    min/avg/p50/p90/p99/p99.9/max = "}},
		{Name: "h2c streams", Args: []string{"--count", "20", "--h2c", "--connections", "2", "--streams", "4", "--quiet", h2c},
			Stdout: []string{"20 requests, 2 connections × 4 streams ---\n20 requests, 20 ok", "connections: 2 new, 18 reused\n"}},
		{Name: "pages", Args: []string{"--count", "3", "--pages", "2", "--quiet", srv},
			Stdout: []string{"--- GET " + srv + "/: 2 pages of 3 requests, 1 connections ---\n6 requests, 6 ok, 0 errors",
				"connections: 2 new, 4 reused\npages      2 of 3 requests: time min/p50/max = "}},
		{Name: "pages h2c", Args: []string{"--count", "4", "--pages", "2", "--h2c", "--streams", "4", "--quiet", h2c},
			Stdout: []string{"2 pages of 4 requests, 1 connections × 4 streams ---\n8 requests, 8 ok", "connections: 2 new, 6 reused\npages      2 of 4 requests"}},
		{Name: "help", Args: []string{"--help"}, Stdout: []string{"Usage: http-client [flags] [URL]", "--pages P"}},

		{Name: "unknown flag", Args: []string{"--bogus"}, Code: 2, Stderr: "flag provided but not defined: -bogus"},
		{Name: "two arguments", Args: []string{"a", "b"}, Code: 2, Stderr: `unexpected argument "b"`},
		{Name: "argument and url", Args: []string{"--url", srv, srv}, Code: 2, Stderr: "not both"},
		{Name: "bad scheme", Args: []string{"ftp://x/"}, Code: 2, Stderr: "the scheme must be http or https (from the argument)"},
		{Name: "bad env URL", Env: map[string]string{"HTTP_HELLO_URL": "http://:80/"}, Code: 2, Stderr: "(from HTTP_HELLO_URL)"},
		{Name: "bad header", Args: []string{"--header", "nocolon"}, Code: 2, Stderr: "invalid header"},
		{Name: "bad method", Args: []string{"--method", "GE T"}, Code: 2, Stderr: `invalid --method "GE T"`},
		{Name: "zero timeout", Args: []string{"--timeout", "0s"}, Code: 2, Stderr: "invalid --timeout 0s"},
		{Name: "bad expect", Args: []string{"--expect", "99"}, Code: 2, Stderr: "invalid --expect 99"},
		{Name: "bad max body", Args: []string{"--max-body", "lots"}, Code: 2, Stderr: "--max-body: invalid size"},
		{Name: "huge max body", Args: []string{"--max-body", "2GiB"}, Code: 2, Stderr: "invalid --max-body 2GiB"},
		{Name: "http1 and h2c", Args: []string{"--http1", "--h2c"}, Code: 2, Stderr: "--http1 cannot be combined with --h2c"},
		{Name: "h2c over https", Args: []string{"--h2c", "https://x/"}, Code: 2, Stderr: "--h2c needs an http:// URL"},
		{Name: "count zero", Args: []string{"--count", "0"}, Code: 2, Stderr: "invalid --count 0"},
		{Name: "count over cap", Args: []string{"--count", "10000001"}, Code: 2, Stderr: "invalid --count 10000001"},
		{Name: "connections over cap", Args: []string{"--count", "1", "--connections", "10001"}, Code: 2, Stderr: "invalid --connections 10001"},
		{Name: "connections zero", Args: []string{"--count", "1", "--connections", "0"}, Code: 2, Stderr: "invalid --connections 0"},
		{Name: "rate NaN", Args: []string{"--count", "1", "--rate", "NaN"}, Code: 2, Stderr: "invalid --rate NaN"},
		{Name: "rate negative", Args: []string{"--count", "1", "--rate", "-1"}, Code: 2, Stderr: "invalid --rate -1"},
		{Name: "connections without count", Args: []string{"--connections", "2"}, Code: 2, Stderr: "--connections needs --count"},
		{Name: "report interval without count", Args: []string{"--report-interval", "1s"}, Code: 2, Stderr: "--report-interval needs --count"},
		{Name: "report interval too long", Args: []string{"--count", "1", "--report-interval", "2h"}, Code: 2, Stderr: "invalid --report-interval 2h0m0s"},
		{Name: "quiet without count", Args: []string{"--quiet"}, Code: 2, Stderr: "--quiet needs --count"},
		{Name: "raw with count", Args: []string{"--raw", "--count", "2"}, Code: 2, Stderr: "--raw cannot be combined with --count"},
		{Name: "raw with json", Args: []string{"--raw", "--json"}, Code: 2, Stderr: "--raw cannot be combined with --json"},
		{Name: "raw with h2c", Args: []string{"--raw", "--h2c"}, Code: 2, Stderr: "--raw cannot be combined with --h2c"},
		{Name: "raw over https", Args: []string{"--raw", "https://x/"}, Code: 2, Stderr: "--raw needs an http:// URL"},
		{Name: "duration too short", Args: []string{"--duration", "0s"}, Code: 2, Stderr: "invalid --duration 0s"},
		{Name: "streams without h2c", Args: []string{"--count", "1", "--streams", "2"}, Code: 2, Stderr: "--streams needs --h2c"},
		{Name: "streams zero", Args: []string{"--count", "1", "--h2c", "--streams", "0"}, Code: 2, Stderr: "invalid --streams 0"},
		{Name: "too many in flight", Args: []string{"--count", "1", "--h2c", "--connections", "101", "--streams", "100"},
			Code: 2, Stderr: "invalid --connections 101 × --streams 100"},
		{Name: "save without load", Args: []string{"--save", "x.json"}, Code: 2, Stderr: "--save needs --count or --duration"},
		{Name: "label without save", Args: []string{"--count", "1", "--label", "x"}, Code: 2, Stderr: "--label is only for --save"},
		{Name: "raw with duration", Args: []string{"--raw", "--duration", "1s"}, Code: 2, Stderr: "--raw cannot be combined with --duration"},
		{Name: "raw with new-conn", Args: []string{"--raw", "--new-conn"}, Code: 2, Stderr: "--raw cannot be combined with --new-conn"},
		{Name: "pages without count", Args: []string{"--pages", "2"}, Code: 2, Stderr: "--pages needs --count"},
		{Name: "pages with duration", Args: []string{"--count", "2", "--duration", "1s", "--pages", "2"}, Code: 2, Stderr: "--pages cannot be combined with --duration"},
		{Name: "pages with rate", Args: []string{"--count", "2", "--rate", "10", "--pages", "2"}, Code: 2, Stderr: "--pages cannot be combined with --rate"},
		{Name: "pages zero", Args: []string{"--count", "2", "--pages", "0"}, Code: 2, Stderr: "invalid --pages 0"},
		{Name: "pages over cap", Args: []string{"--count", "2", "--pages", "10001"}, Code: 2, Stderr: "invalid --pages 10001"},
		{Name: "pages times count over cap", Args: []string{"--count", "10000000", "--pages", "2"}, Code: 2, Stderr: "invalid --count 10000000 × --pages 2"},
	})
}

func TestMain_JSON(t *testing.T) {
	srv, _ := startServer(t)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     map[string]any
	}{
		{"request", []string{"--json", srv}, 0,
			map[string]any{"mode": "request", "status_code": 200.0, "proto": "HTTP/1.1", "body": "Hello, World!", "body_bytes": 13.0}},
		{"request bad status", []string{"--json", srv + "/status/404"}, 1,
			map[string]any{"mode": "request", "status_code": 404.0, "error": "GET " + srv + "/status/404: 404 Not Found, expected 200"}},
		{"load", []string{"--json", "--count", "10", srv}, 0,
			map[string]any{"mode": "load", "requests": 10.0, "ok": 10.0, "errors": 0.0, "new_conns": 1.0, "reused_conns": 9.0, "interrupted": false}},
		{"open loop", []string{"--json", "--count", "10", "--rate", "500", srv}, 0,
			map[string]any{"mode": "load", "requests": 10.0, "ok": 10.0, "rate": 500.0, "period_ns": 0.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got map[string]any
			clitest.RunObject(t, httpclient.Main, tt.wantCode, &got, tt.args...)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
			if tt.want["mode"] == "load" {
				for _, key := range []string{"latency", "first_byte"} {
					l, _ := got[key].(map[string]any)
					if len(l) != 8 || l["n"] != 10.0 || l["p99_ns"].(float64) <= 0 || l["p999_ns"].(float64) < l["p99_ns"].(float64) {
						t.Errorf("%s = %v", key, got[key])
					}
				}
				if got["connections"] != 1.0 {
					t.Errorf("connections = %v", got["connections"])
				}
				sched, _ := got["schedule"].(map[string]any)
				if (tt.want["rate"] != nil) != (sched != nil) || sched != nil && (sched["target_rate"] != 500.0 || sched["started"] != 10.0) {
					t.Errorf("schedule = %v: want one only for an open loop", got["schedule"])
				}
				if codes, _ := got["status_codes"].(map[string]any); codes["200"] != 10.0 {
					t.Errorf("status_codes = %v", got["status_codes"])
				}
			} else if timings, _ := got["timings"].(map[string]any); timings["total_ns"].(float64) <= 0 || timings["dns_ns"] != nil {
				t.Errorf("timings = %v", got["timings"])
			}
		})
	}
}

// TestMain_Interrupted stands for Ctrl-C: the context ends during a load run,
// and the summary so far is printed.
func TestMain_Interrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	code, stdout, stderr := clitest.Run(ctx, httpclient.Main, []string{"--count", "100", "--quiet", interruptingServer(t, 3, cancel)}, nil)
	if code != 0 {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if want := "3 requests, 3 ok, 0 errors"; !strings.Contains(stdout, want) || !strings.Contains(stdout, "(interrupted after 3 of 100)") {
		t.Errorf("stdout %q, want %q and the interruption", stdout, want)
	}
}

// TestMain_ReportInterval runs a load with --report-interval: in text, a
// line per interval before the summary; in JSON, interval objects whose
// requests, bytes and errors add up to the summary.
func TestMain_ReportInterval(t *testing.T) {
	srv, _ := startServer(t)
	// Every request fails: exit 1.
	stdout, _ := clitest.MustRun(t, httpclient.Main, 1, srv+"/status/503", "--count", "300", "--rate", "1500",
		"--connections", "2", "--report-interval", "50ms", "--json")
	r := clitest.ParseReport(t, stdout)
	var summary struct {
		Requests, Errors, Bytes int64
		Latency                 struct{ N int64 }
	}
	if err := json.Unmarshal(r.Summary, &summary); err != nil {
		t.Fatal(err)
	}
	sum := r.Sum()
	if len(r.Intervals) < 3 || sum.Ops != 300 || sum.Ops != summary.Requests || sum.Bytes != summary.Bytes ||
		sum.Errors != summary.Errors || sum.Errors != 300 || sum.Latency.N != summary.Latency.N {
		t.Errorf("%d intervals adding up to %+v; summary %s", len(r.Intervals), sum, r.Summary)
	}

	stdout, _ = clitest.MustRun(t, httpclient.Main, 0, "--report-interval", "20ms", "--count", "50", "--rate", "1000", "--quiet", srv)
	if !strings.HasPrefix(stdout, "[   0.00-   0.0") || !strings.Contains(stdout, "\n--- GET "+srv+"/: 50 requests, 1 connections") {
		t.Errorf("text report:\n%s", stdout)
	}
}

// --save writes a record netlab compare reads; --save - puts it alone on
// standard output and the usual report on standard error.
func TestMain_Save(t *testing.T) {
	srv, _ := startServer(t)
	path := filepath.Join(t.TempDir(), "run.json")
	stdout, _ := clitest.MustRun(t, httpclient.Main, 0, "--count", "5", "--quiet", "--save", path, "--label", "five", srv)
	if !strings.Contains(stdout, "5 requests, 5 ok") {
		t.Fatalf("stdout %q", stdout)
	}
	rec := clitest.ReadRecordFile(t, path)
	if rec.Client != "http-client" || rec.Label != "five" || rec.Summary.Ops != 5 || rec.Summary.Target != srv+"/" ||
		rec.Histogram == nil || rec.Histogram.N != 5 || !strings.Contains(string(rec.Result), `"requests":5`) {
		t.Errorf("record %+v", rec)
	}

	rec, stderr := clitest.RunSaved(t, httpclient.Main, "--duration", "50ms", "--rate", "200", "--save", "-", srv)
	if !strings.Contains(stderr, "schedule   rate 200/s asked") || rec.Schedule == nil || rec.Schedule.TargetRate != 200 || len(rec.Intervals) == 0 {
		t.Errorf("record from stdout %+v, report %q", rec, stderr)
	}
}
