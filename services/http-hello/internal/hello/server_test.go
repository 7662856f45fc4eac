package hello_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/services/http-hello/internal/config"
	"github.com/netlab/netlab/services/http-hello/internal/hello"
	platformconfig "github.com/netlab/netlab/services/platform/config"
	"github.com/netlab/netlab/services/platform/lifecycle/lifecycletest"
	"github.com/netlab/netlab/services/platform/poll"
	"github.com/netlab/netlab/services/platform/promset/promsettest"
)

func testConfig() config.Config {
	return config.Config{
		Shared:            platformconfig.Shared{ShutdownTimeout: 5 * time.Second},
		ListenAddr:        "127.0.0.1:0",
		Greeting:          "Hello, World!",
		MaxDelay:          2 * time.Second,
		MaxBytes:          1 << 20,
		MaxBody:           1024,
		MaxHeaderBytes:    4096,
		MaxConcurrent:     100,
		ReadHeaderTimeout: 500 * time.Millisecond,
		ReadTimeout:       5 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       time.Minute,
	}
}

type running struct {
	*lifecycletest.Started[*hello.Server]
	base string
}

func start(tb testing.TB, cfg config.Config) *running {
	tb.Helper()
	started := lifecycletest.Start(tb, hello.New, cfg, cfg.ShutdownTimeout+5*time.Second)
	return &running{Started: started, base: "http://" + started.Server.Addr().String()}
}

// newRequest is a method request for url carrying body.
func newRequest(tb testing.TB, method, url, body string) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

// do sends req and returns the response with its whole body.
func do(tb testing.TB, req *http.Request) (*http.Response, string) {
	tb.Helper()
	return doWith(tb, http.DefaultClient, req)
}

// doWith is do with client c.
func doWith(tb testing.TB, c *http.Client, req *http.Request) (*http.Response, string) {
	tb.Helper()
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return resp, string(body)
}

func get(tb testing.TB, url string) (*http.Response, string) {
	tb.Helper()
	return do(tb, newRequest(tb, "GET", url, ""))
}

func TestServer_SaysHelloLikeTheTutorial(t *testing.T) {
	r := start(t, testConfig())
	resp, body := get(t, r.base+"/")
	if resp.StatusCode != 200 || body != "Hello, World!" {
		t.Fatalf("GET / = %d %q", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Fatalf("Content-Type = %q", ct)
	}
	head, _ := do(t, newRequest(t, "HEAD", r.base+"/", ""))
	if head.StatusCode != 200 || head.ContentLength != int64(len("Hello, World!")) {
		t.Fatalf("HEAD / = %d, length %d", head.StatusCode, head.ContentLength)
	}
	if resp, _ := get(t, r.base+"/nope"); resp.StatusCode != 404 {
		t.Fatalf("GET /nope = %d, want 404", resp.StatusCode)
	}
	if post, _ := do(t, newRequest(t, "POST", r.base+"/", "x")); post.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST / = %d, want 405", post.StatusCode)
	}
}

func TestServer_GreetingIsConfigurable(t *testing.T) {
	cfg := testConfig()
	cfg.Greeting = "Bonjour"
	r := start(t, cfg)
	if _, body := get(t, r.base+"/"); body != "Bonjour" {
		t.Fatalf("GET / = %q", body)
	}
}

func TestServer_SpeaksCleartextHTTP2(t *testing.T) {
	r := start(t, testConfig())
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	client := &http.Client{Transport: &http.Transport{Protocols: &protocols}}
	resp, body := doWith(t, client, newRequest(t, "GET", r.base+"/", ""))
	if resp.ProtoMajor != 2 || body != "Hello, World!" {
		t.Fatalf("h2c GET / = %s %q", resp.Proto, body)
	}
}

func TestServer_EchoDescribesTheRequestAndTheReplica(t *testing.T) {
	r := start(t, testConfig())
	req := newRequest(t, "PUT", r.base+"/echo?x=1", "twelve bytes")
	req.Header.Set("X-Lab", "yes")
	_, body := do(t, req)
	var got struct {
		Method, Path, Query, Proto, Hostname string
		RemoteAddr                           string `json:"remote_addr"`
		Headers                              map[string][]string
		BodyBytes                            int64 `json:"body_bytes"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Method != "PUT" || got.Path != "/echo" || got.Query != "x=1" || got.BodyBytes != 12 ||
		got.Headers["X-Lab"][0] != "yes" || got.Hostname == "" || got.RemoteAddr == "" {
		t.Fatalf("echo = %+v", got)
	}
}

func TestServer_Limits(t *testing.T) {
	r := start(t, testConfig())
	tests := []struct {
		name     string
		method   string
		path     string
		body     string
		wantCode int
	}{
		{"status 418", "GET", "/status/418", "", 418},
		{"status 503", "GET", "/status/503", "", 503},
		{"status not a number", "GET", "/status/abc", "", 400},
		{"informational status refused", "GET", "/status/101", "", 400},
		{"delay within MAX_DELAY", "GET", "/delay/10ms", "", 200},
		{"delay in seconds", "GET", "/delay/0.01", "", 200},
		{"delay over MAX_DELAY", "GET", "/delay/3s", "", 400},
		{"delay nonsense", "GET", "/delay/soon", "", 400},
		{"bytes within MAX_BYTES", "GET", "/bytes/1048576", "", 200},
		{"bytes over MAX_BYTES", "GET", "/bytes/1048577", "", 400},
		{"bytes negative", "GET", "/bytes/-1", "", 400},
		{"body within MAX_BODY", "POST", "/echo", strings.Repeat("b", 1024), 200},
		{"body over MAX_BODY", "POST", "/echo", strings.Repeat("b", 1025), 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, newRequest(t, tt.method, r.base+tt.path, tt.body))
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.wantCode)
			}
			if tt.path == "/bytes/1048576" && len(body) != 1<<20 {
				t.Fatalf("/bytes/1048576 sent %d bytes", len(body))
			}
		})
	}
}

func TestServer_RefusesOversizeHeaders(t *testing.T) {
	r := start(t, testConfig())
	req := newRequest(t, "GET", r.base+"/", "")
	req.Header.Set("X-Big", strings.Repeat("h", 16<<10))
	if resp, _ := do(t, req); resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("oversize headers = %d, want 431", resp.StatusCode)
	}
	// net/http answers these before any handler: counted all the same,
	// and a handler's own 431 is not mistaken for one.
	if resp, _ := get(t, r.base+"/status/431"); resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("GET /status/431 = %d", resp.StatusCode)
	}
	if got := promsettest.Value(t, r.Registry, "netlab_http_hello_headers_too_large_total"); got != 1 {
		t.Fatalf("headers_too_large_total = %v, want 1", got)
	}
}

// A client trickling its headers (slowloris) is cut off after
// READ_HEADER_TIMEOUT, while other clients are served meanwhile.
func TestServer_CutsOffSlowHeaders(t *testing.T) {
	r := start(t, testConfig())
	slow, err := net.Dial("tcp", r.Server.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := io.WriteString(slow, "GET / HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	if resp, body := get(t, r.base+"/"); resp.StatusCode != 200 || body != "Hello, World!" {
		t.Fatalf("a normal request while a slow one waits = %d %q", resp.StatusCode, body)
	}
	_ = slow.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	n, err := io.Copy(io.Discard, slow) // returns when the server closes
	if err != nil {
		t.Fatalf("slow connection: %v after %d bytes; want the server to close it", err, n)
	}
	if waited := time.Since(start); waited > 4*time.Second {
		t.Fatalf("slow connection held for %s", waited)
	}
}

func TestServer_RefusesRequestsOverMaxConcurrent(t *testing.T) {
	cfg := testConfig()
	cfg.MaxConcurrent = 2
	r := start(t, cfg)
	var wg sync.WaitGroup
	for range 2 { // occupy both slots
		wg.Go(func() { get(t, r.base+"/delay/1s") })
	}
	poll.Until(t, "two requests in flight", 5*time.Second, func() bool {
		return promsettest.Value(t, r.Registry, "netlab_http_hello_requests_in_flight", "GET /delay/{duration}") == 2
	})
	resp, _ := get(t, r.base+"/")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third request = %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	wg.Wait()
	if resp, _ := get(t, r.base+"/"); resp.StatusCode != 200 {
		t.Fatalf("after the slots freed: %d", resp.StatusCode)
	}
}

func TestServer_FinishesRequestsInProgressOnShutdown(t *testing.T) {
	r := start(t, testConfig())
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.Get(r.base + "/delay/500ms")
		if err != nil {
			done <- result{err: err}
			return
		}
		resp.Body.Close()
		done <- result{code: resp.StatusCode}
	}()
	poll.Until(t, "the delayed request to start", 5*time.Second, func() bool {
		return promsettest.Value(t, r.Registry, "netlab_http_hello_requests_in_flight", "GET /delay/{duration}") == 1
	})
	r.Stop()
	res := <-done
	if res.err != nil || res.code != 200 {
		t.Fatalf("request in progress at shutdown: %d, %v; want 200", res.code, res.err)
	}
	if err := r.Wait(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(r.base + "/"); err == nil {
		t.Fatal("a new request after shutdown was served")
	}
}

func TestServer_CountsRequestsByRouteAndCode(t *testing.T) {
	r := start(t, testConfig())
	get(t, r.base+"/")
	get(t, r.base+"/status/404")
	get(t, r.base+"/no/such/path")
	// Invented methods share one label value, so clients cannot grow the
	// number of series.
	for _, method := range []string{"BREW", "WHEN"} {
		do(t, newRequest(t, method, r.base+"/echo", ""))
	}
	want := map[string]bool{
		`GET /{$}|GET|200`:           false,
		`GET /status/{code}|GET|404`: false,
		`unmatched|GET|404`:          false,
	}
	wantTwice := `/echo|OTHER|200`
	families, err := r.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "netlab_http_hello_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			key := fmt.Sprintf("%s|%s|%s", l["route"], l["method"], l["code"])
			if _, ok := want[key]; ok && m.GetCounter().GetValue() == 1 {
				want[key] = true
			}
			if key == wantTwice && m.GetCounter().GetValue() == 2 {
				wantTwice = ""
			}
		}
	}
	for k, seen := range want {
		if !seen {
			t.Errorf("requests_total{%s} not counted once", k)
		}
	}
	if wantTwice != "" {
		t.Errorf("requests_total{%s} not counted twice", wantTwice)
	}
}
