package web_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/dashboard/internal/web"
)

// source builds numbered messages; shape is what Build reports as the
// page's shape.
type source struct {
	mu    sync.Mutex
	n     int
	shape string
	fail  bool
}

func (s *source) Build(p web.Page, snapshot bool) ([]byte, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return nil, "", errors.New("broken")
	}
	s.n++
	return fmt.Appendf(nil, `{"page":%q,"service":%q,"n":%d,"snapshot":%v}`, p.Kind, p.Service, s.n, snapshot), s.shape, nil
}

func (s *source) setShape(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shape = v
}

type fetcher struct{ node, ref string }

func (f *fetcher) Fetch(_ context.Context, node, ref string) (int, []byte, error) {
	f.node, f.ref = node, ref
	if node == "nope" {
		return http.StatusNotFound, nil, errors.New("no peer node")
	}
	return http.StatusAccepted, []byte(`{"state":"queued"}`), nil
}

func serve(t *testing.T, src web.Source, maxClients int) (*httptest.Server, *web.Hub, *fetcher) {
	t.Helper()
	hub := web.NewHub(src, maxClients)
	f := &fetcher{}
	srv := httptest.NewServer(web.New(hub, f, zap.NewNop()))
	t.Cleanup(srv.Close)
	return srv, hub, f
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	return do(t, req)
}

// do sends req and returns the response with its whole body.
func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestHandler_PagesAndAssetsAreServedWithAStrictPolicy(t *testing.T) {
	srv, _, _ := serve(t, &source{}, 4)
	for _, path := range []string{"/", "/swarm", "/service/tcp-echo"} {
		resp, body := get(t, srv.URL+path)
		if resp.StatusCode != 200 || !strings.Contains(body, `<script src="/static/app.js"`) {
			t.Errorf("%s: %d %.80q", path, resp.StatusCode, body)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self'") {
			t.Errorf("%s: Content-Security-Policy %q", path, csp)
		}
	}
	for _, asset := range []string{"app.js", "style.css", "favicon.svg"} {
		resp, body := get(t, srv.URL+"/static/"+asset)
		if resp.StatusCode != 200 || len(body) < 100 {
			t.Errorf("/static/%s: %d, %d bytes", asset, resp.StatusCode, len(body))
		}
	}
	if resp, _ := get(t, srv.URL+"/nope"); resp.StatusCode != 404 {
		t.Errorf("/nope: %d, want 404", resp.StatusCode)
	}
}

// TestAssets_LoadNothingFromElsewhere reads the embedded pages for any
// address another host could serve.
func TestAssets_LoadNothingFromElsewhere(t *testing.T) {
	srv, _, _ := serve(t, &source{}, 4)
	for _, asset := range []string{"/", "/static/app.js", "/static/style.css"} {
		_, body := get(t, srv.URL+asset)
		for _, bad := range []string{"http://", "https://", "//cdn", "@import", "url("} {
			if strings.Contains(strings.ReplaceAll(body, "http://www.w3.org/2000/svg", ""), bad) {
				t.Errorf("%s contains %q", asset, bad)
			}
		}
	}
}

func TestHandler_ViewAnswersASnapshot(t *testing.T) {
	srv, _, _ := serve(t, &source{}, 4)
	resp, body := get(t, srv.URL+"/api/view?page=service&service=peer")
	if resp.StatusCode != 200 || !strings.Contains(body, `"service":"peer"`) || !strings.Contains(body, `"snapshot":true`) {
		t.Errorf("/api/view: %d %s", resp.StatusCode, body)
	}
	for _, q := range []string{"", "page=nope", "page=service"} {
		if resp, _ := get(t, srv.URL+"/api/view?"+q); resp.StatusCode != 400 {
			t.Errorf("/api/view?%s: %d, want 400", q, resp.StatusCode)
		}
	}
	if resp, _ := get(t, srv.URL+"/api/view?page=overview"); resp.StatusCode != 200 {
		t.Errorf("overview: %d", resp.StatusCode)
	}
}

// stream reads server-sent events.
type stream struct {
	resp *http.Response
	r    *bufio.Reader
}

func openStream(t *testing.T, url string) *stream {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return &stream{resp: resp, r: bufio.NewReader(resp.Body)}
}

// next returns the next event's type and data.
func (s *stream) next(t *testing.T) (kind, data string) {
	t.Helper()
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("read event: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			kind = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = line[len("data: "):]
		case line == "" && kind != "":
			return kind, data
		}
	}
}

func TestEvents_SnapshotThenUpdatesThenSnapshotOnNewShape(t *testing.T) {
	src := &source{shape: "a"}
	srv, hub, _ := serve(t, src, 4)
	s := openStream(t, srv.URL+"/events?page=overview")
	if kind, data := s.next(t); kind != "snapshot" || !strings.Contains(data, `"snapshot":true`) {
		t.Fatalf("first event %s %s, want a snapshot", kind, data)
	}
	hub.Publish() // the first publish of a page states its shape: a snapshot
	if kind, _ := s.next(t); kind != "snapshot" {
		t.Fatalf("first publish: %s, want snapshot", kind)
	}
	hub.Publish()
	if kind, data := s.next(t); kind != "update" || !strings.Contains(data, `"snapshot":false`) {
		t.Fatalf("second publish: %s %s, want an update", kind, data)
	}
	src.setShape("b")
	hub.Publish()
	if kind, _ := s.next(t); kind != "snapshot" {
		t.Fatalf("after the shape changed: %s, want a snapshot", kind)
	}
	if hub.Clients() != 1 {
		t.Errorf("%d clients, want 1", hub.Clients())
	}
}

func TestEvents_TooManyStreams(t *testing.T) {
	srv, hub, _ := serve(t, &source{}, 1)
	openStream(t, srv.URL+"/events?page=swarm")
	resp, _ := get(t, srv.URL+"/events?page=swarm")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("second stream: %d, want 503", resp.StatusCode)
	}
	if hub.Stats().Rejected.Load() != 1 {
		t.Errorf("rejected %d, want 1", hub.Stats().Rejected.Load())
	}
}

func TestEvents_ClosedStreamIsForgotten(t *testing.T) {
	srv, hub, _ := serve(t, &source{}, 4)
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/events?page=overview", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for hub.Clients() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the hub still counts a closed stream")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHub_SlowBrowserIsDropped never reads its stream: once its queue is
// full, the next message drops it instead of waiting.
func TestHub_SlowBrowserIsDropped(t *testing.T) {
	hub := web.NewHub(&source{}, 4)
	c, err := hub.Subscribe(web.Page{Kind: "overview"})
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		hub.Publish()
	}
	if hub.Stats().Dropped.Load() != 1 || hub.Clients() != 0 {
		t.Errorf("dropped %d, clients %d; want the slow one dropped", hub.Stats().Dropped.Load(), hub.Clients())
	}
	hub.Unsubscribe(c) // after a drop: nothing to do, no panic
}

func TestHub_BrokenSourceRefusesTheStream(t *testing.T) {
	srv, hub, _ := serve(t, &source{fail: true}, 4)
	resp, _ := get(t, srv.URL+"/events?page=overview")
	if resp.StatusCode != 500 || hub.Clients() != 0 {
		t.Errorf("stream of a broken source: %d, %d clients", resp.StatusCode, hub.Clients())
	}
}

func post(t *testing.T, url, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

func TestFetch_SameOriginOnly(t *testing.T) {
	srv, _, f := serve(t, &source{}, 4)
	json := map[string]string{"Content-Type": "application/json"}
	body := `{"node":"peer/netlab-peer-2","ref":"file.txt"}`
	resp, answer := post(t, srv.URL+"/api/fetch", body, map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != 202 || answer != `{"state":"queued"}` || f.node != "peer/netlab-peer-2" || f.ref != "file.txt" {
		t.Errorf("same-origin fetch: %d %s (asked %q %q)", resp.StatusCode, answer, f.node, f.ref)
	}
	f.node = ""
	for name, h := range map[string]map[string]string{
		"cross-site":   {"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"},
		"other origin": {"Content-Type": "application/json", "Origin": "http://evil.example"},
	} {
		if resp, _ := post(t, srv.URL+"/api/fetch", body, h); resp.StatusCode != http.StatusForbidden || f.node != "" {
			t.Errorf("%s: %d (asked %q), want 403 and no fetch", name, resp.StatusCode, f.node)
		}
	}
	if resp, _ := post(t, srv.URL+"/api/fetch", body, map[string]string{"Content-Type": "text/plain"}); resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text body: %d, want 415", resp.StatusCode)
	}
	for _, bad := range []string{`{}`, `{"node":"x"}`, `nope`} {
		if resp, _ := post(t, srv.URL+"/api/fetch", bad, json); resp.StatusCode != 400 {
			t.Errorf("body %s: %d, want 400", bad, resp.StatusCode)
		}
	}
	if resp, answer := post(t, srv.URL+"/api/fetch", `{"node":"nope","ref":"x"}`, json); resp.StatusCode != 404 || !strings.Contains(answer, "no peer node") {
		t.Errorf("unknown node: %d %s", resp.StatusCode, answer)
	}
	if resp, _ := get(t, srv.URL+"/api/fetch"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /api/fetch: %d, want 405", resp.StatusCode)
	}
}
