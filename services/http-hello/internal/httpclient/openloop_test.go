package httpclient_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlab/netlab/services/http-hello/internal/httpclient"
	"github.com/netlab/netlab/services/platform/clientcli/clitest"
)

// counting serves every request after delay(), and counts what it served.
func counting(t *testing.T, delay func() time.Duration) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay())
		served.Add(1)
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv, &served
}

// Against a server that takes 20ms per request, one connection cannot
// keep 200/s: the client says so, and its accounts agree with the
// server's — every request it started was served and counted once.
func TestLoad_OpenLoopReportsTheShortfallAgainstASlowServer(t *testing.T) {
	srv, served := counting(t, func() time.Duration { return 20 * time.Millisecond })
	c := newClient(t, httpclient.Config{}, srv.URL)
	sum, err := c.Load(t.Context(), httpclient.LoadOptions{Rate: 200, Duration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s := sum.Schedule
	if s.Started != sum.Requests || served.Load() != sum.Requests || sum.OK != sum.Requests {
		t.Errorf("client started %d, finished %d (%d ok); server served %d", s.Started, sum.Requests, sum.OK, served.Load())
	}
	if s.Scheduled != 100 || s.Missed != s.Scheduled-s.Started || s.Missed == 0 || s.KeptRate() {
		t.Errorf("schedule %+v: want 100 due, the ones not started missed, the rate not kept", s)
	}
	if s.Late == 0 || sum.Schedule.Latency.Max <= sum.Total.Max {
		t.Errorf("late %d; latency from the schedule max %v, from the start max %v: want lateness to show",
			s.Late, sum.Schedule.Latency.Max, sum.Total.Max)
	}
}

// The coordinated-omission test: a server that stalls for 1s in the
// middle of a 5s run at 1000/s. The open loop's p99 shows the stall,
// because the requests due during it wait for it; the closed loop sent
// none of them, and its p99 does not.
func TestLoad_OpenLoopP99ShowsAStallClosedLoopHides(t *testing.T) {
	t.Parallel() // 5s, the two runs at once
	stall := func() func() time.Duration { return clitest.StallOnce(2500*time.Millisecond, time.Second) }
	open, _ := counting(t, stall())
	closed, _ := counting(t, stall())
	var openSum, closedSum httpclient.Summary
	var wg sync.WaitGroup
	wg.Go(func() {
		openSum, _ = newClient(t, httpclient.Config{}, open.URL).Load(t.Context(),
			httpclient.LoadOptions{Rate: 1000, Duration: 5 * time.Second})
	})
	wg.Go(func() {
		closedSum, _ = newClient(t, httpclient.Config{}, closed.URL).Load(t.Context(),
			httpclient.LoadOptions{Duration: 5 * time.Second})
	})
	wg.Wait()
	if p99 := openSum.Schedule.Latency.P99; p99 < 500*time.Millisecond {
		t.Errorf("open loop p99 %v over %d requests: want the stall (≥ 500ms)", p99, openSum.Requests)
	}
	if p99 := closedSum.Total.P99; p99 >= 500*time.Millisecond || closedSum.Total.Max < time.Second {
		t.Errorf("closed loop p99 %v, max %v over %d requests: want the stall in max only", p99, closedSum.Total.Max, closedSum.Requests)
	}
}

func TestLoad_BoundsAndConnections(t *testing.T) {
	srv := newServer(t, false)
	h2c := newServer(t, true)
	for _, c := range []struct {
		name              string
		url               string
		cfg               httpclient.Config
		opts              httpclient.LoadOptions
		wantRequests      int64 // 0: at least one
		wantNew, wantConn int64 // -1: not checked
	}{
		{"duration alone", srv.URL, httpclient.Config{}, httpclient.LoadOptions{Duration: 50 * time.Millisecond}, 0, 1, 1},
		{"count before duration", srv.URL, httpclient.Config{}, httpclient.LoadOptions{Count: 20, Duration: time.Minute}, 20, 1, 1},
		{"new connection per request", srv.URL, httpclient.Config{NewConn: true}, httpclient.LoadOptions{Count: 12, Connections: 3}, 12, 12, 12},
		{"h2c streams share a connection", h2c.URL, httpclient.Config{Proto: httpclient.ProtoH2C},
			httpclient.LoadOptions{Count: 400, Connections: 2, Streams: 8}, 400, 2, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			sum, err := newClient(t, c.cfg, c.url).Load(t.Context(), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if sum.OK != sum.Requests || (c.wantRequests > 0 && sum.Requests != c.wantRequests) || sum.Requests == 0 {
				t.Errorf("%d requests, %d ok; want %d", sum.Requests, sum.OK, c.wantRequests)
			}
			// Over h2c the dial may run outside any one request's trace.
			if sum.NewConns != c.wantNew || (c.wantConn >= 0 && sum.Connect.N != c.wantConn) {
				t.Errorf("%d new connections, %d connect times; want %d and %d", sum.NewConns, sum.Connect.N, c.wantNew, c.wantConn)
			}
			if sum.Interrupted || sum.Latency.Count() != sum.Requests {
				t.Errorf("interrupted %v, %d latencies for %d requests", sum.Interrupted, sum.Latency.Count(), sum.Requests)
			}
		})
	}
}
