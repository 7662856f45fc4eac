package client

import (
	"net"
	"sync/atomic"

	"github.com/netlab/netlab/services/platform/latency"
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
	return &LoadConnForTest{newLoadConn(nc, 1, size, DefaultTimeout, new(latency.Histogram), new(atomic.Bool), nil)}, nil
}

// Step is one iteration of the connection's loop: a round trip, checked and
// recorded.
func (c *LoadConnForTest) Step() error { return c.lc.step() }

// Ops is the number of recorded round trips.
func (c *LoadConnForTest) Ops() int64 {
	var s latency.Snapshot
	s.Add(c.lc.hist)
	return s.Count()
}

// Close closes the connection and stops its writer.
func (c *LoadConnForTest) Close() { c.lc.close() }
