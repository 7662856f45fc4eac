package client

import (
	"net"
	"sync/atomic"
	"time"
)

// LoadConnForTest is one connection of a load run, for client_test.
type LoadConnForTest struct{ lc *loadConn }

// NewLoadConnForTest dials addr and prepares the per-connection state of
// Load for size-byte messages.
func NewLoadConnForTest(addr string, size int) (*LoadConnForTest, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	loadPattern()
	return &LoadConnForTest{newLoadConn(nc, 1, size, DefaultTimeout, new(latencyHist), new(atomic.Bool), nil)}, nil
}

// Step is one iteration of the connection's loop: a round trip, checked and
// recorded.
func (c *LoadConnForTest) Step() error { return c.lc.step() }

// Ops is the number of recorded round trips.
func (c *LoadConnForTest) Ops() int64 { return c.lc.ops }

// Close closes the connection and stops its writer.
func (c *LoadConnForTest) Close() { c.lc.close() }

// HistStatsForTest summarises samples the way Load does.
func HistStatsForTest(samples []time.Duration) RTTStats {
	h := new(latencyHist)
	var s latencySummary
	for i, d := range samples {
		h.record(d)
		if i == 0 || d < s.min {
			s.min = d
		}
		s.max = max(s.max, d)
		s.sum += float64(d)
		s.n++
	}
	s.add(h)
	return s.stats()
}
