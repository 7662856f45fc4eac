// Package dashtest is a fake of what the dashboard polls, for the tests of
// the dashboard and of the commands that run it.
package dashtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// Admin answers as a netlab service's admin listener does to the
// dashboard's GET requests: /readyz, /metrics (netlab_build_info and the
// process start time), /version, and the reads of the peer node's JSON API
// (/api/status, /api/peers, /api/downloads, /api/catalog). Every other
// request goes to Next (nil: 404). It is ready until SetReady(false).
type Admin struct {
	Service  string
	Version  string
	Next     http.Handler
	notReady atomic.Bool
}

// SetReady makes /readyz answer 200 (true) or 503 (false).
func (a *Admin) SetReady(ready bool) { a.notReady.Store(!ready) }

func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		a.next(w, r)
		return
	}
	switch r.URL.Path {
	case "/readyz":
		if a.notReady.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	case "/metrics":
		fmt.Fprintf(w, "# TYPE netlab_build_info gauge\nnetlab_build_info{service=%q,version=%q} 1\n"+
			"# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds 1.8e9\n", a.Service, a.Version)
	case "/version":
		fmt.Fprintf(w, "{\"version\":%q,\"commit\":\"abc\",\"date\":\"today\",\"go_version\":\"go1.26\"}\n", a.Version)
	case "/api/status":
		fmt.Fprintln(w, `{"node_id":"n-`+r.Host+`","files":1,"peers_connected":2}`)
	case "/api/peers", "/api/downloads", "/api/catalog":
		fmt.Fprintln(w, `[]`)
	default:
		a.next(w, r)
	}
}

func (a *Admin) next(w http.ResponseWriter, r *http.Request) {
	if a.Next == nil {
		http.NotFound(w, r)
		return
	}
	a.Next.ServeHTTP(w, r)
}

// Serve serves a on a loopback port until the test ends.
func Serve(tb testing.TB, a *Admin) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(a)
	tb.Cleanup(srv.Close)
	return srv
}
