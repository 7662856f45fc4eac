package httpclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/netlab/netlab/services/http-hello/internal/httpclient"
)

// runMain runs http-client with args and the environment env.
func runMain(ctx context.Context, args []string, env map[string]string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = httpclient.Main(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// startServer runs the test server twice: plain HTTP/1.1, and with h2c.
func startServer(t *testing.T) (plain, h2c string) {
	t.Helper()
	return newServer(t, false).URL, newServer(t, true).URL
}

const rawReply = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!"

func TestMain_Modes(t *testing.T) {
	srv, h2c := startServer(t)
	raw, _ := rawServer(t, rawReply, false)
	refused := refusedAddr(t)
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantStdout []string // substrings, in order
		wantExact  string   // whole stdout, when set
		notStdout  string
		wantStderr string // substring
	}{
		{name: "default via env", env: map[string]string{"HTTP_HELLO_URL": srv + "/"},
			wantStdout: []string{"HTTP/1.1 200 OK\nHello, World!\ndns - connect ", " tls - first-byte ", " total "}},
		{name: "argument beats env", args: []string{srv}, env: map[string]string{"HTTP_HELLO_URL": "http://" + refused + "/"},
			wantStdout: []string{"HTTP/1.1 200 OK\nHello, World!\n"}},
		{name: "url flag", args: []string{"--url", srv + "/"}, wantStdout: []string{"HTTP/1.1 200 OK\nHello, World!\n"}},
		{name: "no scheme", args: []string{strings.TrimPrefix(srv, "http://")}, wantStdout: []string{"HTTP/1.1 200 OK\n"}},
		{name: "unexpected status", args: []string{srv + "/status/404"}, wantCode: 1,
			wantStdout: []string{"HTTP/1.1 404 Not Found\nNot Found\ndns "},
			wantStderr: "http-client: GET " + srv + "/status/404: 404 Not Found, expected 200\n"},
		{name: "expected status", args: []string{"--expect", "503", srv + "/status/503"}, wantStdout: []string{"HTTP/1.1 503 Service Unavailable\n"}},
		{name: "refused", args: []string{"http://" + refused + "/"}, wantCode: 1, wantExact: "",
			wantStderr: "http-client: cannot reach " + refused + ": connection refused\n"},
		{name: "refused by default URL env", env: map[string]string{"HTTP_HELLO_URL": refused}, wantCode: 1,
			wantStderr: "cannot reach " + refused},
		{name: "truncated", args: []string{"--max-body", "10", srv + "/bytes/100"},
			wantStdout: []string{"HTTP/1.1 200 OK\nxxxxxxxxxx\n[body truncated after 10 bytes; see --max-body]\ndns "}},
		{name: "method header data", args: []string{"--header", "X-Test: 1", "--data", "hi", srv + "/echo"},
			wantStdout: []string{"HTTP/1.1 200 OK\nPOST HTTP/1.1 x=1 body=hi\n"}},
		{name: "h2c", args: []string{"--h2c", h2c + "/proto"}, wantStdout: []string{"HTTP/2.0 200 OK\nHTTP/2.0\n"}},
		{name: "http1", args: []string{"--http1", h2c + "/proto"}, wantStdout: []string{"HTTP/1.1 200 OK\nHTTP/1.1\n"}},

		{name: "raw exact", args: []string{"--raw", "http://" + raw + "/"}, wantExact: rawReply},
		{name: "raw real server", args: []string{"--raw", srv + "/"},
			wantStdout: []string{"HTTP/1.1 200 OK\r\n", "Content-Type: text/plain; charset=utf-8\r\n", "Content-Length: 13\r\n", "Connection: close\r\n\r\nHello, World!"}},
		{name: "raw refused", args: []string{"--raw", "http://" + refused + "/"}, wantCode: 1,
			wantStderr: "http-client: cannot reach " + refused + ": connection refused\n"},
		{name: "raw capped", args: []string{"--raw", "--max-body", "0", srv + "/"}, wantStdout: []string{"HTTP/1.1 200 OK\r\n"}},

		{name: "count keep-alive", args: []string{"--count", "10", "--connections", "1", srv},
			wantStdout: []string{"#1 HTTP/1.1 200 OK 13 bytes new conn dns - connect ", "#2 HTTP/1.1 200 OK 13 bytes reused conn dns - connect - tls - first-byte ",
				"--- GET " + srv + "/: 10 requests, 1 connections ---\n10 requests, 10 ok, 0 errors in ",
				"status 200: 10\nconnections: 1 new, 9 reused\ntotal      min/avg/p50/p90/p99/p99.9/max = ", "first-byte min/avg/p50/p90/p99/p99.9/max = "}},
		{name: "count quiet concurrent", args: []string{"--count", "50", "--connections", "5", "--quiet", srv},
			wantStdout: []string{"50 requests, 50 ok, 0 errors"}, notStdout: "#1 "},
		{name: "flags after the URL", args: []string{srv, "--count", "5", "--quiet"},
			wantStdout: []string{"5 requests, 5 ok, 0 errors"}, notStdout: "#1 "},
		{name: "raw after the URL", args: []string{srv + "/", "--raw"}, wantStdout: []string{"HTTP/1.1 200 OK\r\n"}},
		{name: "-- ends the flags", args: []string{"--", "--raw:99999"}, wantCode: 2, wantStderr: `invalid URL "--raw:99999": bad port "99999" (from the argument)`},
		{name: "deprecated --concurrency", args: []string{"--count", "4", "--concurrency", "2", "--quiet", srv},
			wantStdout: []string{"4 requests, 2 connections ---\n4 requests, 4 ok"},
			wantStderr: "http-client: --concurrency is deprecated; use --connections\n"},
		{name: "count h2c", args: []string{"--count", "10", "--quiet", "--h2c", h2c},
			wantStdout: []string{"10 requests, 10 ok", "connections: 1 new, 9 reused"}},
		{name: "count paced", args: []string{"--count", "3", "--rate", "1000", "--quiet", srv},
			wantStdout: []string{"3 requests, 1 connections, rate 1000/s ---\n3 requests, 3 ok"}},
		{name: "count bad status", args: []string{"--count", "3", "--quiet", srv + "/status/500"}, wantCode: 1,
			wantStdout: []string{"3 requests, 0 ok, 3 errors", "status 500: 3\nerrors: status 3\n"},
			wantStderr: "http-client: 3 of 3 requests failed (status 3; last: GET " + srv + "/status/500: 500 Internal Server Error, expected 200)\n"},
		{name: "count refused", args: []string{"--count", "2", "http://" + refused}, wantCode: 1,
			wantStdout: []string{"#1 error: cannot reach " + refused + ": connection refused", "2 requests, 0 ok, 2 errors", "errors: refused 2\nconnections: 0 new, 0 reused\n"},
			notStdout:  "min/avg", wantStderr: "2 of 2 requests failed (refused 2; last: cannot reach"},
		{name: "help", args: []string{"--help"}, wantStdout: []string{"Usage: http-client [flags] [URL]"}},

		{name: "unknown flag", args: []string{"--bogus"}, wantCode: 2, wantStderr: "flag provided but not defined: -bogus"},
		{name: "two arguments", args: []string{"a", "b"}, wantCode: 2, wantStderr: `unexpected argument "b"`},
		{name: "argument and url", args: []string{"--url", srv, srv}, wantCode: 2, wantStderr: "not both"},
		{name: "bad scheme", args: []string{"ftp://x/"}, wantCode: 2, wantStderr: "the scheme must be http or https (from the argument)"},
		{name: "bad env URL", env: map[string]string{"HTTP_HELLO_URL": "http://:80/"}, wantCode: 2, wantStderr: "(from HTTP_HELLO_URL)"},
		{name: "bad header", args: []string{"--header", "nocolon"}, wantCode: 2, wantStderr: "invalid header"},
		{name: "bad method", args: []string{"--method", "GE T"}, wantCode: 2, wantStderr: `invalid --method "GE T"`},
		{name: "zero timeout", args: []string{"--timeout", "0s"}, wantCode: 2, wantStderr: "invalid --timeout 0s"},
		{name: "bad expect", args: []string{"--expect", "99"}, wantCode: 2, wantStderr: "invalid --expect 99"},
		{name: "bad max body", args: []string{"--max-body", "lots"}, wantCode: 2, wantStderr: "--max-body: invalid size"},
		{name: "huge max body", args: []string{"--max-body", "2GiB"}, wantCode: 2, wantStderr: "invalid --max-body 2GiB"},
		{name: "http1 and h2c", args: []string{"--http1", "--h2c"}, wantCode: 2, wantStderr: "--http1 cannot be combined with --h2c"},
		{name: "h2c over https", args: []string{"--h2c", "https://x/"}, wantCode: 2, wantStderr: "--h2c needs an http:// URL"},
		{name: "count zero", args: []string{"--count", "0"}, wantCode: 2, wantStderr: "invalid --count 0"},
		{name: "count over cap", args: []string{"--count", "10000001"}, wantCode: 2, wantStderr: "invalid --count 10000001"},
		{name: "connections over cap", args: []string{"--count", "1", "--connections", "10001"}, wantCode: 2, wantStderr: "invalid --connections 10001"},
		{name: "connections zero", args: []string{"--count", "1", "--connections", "0"}, wantCode: 2, wantStderr: "invalid --connections 0"},
		{name: "rate NaN", args: []string{"--count", "1", "--rate", "NaN"}, wantCode: 2, wantStderr: "invalid --rate NaN"},
		{name: "rate negative", args: []string{"--count", "1", "--rate", "-1"}, wantCode: 2, wantStderr: "invalid --rate -1"},
		{name: "connections without count", args: []string{"--connections", "2"}, wantCode: 2, wantStderr: "--connections needs --count"},
		{name: "report interval without count", args: []string{"--report-interval", "1s"}, wantCode: 2, wantStderr: "--report-interval needs --count"},
		{name: "report interval too long", args: []string{"--count", "1", "--report-interval", "2h"}, wantCode: 2, wantStderr: "invalid --report-interval 2h0m0s"},
		{name: "quiet without count", args: []string{"--quiet"}, wantCode: 2, wantStderr: "--quiet needs --count"},
		{name: "raw with count", args: []string{"--raw", "--count", "2"}, wantCode: 2, wantStderr: "--raw cannot be combined with --count"},
		{name: "raw with json", args: []string{"--raw", "--json"}, wantCode: 2, wantStderr: "--raw cannot be combined with --json"},
		{name: "raw with h2c", args: []string{"--raw", "--h2c"}, wantCode: 2, wantStderr: "--raw cannot be combined with --h2c"},
		{name: "raw over https", args: []string{"--raw", "https://x/"}, wantCode: 2, wantStderr: "--raw needs an http:// URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runMain(t.Context(), tt.args, tt.env)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tt.wantCode, stderr)
			}
			if tt.wantStdout == nil && out != tt.wantExact {
				t.Errorf("stdout %q, want %q", out, tt.wantExact)
			}
			rest := out
			for _, want := range tt.wantStdout {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Errorf("stdout %q, want %q (in order)", out, want)
					break
				}
				rest = rest[i+len(want):]
			}
			if tt.notStdout != "" && strings.Contains(out, tt.notStdout) {
				t.Errorf("stdout %q contains %q", out, tt.notStdout)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr %q, want %q", stderr, tt.wantStderr)
			}
			if tt.wantStderr == "" && stderr != "" {
				t.Errorf("unexpected stderr %q", stderr)
			}
			if tt.wantCode == 2 && !strings.HasSuffix(stderr, "\nRun 'http-client --help' for usage.\n") {
				t.Errorf("usage error without the help hint: %q", stderr)
			}
		})
	}
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t.Context(), tt.args, nil)
			if code != tt.wantCode {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if strings.Count(stdout, "\n") != 1 {
				t.Errorf("want one line, got %q", stdout)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("%v: %s", err, stdout)
			}
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
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) > 3 {
			cancel()
			<-r.Context().Done()
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	code, stdout, stderr := runMain(ctx, []string{"--count", "100", "--quiet", srv.URL}, nil)
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
	code, stdout, stderr := runMain(t.Context(), []string{srv + "/status/503", "--count", "300", "--rate", "1500",
		"--connections", "2", "--report-interval", "50ms", "--json"}, nil)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (every request fails): %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	var summary struct {
		Mode             string
		Requests, Errors int64
		Bytes            int64
		Latency          struct{ N int64 }
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &summary); err != nil || summary.Mode != "load" {
		t.Fatalf("last line is not the summary (%v): %s", err, lines[len(lines)-1])
	}
	var ops, bytes, errs, latencies int64
	for _, line := range lines[:len(lines)-1] {
		var iv struct {
			Type               string
			Ops, Bytes, Errors int64
			Latency            struct{ N int64 }
		}
		if err := json.Unmarshal([]byte(line), &iv); err != nil || iv.Type != "interval" {
			t.Fatalf("not an interval line (%v): %s", err, line)
		}
		ops, bytes, errs, latencies = ops+iv.Ops, bytes+iv.Bytes, errs+iv.Errors, latencies+iv.Latency.N
	}
	if len(lines) < 4 || ops != 300 || ops != summary.Requests || bytes != summary.Bytes || errs != summary.Errors ||
		errs != 300 || latencies != summary.Latency.N {
		t.Errorf("%d intervals: %d requests, %d bytes, %d errors, %d latencies; summary %+v", len(lines)-1, ops, bytes, errs, latencies, summary)
	}

	code, stdout, _ = runMain(t.Context(), []string{"--report-interval", "20ms", "--count", "50", "--rate", "1000", "--quiet", srv}, nil)
	if code != 0 || !strings.HasPrefix(stdout, "[   0.00-   0.0") || !strings.Contains(stdout, "\n--- GET "+srv+"/: 50 requests, 1 connections") {
		t.Errorf("text report, exit %d:\n%s", code, stdout)
	}
}
