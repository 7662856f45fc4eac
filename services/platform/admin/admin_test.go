package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/platform/admin"
	"github.com/netlab/netlab/services/platform/version"
)

// startAdmin starts an admin server on a free loopback port. It is shut down
// when the test ends, and Serve must then have returned nil.
func startAdmin(t *testing.T) (*admin.Server, string) {
	t.Helper()
	srv := newAdmin(t)
	return srv, serveAdmin(t, srv)
}

// newAdmin makes an admin server on a free loopback port, not yet serving.
func newAdmin(t *testing.T) *admin.Server {
	t.Helper()
	srv, err := admin.New("127.0.0.1:0", admin.NewRegistry("test-svc"), zap.NewNop())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return srv
}

// serveAdmin serves srv until the test ends, then shuts it down; Serve must
// then have returned nil. It returns the server's base URL.
func serveAdmin(t *testing.T, srv *admin.Server) string {
	t.Helper()
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve returned %v after Shutdown, want nil", err)
		}
	})
	return "http://" + srv.Addr().String()
}

// expectListenerClosed fails unless nothing accepts on addr any more.
func expectListenerClosed(t *testing.T, addr, when string) {
	t.Helper()
	if conn, err := net.Dial("tcp", addr); err == nil {
		_ = conn.Close()
		t.Errorf("dial %s %s succeeded, want the listener closed", addr, when)
	}
}

// client returns an HTTP client whose idle connections are closed when the
// test ends.
func client(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

type response struct {
	code   int
	header http.Header
	body   string
}

func do(t *testing.T, c *http.Client, method, url string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: string(body)}
}

func TestServer_Endpoints(t *testing.T) {
	t.Parallel()
	_, base := startAdmin(t)
	c := client(t)
	tests := []struct {
		name     string
		method   string
		path     string
		wantCode int
		wantBody string // substring
		wantType string // Content-Type prefix; "" to skip
	}{
		{"healthz", http.MethodGet, "/healthz", http.StatusOK, "ok\n", "text/plain"},
		{"healthz head", http.MethodHead, "/healthz", http.StatusOK, "", ""},
		{"readyz starts not ready", http.MethodGet, "/readyz", http.StatusServiceUnavailable, "not ready\n", "text/plain"},
		{"unknown path", http.MethodGet, "/nope", http.StatusNotFound, "", ""},
		{"root", http.MethodGet, "/", http.StatusNotFound, "", ""},
		{"post healthz", http.MethodPost, "/healthz", http.StatusMethodNotAllowed, "", ""},
		{"delete readyz", http.MethodDelete, "/readyz", http.StatusMethodNotAllowed, "", ""},
		{"post metrics", http.MethodPost, "/metrics", http.StatusMethodNotAllowed, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := do(t, c, tt.method, base+tt.path)
			if r.code != tt.wantCode {
				t.Errorf("%s %s = %d, want %d (body %q)", tt.method, tt.path, r.code, tt.wantCode, r.body)
			}
			if !strings.Contains(r.body, tt.wantBody) {
				t.Errorf("%s %s body = %q, want it to contain %q", tt.method, tt.path, r.body, tt.wantBody)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, tt.wantType) {
				t.Errorf("Content-Type = %q, want prefix %q", ct, tt.wantType)
			}
			if tt.wantCode == http.StatusMethodNotAllowed && !strings.Contains(r.header.Get("Allow"), http.MethodGet) {
				t.Errorf("Allow = %q, want it to list GET", r.header.Get("Allow"))
			}
		})
	}
}

func TestServer_ReadyzFollowsSetReady(t *testing.T) {
	t.Parallel()
	srv, base := startAdmin(t)
	c := client(t)
	steps := []struct {
		name     string
		set      *bool // nil: leave as is
		wantCode int
		wantBody string
	}{
		{"initially", nil, http.StatusServiceUnavailable, "not ready\n"},
		{"ready", ptr(true), http.StatusOK, "ready\n"},
		{"ready twice", ptr(true), http.StatusOK, "ready\n"},
		{"shutting down", ptr(false), http.StatusServiceUnavailable, "not ready\n"},
		{"ready again", ptr(true), http.StatusOK, "ready\n"},
	}
	for _, step := range steps {
		if step.set != nil {
			srv.SetReady(*step.set)
		}
		r := do(t, c, http.MethodGet, base+"/readyz")
		if r.code != step.wantCode || r.body != step.wantBody {
			t.Errorf("%s: /readyz = %d %q, want %d %q", step.name, r.code, r.body, step.wantCode, step.wantBody)
		}
		if got := r.header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control = %q, want no-store", step.name, got)
		}
	}
	// /healthz does not depend on readiness.
	srv.SetReady(false)
	if r := do(t, c, http.MethodGet, base+"/healthz"); r.code != http.StatusOK {
		t.Errorf("/healthz while not ready = %d, want 200", r.code)
	}
}

func ptr[T any](v T) *T { return &v }

func TestServer_Metrics(t *testing.T) {
	t.Parallel()
	_, base := startAdmin(t)
	r := do(t, client(t), http.MethodGet, base+"/metrics")
	if r.code != http.StatusOK {
		t.Fatalf("/metrics = %d, want 200", r.code)
	}
	info := version.Get()
	for _, want := range []string{
		"# TYPE netlab_build_info gauge",
		`service="test-svc"`,
		`version="` + info.Version + `"`,
		`goversion="` + info.GoVersion + `"`,
		"# TYPE go_goroutines gauge",
		"go_goroutines ",
		"process_",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("/metrics does not contain %q", want)
		}
	}
	var buildInfo string
	for line := range strings.SplitSeq(r.body, "\n") {
		if strings.HasPrefix(line, "netlab_build_info{") {
			buildInfo = line
		}
	}
	if !strings.HasSuffix(buildInfo, "} 1") {
		t.Errorf("netlab_build_info sample = %q, want value 1", buildInfo)
	}
}

func TestServer_Version(t *testing.T) {
	t.Parallel()
	_, base := startAdmin(t)
	r := do(t, client(t), http.MethodGet, base+"/version")
	if r.code != http.StatusOK {
		t.Fatalf("/version = %d, want 200", r.code)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var raw map[string]string
	if err := json.Unmarshal([]byte(r.body), &raw); err != nil {
		t.Fatalf("/version body %q: %v", r.body, err)
	}
	want := version.Get()
	for key, value := range map[string]string{
		"version": want.Version, "commit": want.Commit, "date": want.Date, "go_version": want.GoVersion,
	} {
		if raw[key] != value {
			t.Errorf("/version %s = %q, want %q", key, raw[key], value)
		}
	}
}

func TestNewRegistry_BuildInfo(t *testing.T) {
	t.Parallel()
	families, err := admin.NewRegistry("udp-responder").Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	info := version.Get()
	wantLabels := map[string]string{
		"service": "udp-responder", "version": info.Version, "commit": info.Commit, "goversion": info.GoVersion,
	}
	var found bool
	for _, mf := range families {
		if mf.GetName() != "netlab_build_info" {
			continue
		}
		found = true
		if len(mf.GetMetric()) != 1 {
			t.Fatalf("netlab_build_info has %d samples, want 1", len(mf.GetMetric()))
		}
		m := mf.GetMetric()[0]
		if v := m.GetGauge().GetValue(); v != 1 {
			t.Errorf("netlab_build_info = %v, want 1", v)
		}
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		for k, v := range wantLabels {
			if got[k] != v {
				t.Errorf("label %s = %q, want %q", k, got[k], v)
			}
		}
	}
	if !found {
		t.Error("registry has no netlab_build_info")
	}
}

// Not parallel: it checks that a closed port stays closed, which another
// test binding 127.0.0.1:0 at the same time could in theory reuse.
func TestServer_ShutdownStopsServe(t *testing.T) {
	srv := newAdmin(t)
	addr := srv.Addr().String()
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()

	// Serve answers once it runs; the listener already accepts before that.
	c := client(t)
	if r := do(t, c, http.MethodGet, "http://"+addr+"/healthz"); r.code != http.StatusOK {
		t.Fatalf("/healthz = %d, want 200", r.code)
	}

	if err := srv.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v after Shutdown, want nil", err)
		}
	case <-t.Context().Done():
		t.Fatal("Serve did not return after Shutdown")
	}
	c.CloseIdleConnections()
	expectListenerClosed(t, addr, "after Shutdown")
}

// A server stopped before it serves closes its listener, and Serve then
// returns nil at once. Not parallel: it checks that a closed port stays
// closed, which another test binding 127.0.0.1:0 at the same time could in
// theory reuse.
func TestServer_StoppedBeforeServe(t *testing.T) {
	tests := []struct {
		name string
		stop func(context.Context, *admin.Server) error
		// closesAtOnce: the stop itself closes the listener; after
		// Shutdown, Serve closes the listener it was given without running.
		closesAtOnce bool
	}{
		{"Shutdown", func(ctx context.Context, srv *admin.Server) error { return srv.Shutdown(ctx) }, false},
		{"Close", func(_ context.Context, srv *admin.Server) error { return srv.Close() }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAdmin(t)
			if err := tt.stop(t.Context(), srv); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if tt.closesAtOnce {
				expectListenerClosed(t, srv.Addr().String(), "after "+tt.name)
			}
			if err := srv.Serve(); err != nil {
				t.Errorf("Serve after %s = %v, want nil", tt.name, err)
			}
			expectListenerClosed(t, srv.Addr().String(), "after "+tt.name+" and Serve")
			if err := srv.Close(); err != nil {
				t.Errorf("Close after %s and Serve = %v, want nil", tt.name, err)
			}
		})
	}
}

func TestNew_ListenErrors(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = busy.Close() })

	tests := []struct {
		name string
		addr string
	}{
		{"port in use", busy.Addr().String()},
		{"no port", "127.0.0.1"},
		{"bad port", "127.0.0.1:99999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, err := admin.New(tt.addr, admin.NewRegistry("svc"), zap.NewNop())
			if err == nil {
				_ = srv.Shutdown(t.Context())
				_ = srv.Serve()
				t.Fatalf("New(%q) succeeded, want an error", tt.addr)
			}
			if !strings.HasPrefix(err.Error(), "listen admin: ") {
				t.Errorf("error %q, want prefix %q", err, "listen admin: ")
			}
			var opErr *net.OpError
			if tt.name == "port in use" && !errors.As(err, &opErr) {
				t.Errorf("error %v does not wrap a *net.OpError", err)
			}
		})
	}
}

func TestServer_HandleAddsServiceEndpoint(t *testing.T) {
	srv := newAdmin(t)
	srv.Handle("GET /api/thing", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "thing")
	}))
	if r := do(t, client(t), http.MethodGet, serveAdmin(t, srv)+"/api/thing"); r.code != 200 || r.body != "thing" {
		t.Fatalf("GET /api/thing = %d %q, want 200 thing", r.code, r.body)
	}
}

func TestServer_CloseAfterShutdown(t *testing.T) {
	t.Parallel()
	srv := newAdmin(t)
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	if err := srv.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	<-served
	if err := srv.Close(); err != nil {
		t.Errorf("Close after Shutdown = %v, want nil", err)
	}
}
