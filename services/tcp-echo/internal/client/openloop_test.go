package client_test

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli/clitest"
	"github.com/netlab/netlab/services/platform/poll"
	"github.com/netlab/netlab/services/tcp-echo/internal/client"
)

// countingServer echoes size-byte messages after delay() each and counts
// the messages it read whole; open is the connections it still serves.
type countingServer struct {
	addr     string
	messages atomic.Int64
	open     atomic.Int64
}

func startCounting(t *testing.T, size int, delay func() time.Duration) *countingServer {
	t.Helper()
	s := &countingServer{}
	s.addr = startServer(t, func(c net.Conn) {
		s.open.Add(1)
		defer s.open.Add(-1)
		buf := make([]byte, size)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			s.messages.Add(1)
			time.Sleep(delay())
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	})
	return s
}

// served waits until every connection has ended (the client's graceful
// close lets the server read all it was sent) and returns the count.
func (s *countingServer) served(t *testing.T) int64 {
	t.Helper()
	poll.Until(t, "the server to see every connection close", 5*time.Second, func() bool { return s.open.Load() == 0 })
	return s.messages.Load()
}

func noDelay() time.Duration { return 0 }

// An open-loop run bounded by a count does exactly that many round trips,
// and the server saw exactly the messages the client says it started.
func TestLoad_OpenLoopAccountsForEveryRoundTrip(t *testing.T) {
	srv := startCounting(t, 64, noDelay)
	c := &client.Client{Addr: srv.addr}
	res, err := c.Load(t.Context(), client.LoadOptions{Connections: 4, Size: 64, Count: 300, Rate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Schedule
	if served := srv.served(t); s.Started != 300 || res.Sent != 300 || res.Ops != 300 || served != 300 {
		t.Errorf("client started %d, sent %d, finished %d; server counted %d; want 300 each", s.Started, res.Sent, res.Ops, served)
	}
	if s.Scheduled != 300 || s.Missed != 0 || res.Hist.Count() != 300 || res.Interrupted || res.Failed != 0 {
		t.Errorf("schedule %+v, %d latencies, result %+v", s, res.Hist.Count(), res)
	}
	// 300 round trips at 1000/s take about 0.3s.
	if res.Duration < 290*time.Millisecond || res.Duration > 5*time.Second {
		t.Errorf("duration %v, want about 300ms", res.Duration)
	}
}

// Against a server that takes 20ms per echo, one connection cannot keep
// 200/s: the client says so, and its accounts agree with the server's.
func TestLoad_OpenLoopReportsTheShortfallAgainstASlowServer(t *testing.T) {
	srv := startCounting(t, 64, func() time.Duration { return 20 * time.Millisecond })
	c := &client.Client{Addr: srv.addr}
	res, err := c.Load(t.Context(), client.LoadOptions{Connections: 1, Size: 64, Rate: 200, Duration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Schedule
	// The round trip in flight at the end was sent and read by the
	// server, but not counted by the client.
	if served := srv.served(t); served != res.Sent || res.Sent-res.Ops > 1 || s.Started-res.Sent > 1 || res.Ops == 0 {
		t.Errorf("client started %d, sent %d, finished %d; server counted %d", s.Started, res.Sent, res.Ops, served)
	}
	if s.Scheduled != 100 || s.Missed != s.Scheduled-s.Started || s.Missed == 0 || s.KeptRate() {
		t.Errorf("schedule %+v: want 100 due, the ones not started missed, the rate not kept", s)
	}
	if s.Late == 0 || s.Latency.Max <= res.Latency.Max || s.Latency.P50 <= res.Latency.P50 {
		t.Errorf("late %d; latency from the schedule %v, from the start %v: want lateness to show", s.Late, s.Latency, res.Latency)
	}
}

// The coordinated-omission test: a server that stalls for 1s in the
// middle of a 5s run at 1000/s. The open loop's p99 shows the stall,
// because the round trips due during it wait for it; the closed loop sent
// none of them, and its p99 does not.
func TestLoad_OpenLoopP99ShowsAStallClosedLoopHides(t *testing.T) {
	t.Parallel() // 5s, the two runs at once
	stall := func() func() time.Duration { return clitest.StallOnce(2500*time.Millisecond, time.Second) }
	open := startCounting(t, 64, stall())
	closed := startCounting(t, 64, stall())
	var openRes, closedRes client.LoadResult
	var wg sync.WaitGroup
	wg.Go(func() {
		openRes, _ = (&client.Client{Addr: open.addr}).Load(t.Context(),
			client.LoadOptions{Connections: 1, Size: 64, Rate: 1000, Duration: 5 * time.Second})
	})
	wg.Go(func() {
		closedRes, _ = (&client.Client{Addr: closed.addr}).Load(t.Context(),
			client.LoadOptions{Connections: 1, Size: 64, Duration: 5 * time.Second})
	})
	wg.Wait()
	if p99 := openRes.Schedule.Latency.P99; p99 < 500*time.Millisecond {
		t.Errorf("open loop p99 %v over %d round trips: want the stall (≥ 500ms)", p99, openRes.Ops)
	}
	if p99 := closedRes.Latency.P99; p99 >= 500*time.Millisecond || closedRes.Latency.Max < time.Second {
		t.Errorf("closed loop p99 %v, max %v over %d round trips: want the stall in max only", p99, closedRes.Latency.Max, closedRes.Ops)
	}
	if openRes.Failed+closedRes.Failed != 0 {
		t.Errorf("failed connections: open %v, closed %v", openRes.FirstErr, closedRes.FirstErr)
	}
}

// A closed-loop run bounded by a count does exactly that many round trips
// over all connections, and a count with a duration ends at whichever
// comes first.
func TestLoad_CountBoundsTheRun(t *testing.T) {
	srv := startCounting(t, 64, noDelay)
	c := &client.Client{Addr: srv.addr}
	res, err := c.Load(t.Context(), client.LoadOptions{Connections: 3, Size: 64, Count: 1000, Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if served := srv.served(t); res.Ops != 1000 || served != 1000 || res.Schedule.Rate != 0 || res.Duration >= time.Hour {
		t.Errorf("%d round trips in %v, server counted %d; want 1000 each", res.Ops, res.Duration, served)
	}
	slow := startCounting(t, 64, func() time.Duration { return 10 * time.Millisecond })
	res, err = (&client.Client{Addr: slow.addr}).Load(t.Context(), client.LoadOptions{Connections: 1, Size: 64, Count: 1000, Duration: 200 * time.Millisecond})
	if err != nil || res.Ops >= 1000 || res.Ops == 0 || res.Duration < 200*time.Millisecond || res.Interrupted {
		t.Errorf("count 1000 within 200ms of 10ms round trips: %d round trips in %v (%v)", res.Ops, res.Duration, err)
	}
}
