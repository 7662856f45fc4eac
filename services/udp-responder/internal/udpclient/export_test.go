package udpclient

import (
	"context"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/netlab/netlab/services/platform/loadgen"
)

// LoadSocket exposes one socket of a load run to the external tests, so
// they can measure the allocations of a single round trip.
type LoadSocket struct {
	s       *loadSocket
	tt      *loadgen.Timetable
	stopped atomic.Bool
}

// NewLoadSocket wraps conn (connected to the server) as a load socket.
func NewLoadSocket(conn *net.UDPConn, runID uint64, opts LoadOptions) (*LoadSocket, error) {
	opts, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	tt := loadgen.New(loadgen.Wall, loadgen.Plan{Duration: time.Hour})
	return &LoadSocket{s: newLoadSocket(conn, runID, opts), tt: tt}, nil
}

// RoundTrip claims the next request of a closed loop, sends it and waits
// for its reply or timeout.
func (l *LoadSocket) RoundTrip() {
	if slot, ok := l.tt.Next(context.Background()); ok {
		l.s.roundTrip(l.tt, 0, slot, time.Time{}, &l.stopped)
	}
}

// Counts returns what the socket has counted so far.
func (l *LoadSocket) Counts() (sent, received, lost int64) {
	return l.s.sent.Load(), l.s.received.Load(), l.s.lost.Load()
}

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

// ProgressLine is the probe mode's progress line on stderr.
type ProgressLine struct{ p *progressLine }

// NewProgressLine returns a progress line that writes to w.
func NewProgressLine(w io.Writer) ProgressLine { return ProgressLine{&progressLine{w: w}} }

// Update redraws the line with pr.
func (l ProgressLine) Update(pr Progress) { l.p.update(pr) }

// Finish draws the final counts and ends the line, if one was drawn.
func (l ProgressLine) Finish(res Result) { l.p.finish(res) }
