// Package loadgen paces the load runs of the netlab clients. A run is a
// timetable of requests shared by its workers (connections, sockets): each
// worker claims the next request, waits until it is due, does it and
// records it.
//
// Open loop (a rate): request k is due at start + k/rate whatever the
// server does. A slow answer delays the start of the requests behind it,
// not their due time, so latency is measured from the due time — corrected
// for coordinated omission, as wrk2 and fortio do — and, beside it, from
// the actual start. The timetable also says when the client fell behind:
// requests that started late, and requests that came due but never started
// because every worker was busy until the run ended.
//
// Closed loop (no rate): a request is due the moment a worker is free to
// send it, so both latencies are the same and nothing is ever late.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/netlab/netlab/services/platform/latency"
)

// Limits of a plan.
const (
	MaxRate     = 10_000_000 // requests per second
	MaxCount    = 1 << 40    // requests in one run
	MaxDuration = 24 * time.Hour
	// DefaultLateAfter is how long after its due time a request may start
	// before it counts as late: about what a timer wakeup costs on a busy
	// machine.
	DefaultLateAfter = time.Millisecond
)

// Plan is what a run is asked to do. At least one of Count and Duration
// bounds it; with both, it ends at whichever comes first.
type Plan struct {
	Rate      float64       // requests per second over all workers; 0: closed loop
	Count     int64         // requests in all; 0: no limit
	Duration  time.Duration // from the start; 0: no limit
	LateAfter time.Duration // 0: DefaultLateAfter
}

// Validate says what is wrong with p, naming the field.
func (p Plan) Validate() error {
	switch {
	case math.IsNaN(p.Rate) || p.Rate < 0 || p.Rate > MaxRate:
		return fmt.Errorf("rate %g: must be between 0 (closed loop) and %d per second", p.Rate, MaxRate)
	case p.Count < 0 || p.Count > MaxCount:
		return fmt.Errorf("count %d: must be between 0 (no limit) and %d", p.Count, int64(MaxCount))
	case p.Duration < 0 || p.Duration > MaxDuration:
		return fmt.Errorf("duration %s: must be between 0 (no limit) and %s", p.Duration, MaxDuration)
	case p.Count == 0 && p.Duration == 0:
		return errors.New("count or duration: one of them must bound the run")
	case p.LateAfter < 0:
		return fmt.Errorf("late-after %s: must not be negative", p.LateAfter)
	}
	return nil
}

// Slot is one request of a run as its worker sees it.
type Slot struct {
	Seq   int64     // from 0, in timetable order
	Due   time.Time // when the timetable says it starts (closed loop: Start)
	Start time.Time // when its worker started it
}

// Lateness is how long after its due time the request started.
func (s Slot) Lateness() time.Duration { return s.Start.Sub(s.Due) }

// Timetable is one run's schedule and its accounts. Its methods are safe
// for concurrent use by all the run's workers.
type Timetable struct {
	plan      Plan
	clock     Clock
	start     time.Time
	end       time.Time // zero: no Duration
	periodNs  float64   // 0: closed loop
	lateAfter time.Duration

	next      atomic.Int64 // the next Seq to claim
	started   atomic.Int64
	late      atomic.Int64
	maxLate   atomic.Int64 // nanoseconds
	stoppedAt atomic.Int64 // ns after start when the run ended early; 0: it did not

	// Sharded by worker so that many workers recording at once do not
	// all contend on one histogram's counters.
	corrected, uncorrected []latency.Histogram
}

// New starts the timetable of plan now on clock. Check the plan with
// Validate first: New does not.
func New(clock Clock, plan Plan) *Timetable {
	shards := max(1, min(2*runtime.GOMAXPROCS(0), 16))
	t := &Timetable{
		plan:        plan,
		clock:       clock,
		start:       clock.Now(),
		lateAfter:   cmpOr(plan.LateAfter, DefaultLateAfter),
		corrected:   make([]latency.Histogram, shards),
		uncorrected: make([]latency.Histogram, shards),
	}
	if plan.Duration > 0 {
		t.end = t.start.Add(plan.Duration)
	}
	if plan.Rate > 0 {
		t.periodNs = float64(time.Second) / plan.Rate
	}
	return t
}

func cmpOr(d, fallback time.Duration) time.Duration {
	if d == 0 {
		return fallback
	}
	return d
}

// OpenLoop reports whether requests follow a fixed timetable.
func (t *Timetable) OpenLoop() bool { return t.periodNs > 0 }

// Started is when the run began.
func (t *Timetable) Started() time.Time { return t.start }

// due is when request seq is due on the open-loop timetable.
func (t *Timetable) due(seq int64) time.Time {
	return t.start.Add(time.Duration(float64(seq) * t.periodNs))
}

// Next claims the next request and waits until it is due. It returns false
// when the run is over for this worker: the count is reached, the next
// request falls after the end, the end passed while it waited its turn, or
// ctx ended.
func (t *Timetable) Next(ctx context.Context) (Slot, bool) {
	if ctx.Err() != nil {
		return Slot{}, false
	}
	seq := t.next.Add(1) - 1
	if t.plan.Count > 0 && seq >= t.plan.Count {
		return Slot{}, false
	}
	due := t.clock.Now()
	if t.OpenLoop() {
		due = t.due(seq)
		if !t.clock.SleepUntil(ctx, due) {
			return Slot{}, false
		}
	}
	now := t.clock.Now()
	if !t.end.IsZero() && !now.Before(t.end) {
		return Slot{}, false
	}
	t.started.Add(1)
	s := Slot{Seq: seq, Due: due, Start: now}
	if late := s.Lateness(); late > t.lateAfter {
		t.late.Add(1)
		for m := t.maxLate.Load(); int64(late) > m && !t.maxLate.CompareAndSwap(m, int64(late)); m = t.maxLate.Load() {
		}
	}
	return s, true
}

// Record counts a request that completed at end: its latency from the due
// time and from the start. worker picks the histogram shard; any int will
// do, but one per worker keeps contention low. Failed requests are not
// recorded: their time is not a latency.
func (t *Timetable) Record(worker int, s Slot, end time.Time) {
	i := uint(worker) % uint(len(t.corrected))
	t.uncorrected[i].Record(end.Sub(s.Start))
	if t.OpenLoop() {
		t.corrected[i].Record(end.Sub(s.Due))
	}
}

// Stop marks the run as ended now, before its plan was done (the user
// interrupted it, or every worker failed), so that requests due after
// this moment are not counted as missed.
func (t *Timetable) Stop() {
	t.stoppedAt.CompareAndSwap(0, max(1, int64(t.clock.Now().Sub(t.start))))
}

// Latency is every latency recorded so far: from the due time in an open
// loop, from the start in a closed one.
func (t *Timetable) Latency() *latency.Snapshot {
	if t.OpenLoop() {
		return snapshot(t.corrected)
	}
	return snapshot(t.uncorrected)
}

func snapshot(hs []latency.Histogram) *latency.Snapshot {
	var s latency.Snapshot
	for i := range hs {
		s.Add(&hs[i])
	}
	return &s
}
