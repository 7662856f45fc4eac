package dashtest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/netlab/netlab/services/dashboard/dash/dashtest"
)

func get(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAdmin_AnswersWhatTheDashboardPolls(t *testing.T) {
	a := &dashtest.Admin{Service: "peer", Version: "v7",
		Next: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })}
	srv := dashtest.Serve(t, a)
	for _, tt := range []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/readyz", 200, "ready"},
		{"GET", "/metrics", 200, `netlab_build_info{service="peer",version="v7"} 1`},
		{"GET", "/version", 200, `"version":"v7"`},
		{"GET", "/api/status", 200, `"node_id":"n-`},
		{"GET", "/api/catalog", 200, "[]"},
		{"POST", "/api/downloads", http.StatusTeapot, ""},
		{"GET", "/elsewhere", http.StatusTeapot, ""},
	} {
		code, body := get(t, tt.method, srv.URL+tt.path)
		if code != tt.code || !strings.Contains(body, tt.body) {
			t.Errorf("%s %s: %d %q, want %d with %q", tt.method, tt.path, code, body, tt.code, tt.body)
		}
	}
	a.SetReady(false)
	if code, _ := get(t, "GET", srv.URL+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz when not ready: %d, want 503", code)
	}
	bare := dashtest.Serve(t, &dashtest.Admin{Service: "tcp-echo", Version: "v1"})
	if code, _ := get(t, "GET", bare.URL+"/elsewhere"); code != http.StatusNotFound {
		t.Errorf("without Next: %d, want 404", code)
	}
}
