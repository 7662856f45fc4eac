package udpclient

import (
	"github.com/netlab/netlab/services/udp-responder/probe"
	"net"
	"sync/atomic"
	"time"
)

// LoadSocket exposes one socket of a load run to the external tests, so
// they can measure the allocations of a single round trip.
type LoadSocket struct {
	s       *loadSocket
	stopped atomic.Bool
}

// NewLoadSocket wraps conn (connected to the server) as a load socket.
func NewLoadSocket(conn *net.UDPConn, runID uint64, opts LoadOptions) (*LoadSocket, error) {
	opts, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	return &LoadSocket{s: newLoadSocket(conn, runID, opts)}, nil
}

// RoundTrip sends one request and waits for its reply or timeout.
func (l *LoadSocket) RoundTrip() { l.s.roundTrip(time.Now().Add(time.Hour), &l.stopped) }

// Counts returns what the socket has counted so far.
func (l *LoadSocket) Counts() (sent, received, lost int64) { return l.s.sent, l.s.received, l.s.lost }

// HistogramStats records samples in a histogram with buckets up to
// maxValue and summarises it.
func HistogramStats(maxValue time.Duration, samples []time.Duration) RTTStats {
	h := newHistogram(maxValue)
	for _, d := range samples {
		h.record(d)
	}
	return h.stats()
}

// EncodeProbe is the load run's probe encoder.
func EncodeProbe(buf []byte, p probe.Probe) { encodeProbe(buf, p) }

// ReorderExtents feeds arrivals (sequence numbers, no duplicates) to the
// RFC 4737 reordering metric of one flow and returns each one's extent (0:
// in order), the reordered count and the largest extent.
func ReorderExtents(arrivals []uint64) (extents []uint64, reordered int64, maxExtent uint64) {
	var r reorder
	for _, seq := range arrivals {
		extents = append(extents, r.arrive(seq))
	}
	return extents, r.reordered, r.maxExtent
}
