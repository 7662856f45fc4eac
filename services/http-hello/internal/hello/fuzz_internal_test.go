package hello

import (
	"bufio"
	"bytes"
	"net/http"
	"net/http/httptest"
	pathpkg "path"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/netlab/netlab/services/http-hello/internal/config"
)

// FuzzHandler: any request line and body the HTTP server lets through gets
// an answer from the routes, never a server error other than one /status
// was asked for; /bytes sends exactly the bytes it announces and never more
// than MAX_BYTES; /status answers the code asked for when it is 200..599;
// every response's Content-Length matches its body.
func FuzzHandler(f *testing.F) {
	for _, target := range []string{"/", "/echo", "/echo?x=1", "/status/404", "/status/503", "/status/600", "/status/-1",
		"/status/0x1F4", "/delay/0", "/delay/1ms", "/delay/0.0005", "/delay/-1", "/delay/NaN", "/delay/1e-300",
		"/delay/99999999999h", "/bytes/0", "/bytes/10", "/bytes/65536", "/bytes/65537", "/bytes/-1",
		"/bytes/+5", "/bytes/9223372036854775807", "/bytes/99999999999999999999", "/nope", "//", "/%2e%2e/"} {
		f.Add("GET", target, []byte{})
		f.Add("HEAD", target, []byte{})
	}
	f.Add("POST", "/echo", []byte("hello"))
	f.Add("PUT", "/echo", bytes.Repeat([]byte{'x'}, 2000))
	f.Add("POST", "/", []byte{})
	cfg := config.Config{Greeting: "Hello, World!", MaxDelay: time.Millisecond, MaxBytes: 1 << 16, MaxBody: 1024, MaxConcurrent: 4}
	s := unlistenedServer(f, cfg, "fuzz")
	h := s.instrument(s.routes())
	f.Fuzz(func(t *testing.T, method, target string, body []byte) {
		raw := method + " " + target + " HTTP/1.1\r\nHost: fuzz\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + string(body)
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return // the server would have refused it before any handler
		}
		r.RemoteAddr = "127.0.0.1:1"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		res := w.Result()
		code, got := res.StatusCode, w.Body.Bytes()
		path := r.URL.Path
		if code >= 500 && !strings.HasPrefix(path, "/status/") {
			t.Fatalf("%s %s: %d %q", method, target, code, got)
		}
		if cl := res.Header.Get("Content-Length"); cl != "" && method != http.MethodHead && cl != strconv.Itoa(len(got)) {
			t.Fatalf("%s %s: Content-Length %s with a %d-byte body", method, target, cl, len(got))
		}
		if len(got) > int(cfg.MaxBytes)+4096 {
			t.Fatalf("%s %s: %d-byte body", method, target, len(got))
		}
		if n, ok := strings.CutPrefix(path, "/bytes/"); ok && code == http.StatusOK {
			want, err := strconv.ParseInt(n, 10, 64)
			if err != nil || want < 0 || want > cfg.MaxBytes {
				t.Fatalf("%s %s: 200 for %q bytes", method, target, n)
			}
			if method != http.MethodHead && int64(len(got)) != want {
				t.Fatalf("%s %s: %d bytes", method, target, len(got))
			}
		}
		// Only a clean path with one non-empty segment reaches the route;
		// the mux answers the rest itself (404, or a redirect to the clean
		// path).
		if c, ok := strings.CutPrefix(path, "/status/"); ok && method == http.MethodGet &&
			c != "" && !strings.Contains(c, "/") && pathpkg.Clean(path) == path {
			n, err := strconv.Atoi(c)
			if valid := err == nil && n >= 200 && n <= 599; valid && code != n || !valid && code != http.StatusBadRequest {
				t.Fatalf("GET %s: %d", target, code)
			}
		}
	})
}

// unlistenedServer is a Server with cfg, fresh metrics and no listener,
// for tests that call its handlers directly.
func unlistenedServer(tb testing.TB, cfg config.Config, hostname string) *Server {
	tb.Helper()
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		tb.Fatal(err)
	}
	return &Server{cfg: cfg, log: zap.NewNop(), metrics: m, greeting: []byte(cfg.Greeting),
		greetingLength: []string{strconv.Itoa(len(cfg.Greeting))}, hostname: hostname, ips: []string{"127.0.0.1"}}
}
