package httpclient_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlab/netlab/services/http-hello/internal/httpclient"
)

// pageServer counts the connections it accepts and the requests in
// flight at once. Each request waits up to hold for the others of its
// page (barrier requests in flight), so a page fetched in parallel shows
// every request in flight at once and a serial page one.
type pageServer struct {
	*httptest.Server
	conns    atomic.Int64
	mu       sync.Mutex
	inFlight int
	peak     int
	arrived  chan struct{}
}

func newPageServer(t *testing.T, h2c bool, barrier int, hold time.Duration) *pageServer {
	t.Helper()
	ps := &pageServer{arrived: make(chan struct{}, 1000)}
	ps.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps.mu.Lock()
		ps.inFlight++
		ps.peak = max(ps.peak, ps.inFlight)
		all := ps.inFlight >= barrier
		ps.mu.Unlock()
		if all {
			for range barrier - 1 {
				ps.arrived <- struct{}{}
			}
		} else {
			select {
			case <-ps.arrived:
			case <-time.After(hold):
			}
		}
		ps.mu.Lock()
		ps.inFlight--
		ps.mu.Unlock()
		_, _ = io.WriteString(w, "Hello, World!")
	}))
	ps.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			ps.conns.Add(1)
		}
	}
	serveH2C(t, ps.Server, h2c)
	return ps
}

// A paged run is Pages pages of Count requests, each page on connections
// of its own: one for keep-alive and h2c, one per request without
// keep-alive; over h2c with Streams = Count every request of a page is in
// flight at once, over HTTP/1.1 one at a time.
func TestClient_LoadPages(t *testing.T) {
	const count, pages = 4, 3
	for _, c := range []struct {
		name     string
		h2c      bool
		cfg      httpclient.Config
		streams  int
		wantNew  int64 // per page
		wantPeak int
	}{
		{"persistent", false, httpclient.Config{}, 1, 1, 1},
		{"non-persistent", false, httpclient.Config{NewConn: true}, 1, count, 1},
		{"h2c multiplexed", true, httpclient.Config{Proto: httpclient.ProtoH2C}, count, 1, count},
	} {
		t.Run(c.name, func(t *testing.T) {
			barrier := 1
			if c.wantPeak > 1 {
				barrier = count
			}
			srv := newPageServer(t, c.h2c, barrier, 5*time.Second)
			var seqs []int
			opts := httpclient.LoadOptions{Count: count, Pages: pages, Streams: c.streams,
				OnResult: func(r httpclient.Result) { seqs = append(seqs, r.Seq) }}
			sum, err := newClient(t, c.cfg, srv.URL).Load(t.Context(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Requests != count*pages || sum.OK != sum.Requests || sum.PagesAsked != pages || len(sum.Pages) != pages {
				t.Fatalf("%d requests, %d ok, %d of %d pages", sum.Requests, sum.OK, len(sum.Pages), sum.PagesAsked)
			}
			var total time.Duration
			for i, p := range sum.Pages {
				if p.Requests != count || p.Errors != 0 || p.New != c.wantNew || p.Duration <= 0 {
					t.Errorf("page %d: %+v, want %d requests on %d new connections", i, p, count, c.wantNew)
				}
				total += p.Duration
			}
			if total > sum.Duration {
				t.Errorf("the pages took %v, more than the run's %v", total, sum.Duration)
			}
			if got := srv.conns.Load(); got != c.wantNew*pages {
				t.Errorf("the server accepted %d connections, want %d", got, c.wantNew*pages)
			}
			if srv.peak != c.wantPeak {
				t.Errorf("at most %d requests in flight at once, want %d", srv.peak, c.wantPeak)
			}
			if len(seqs) != count*pages || seqs[len(seqs)-1] <= count*(pages-1) {
				t.Errorf("result numbers %v: want 1..%d across the pages", seqs, count*pages)
			}
		})
	}
}

// Over h2c a client is one connection: its first requests, all at once,
// wait for one dial instead of each dialing a connection of its own.
func TestClient_H2CDialsOnce(t *testing.T) {
	srv := newPageServer(t, true, 8, 5*time.Second)
	sum, err := newClient(t, httpclient.Config{Proto: httpclient.ProtoH2C}, srv.URL).Load(t.Context(),
		httpclient.LoadOptions{Count: 8, Streams: 8})
	if err != nil {
		t.Fatal(err)
	}
	if sum.OK != 8 || sum.NewConns != 1 || srv.conns.Load() != 1 || srv.peak != 8 {
		t.Errorf("%d ok, %d new connections, the server accepted %d and saw %d in flight at once; want 8, 1, 1, 8",
			sum.OK, sum.NewConns, srv.conns.Load(), srv.peak)
	}
}

// A page's time runs from its first request's start to its last
// response's end: four serial requests of 20ms each take at least 80ms.
func TestClient_LoadPageTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	sum, err := newClient(t, httpclient.Config{}, srv.URL).Load(t.Context(), httpclient.LoadOptions{Count: 4, Pages: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range sum.Pages {
		if p.Duration < 80*time.Millisecond || p.Duration > sum.Duration {
			t.Errorf("page %d took %v: want at least 80ms, at most the run's %v", i, p.Duration, sum.Duration)
		}
	}
}

// A page cut short by the end of the context is not a page.
func TestClient_LoadPagesInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) > 5 { // the second request of the third page
			cancel()
			<-r.Context().Done()
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	sum, err := newClient(t, httpclient.Config{}, srv.URL).Load(ctx, httpclient.LoadOptions{Count: 2, Pages: 10})
	if !errors.Is(err, context.Canceled) || !sum.Interrupted {
		t.Fatalf("err %v, interrupted %v", err, sum.Interrupted)
	}
	if len(sum.Pages) != 2 || sum.Requests != 5 {
		t.Errorf("%d pages, %d requests; want the 2 complete pages and 5 requests", len(sum.Pages), sum.Requests)
	}
}

func TestClient_LoadPagesOptions(t *testing.T) {
	c := newClient(t, httpclient.Config{}, "http://127.0.0.1:1/")
	for _, o := range []httpclient.LoadOptions{
		{Count: 1, Pages: -1}, {Count: 1, Pages: httpclient.MaxPages + 1}, {Duration: time.Second, Pages: 2},
		{Count: 1, Duration: time.Second, Pages: 2}, {Count: 1, Rate: 10, Pages: 2},
		{Count: httpclient.MaxCount, Pages: 2},
	} {
		if _, err := c.Load(t.Context(), o); err == nil {
			t.Errorf("Load(%+v) accepted", o)
		}
	}
}

// The text summary of a paged run names the pages and gives their
// times' minimum, median (of an even count: the mean of the middle two)
// and maximum.
func TestSummary_PagesLine(t *testing.T) {
	ms := time.Millisecond
	sum := httpclient.Summary{Method: "GET", URL: "http://x/", Count: 4, Connections: 1, PagesAsked: 4,
		Pages: []httpclient.Page{{Duration: 10 * ms}, {Duration: 40 * ms}, {Duration: 20 * ms}, {Duration: 30 * ms}}}
	var b strings.Builder
	if err := sum.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--- GET http://x/: 4 pages of 4 requests, 1 connections ---\n",
		"pages      4 of 4 requests: time min/p50/max = 10.0ms/25.0ms/40.0ms\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
	sum.Pages = nil
	b.Reset()
	_ = sum.WriteText(&b)
	if !strings.Contains(b.String(), "pages      none complete\n") {
		t.Errorf("summary without pages:\n%s", b.String())
	}
}
