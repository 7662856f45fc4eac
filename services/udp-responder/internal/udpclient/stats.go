package udpclient

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/netlab/netlab/services/platform/latency"
)

// Outcome classifies one reply given to Recorder.Reply.
type Outcome int

// Outcomes of Recorder.Reply.
const (
	InOrder    Outcome = iota // first reply for its seq, not below its flow's RFC 4737 NextExp
	Reordered                 // first reply for its seq, below NextExp: a higher seq came first on its flow
	Duplicate                 // a seq that was already answered
	Unexpected                // a seq that was never sent (or was withdrawn): counted as foreign
)

func (o Outcome) String() string {
	switch o {
	case InOrder:
		return "in order"
	case Reordered:
		return "reordered"
	case Duplicate:
		return "duplicate"
	case Unexpected:
		return "unexpected"
	}
	return "unknown outcome"
}

// Recorder accumulates the statistics of one probe run: what was sent, when,
// and what came back. Times are offsets from the start of the run on the
// monotonic clock, so RTTs never depend on the wall clock or on the
// timestamp a reply carries.
//
// A flow is one socket: reordering and jitter are measured per flow, since
// datagrams on different sockets have no order between them.
//
// Concurrency: Sent, Unsent, Corrupted, Foreign and Progress may be called
// from any goroutine; Reply may be called concurrently for different flows,
// but each flow by one goroutine at a time. Stats must be called once
// recording has stopped.
//
// Memory: one int64 per probe of the run (8 bytes × count, 80 MB at
// MaxCount), allocated once by NewRecorder, and a 58 KiB RTT histogram.
// Recording allocates nothing.
type Recorder struct {
	// slots holds one word per seq: 0 not sent; v > 0 sent at v-1 ns and
	// not answered yet; v < 0 answered, with RTT -v-1 ns.
	slots []int64
	flows []flow

	sent, received, reordered, duplicated, corrupted, foreign atomic.Int64
	rtt                                                       latency.Histogram
	// up and down are the one-way delays of v2 replies (ReplyTimed).
	up, down oneWay
}

// flow is the per-socket state of a Recorder, owned by the goroutine that
// receives on that socket.
type flow struct {
	order       reorder       // RFC 4737 reordering of this flow's replies
	answered    bool          // whether any reply arrived yet
	lastTransit time.Duration // transit time of the previous reply in arrival order
	jitter      float64       // RFC 3550 estimate, in nanoseconds
	updates     int64         // how many times jitter was updated
	_           [64]byte      // keep flows on separate cache lines
}

// NewRecorder returns a Recorder for probes with seq 0..count-1 received on
// flows 0..flows-1 (at least one).
func NewRecorder(count, flows int) *Recorder {
	r := &Recorder{
		slots: make([]int64, max(count, 0)),
		flows: make([]flow, max(flows, 1)),
	}
	r.up.min.Store(math.MaxInt64)
	r.down.min.Store(math.MaxInt64)
	return r
}

// Sent records that probe seq was sent at offset at. It must be called
// before the probe is written, so that its reply always finds it. It panics
// if seq is not below the count given to NewRecorder.
func (r *Recorder) Sent(seq uint64, at time.Duration) {
	atomic.StoreInt64(&r.slots[seq], int64(max(at, 0))+1)
	r.sent.Add(1)
}

// Unsent withdraws a Sent whose datagram could not be written.
func (r *Recorder) Unsent(seq uint64) {
	if seq >= uint64(len(r.slots)) {
		return
	}
	p := &r.slots[seq]
	if v := atomic.LoadInt64(p); v > 0 && atomic.CompareAndSwapInt64(p, v, 0) {
		r.sent.Add(-1)
	}
}

// Reply records a valid reply of this run for seq that arrived on flow at
// offset at, and says how it was counted. The round-trip time is at minus
// the time given to Sent (0 if that would be negative).
func (r *Recorder) Reply(flow int, seq uint64, at time.Duration) Outcome {
	out, _ := r.reply(flow, seq, at)
	return out
}

// ReplyTimed is Reply for a v2 reply, which also carries when the
// responder received the request (rx) and sent the reply (tx), as offsets
// from the same start as at on the responder's clock: it records the
// one-way delays of a first reply, rx minus the send time (upstream) and
// at minus tx (downstream). With unsynchronised clocks they can be
// negative; see OneWay.
func (r *Recorder) ReplyTimed(flow int, seq uint64, at, rx, tx time.Duration) Outcome {
	out, sentAt := r.reply(flow, seq, at)
	if out == InOrder || out == Reordered {
		r.up.record(rx - sentAt)
		r.down.record(at - tx)
	}
	return out
}

// reply records a reply and returns how it was counted and, for a first
// reply, when its probe was sent.
func (r *Recorder) reply(flow int, seq uint64, at time.Duration) (Outcome, time.Duration) {
	if seq >= uint64(len(r.slots)) {
		r.foreign.Add(1)
		return Unexpected, 0
	}
	p := &r.slots[seq]
	var rtt, sentAt time.Duration
	for {
		v := atomic.LoadInt64(p)
		if v == 0 {
			r.foreign.Add(1)
			return Unexpected, 0
		}
		if v < 0 {
			r.duplicated.Add(1)
			return Duplicate, 0
		}
		sentAt = time.Duration(v - 1)
		rtt = max(at-sentAt, 0)
		if atomic.CompareAndSwapInt64(p, v, -int64(rtt)-1) {
			break
		}
	}
	r.rtt.Record(rtt)
	r.received.Add(1)

	f := &r.flows[flow]
	out := InOrder
	if f.order.arrive(seq) > 0 {
		out = Reordered
		r.reordered.Add(1)
	}
	// RFC 3550, 6.4.1 and A.8: transit = arrival - send; D is the change in
	// transit between consecutive arrivals; J += (|D| - J) / 16. Both times
	// are on our clock, so transit is the RTT.
	if f.answered {
		d := rtt - f.lastTransit
		if d < 0 {
			d = -d
		}
		f.jitter += (float64(d) - f.jitter) / 16
		f.updates++
	}
	f.lastTransit = rtt
	f.answered = true
	return out, sentAt
}

// Corrupted records a reply that failed its checksum.
func (r *Recorder) Corrupted() { r.corrupted.Add(1) }

// Foreign records a datagram that is not a reply of this run.
func (r *Recorder) Foreign() { r.foreign.Add(1) }

// Outstanding is the number of sent probes not answered yet.
func (r *Recorder) Outstanding() int64 { return r.sent.Load() - r.received.Load() }

// Progress is a snapshot of a run in progress.
type Progress struct {
	Count      int64 // probes the run will send
	Sent       int64
	Received   int64 // unique replies
	Reordered  int64
	Duplicated int64
	Corrupted  int64
	Foreign    int64
	Elapsed    time.Duration // since the run started (set by Client.Probe)
}

// Unanswered is Sent minus Received: probes lost or still in flight.
func (p Progress) Unanswered() int64 { return p.Sent - p.Received }

// Progress returns the counters so far; it is safe to call at any time.
func (r *Recorder) Progress() Progress {
	return Progress{
		Count:      int64(len(r.slots)),
		Sent:       r.sent.Load(),
		Received:   r.received.Load(),
		Reordered:  r.reordered.Load(),
		Duplicated: r.duplicated.Load(),
		Corrupted:  r.corrupted.Load(),
		Foreign:    r.foreign.Load(),
	}
}

// Stats summarises a probe run.
type Stats struct {
	Sent        int64
	Received    int64   // unique replies
	Lost        int64   // Sent - Received
	LossPercent float64 // 100 * Lost / Sent; 0 when nothing was sent
	// Reordered counts replies below their socket's RFC 4737 NextExp (the
	// highest seq received so far on it, plus one): replies that a higher
	// seq overtook. Loss alone never counts; duplicates are not in it.
	Reordered int64
	// ReorderExtentMax is the largest RFC 4737 reordering extent: how many
	// arrivals back the earliest higher seq came (1 for a swapped pair).
	ReorderExtentMax int64
	Duplicated       int64 // replies beyond the first for a seq
	Corrupted        int64 // replies that failed the checksum (not in Received)
	Foreign          int64 // datagrams that were not replies of this run
	RTT              latency.Stats
	// Jitter is the RFC 3550 interarrival jitter estimate. With several
	// sockets it is each socket's estimate, averaged with weights by the
	// number of replies that updated it.
	Jitter time.Duration
	// Up and Down are the one-way delays of the v2 replies (N = 0 when
	// there were none).
	Up, Down OneWay
}

// Latency returns every round-trip time recorded so far.
func (r *Recorder) Latency() *latency.Snapshot {
	var s latency.Snapshot
	s.Add(&r.rtt)
	return &s
}

// Stats computes the statistics; call it once recording has stopped.
func (r *Recorder) Stats() Stats {
	p := r.Progress() // the counters, read once
	s := Stats{Sent: p.Sent, Received: p.Received, Reordered: p.Reordered, Duplicated: p.Duplicated,
		Corrupted: p.Corrupted, Foreign: p.Foreign}
	s.Lost = s.Sent - s.Received
	if s.Sent > 0 {
		s.LossPercent = 100 * float64(s.Lost) / float64(s.Sent)
	}
	s.RTT = r.Latency().Stats()
	s.Up, s.Down = r.up.stats(), r.down.stats()
	var sum float64
	var weight int64
	for i := range r.flows {
		f := &r.flows[i]
		sum += f.jitter * float64(f.updates)
		weight += f.updates
	}
	if weight > 0 {
		s.Jitter = time.Duration(math.Round(sum / float64(weight)))
	}
	for i := range r.flows {
		s.ReorderExtentMax = max(s.ReorderExtentMax, int64(r.flows[i].order.maxExtent))
	}
	return s
}
