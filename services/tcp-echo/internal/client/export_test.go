package client

import (
	"context"
	"net"
	"sync/atomic"

	"github.com/netlab/netlab/services/platform/loadgen"
)

// LoadConnForTest is one connection of a load run, for client_test.
type LoadConnForTest struct{ lc *loadConn }

// NewLoadConnForTest dials addr and prepares the per-connection state of
// Load for size-byte messages, on a closed-loop timetable of its own.
func NewLoadConnForTest(addr string, size int) (*LoadConnForTest, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	loadPattern()
	tt := loadgen.New(loadgen.Wall, loadgen.Plan{Count: loadgen.MaxCount})
	sh := loadShared{size: size, timeout: DefaultTimeout, tt: tt, sent: new(atomic.Int64), stop: new(atomic.Bool)}
	return &LoadConnForTest{newLoadConn(nc, 1, sh)}, nil
}

// Step is one iteration of the connection's loop: a slot claimed, its round
// trip done, checked and recorded.
func (c *LoadConnForTest) Step() error {
	slot, _ := c.lc.tt.Next(context.Background())
	return c.lc.step(slot)
}

// Ops is the number of recorded round trips.
func (c *LoadConnForTest) Ops() int64 { return c.lc.tt.Latency().Count() }

// Close closes the connection and stops its writer.
func (c *LoadConnForTest) Close() { c.lc.close() }
