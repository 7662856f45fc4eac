package recovery

import (
	"fmt"
	"math"
)

// The peer node's redial schedule (services/peer, docs/peer-protocol.md
// "Node behaviour"): a connection found broken is dialed again 1 s
// later; after f failures in a row the next dial waits a random time in
// [b/2, b), b = min(2^f s, 1 min).
const (
	firstRedial = 1.0  // seconds after a broken connection is dropped
	maxBackoff  = 60.0 // seconds
	chunk       = 64 << 10
)

// Backoff is b after f failed dials in a row, in seconds: the upper end
// of the node's wait before the next dial.
func Backoff(f int) float64 {
	return math.Min(math.Pow(2, float64(min(f, 6))), maxBackoff)
}

// Params are what the bound depends on: the partition's length and the
// peer nodes' settings, in seconds, bytes and bytes per second.
type Params struct {
	Partition   float64 // heal − partition
	Refresh     float64 // REFRESH_INTERVAL
	Dial        float64 // DIAL_TIMEOUT
	PieceSize   float64 // PIECE_SIZE
	UploadRate  float64 // UPLOAD_RATE of every node
	Downloaders int     // nodes that may ask one source for pieces at once
	Interval    float64 // how often the downloads are polled
}

// Bound is the longest a cut-off download can take, from the heal, to
// show a new byte from across the cut, with its terms.
type Bound struct {
	// Failures is the most failed dials a node can count by the heal,
	// the one in flight at the heal included.
	Failures int
	// Backoff is the wait after them (Backoff(Failures)).
	Backoff float64
	// Piece is how long the first piece can take through the source's
	// shared upload cap.
	Piece float64
	// Total is the bound: Dial + Backoff + Refresh + the download's
	// look for new peers (min(Refresh, 1 s)) + Piece + Interval.
	Total float64
}

// RecoveryBound is the bound for p.
//
// While cut off, a node's connection across the cut breaks (its reads
// time out) and it dials again on the schedule above, each dial failing
// after DIAL_TIMEOUT (the far side drops the SYN). The most failures it
// can count by the heal come from the earliest schedule: the connection
// dropped at the partition, every dial as early as allowed. The worst
// case after the heal: a dial that began just before it fails
// DIAL_TIMEOUT later, the node waits the whole backoff, then the next
// refresh tick dials; once connected the download picks the peer up
// within min(REFRESH_INTERVAL, 1 s), and the first piece comes through a
// source's upload cap shared with every downloader. The poll sees it at
// most one interval later. A node across the cut that dials first only
// makes it sooner.
func RecoveryBound(p Params) Bound {
	started := 0 // dials begun before the heal, earliest schedule
	for t := firstRedial; t < p.Partition; {
		started++
		// That dial fails after Dial; it is failure started+1 (the
		// dropped connection was the first).
		t += p.Dial + Backoff(started+1)/2
	}
	b := Bound{Failures: started + 1}
	b.Backoff = Backoff(b.Failures)
	if p.UploadRate > 0 {
		b.Piece = float64(max(p.Downloaders, 1)) * (p.PieceSize + chunk) / p.UploadRate
	}
	b.Total = p.Dial + b.Backoff + p.Refresh + math.Min(p.Refresh, 1) + b.Piece + p.Interval
	return b
}

// String is the bound with its terms, for a report.
func (b Bound) String() string {
	return fmt.Sprintf("%.1f s (backoff after %d failed dials %.0f s, first piece %.1f s)", b.Total, b.Failures, b.Backoff, b.Piece)
}

// CompletionBound is the least time the downloaders can take to get the
// need bytes they still lack between them: every byte received is one
// some node uploads, and nodes nodes upload at most uploadRate each, less
// the quarter second of burst each cap holds (the capacity term of the
// P2P distribution time, Kurose & Ross, "Computer Networking", ch. 2:
// D ≥ N·F / (u_s + Σ u_i)).
func CompletionBound(need float64, nodes int, uploadRate float64) float64 {
	if nodes <= 0 || uploadRate <= 0 {
		return math.NaN()
	}
	return math.Max(0, need/(float64(nodes)*uploadRate)-burst)
}

// burst is the upload cap's bucket, in seconds of its rate.
const burst = 0.25
