package udpclient

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/netlab/netlab/services/platform/latency"
)

// oneWay accumulates the one-way delays of one direction. The histogram
// counts a negative delay as 0, so the true (signed) minimum and the
// number of negative delays are kept beside it: they are how a run tells
// that the two clocks disagree.
type oneWay struct {
	h        latency.Histogram
	min      atomic.Int64 // nanoseconds; math.MaxInt64 while empty
	negative atomic.Int64
}

func (o *oneWay) record(d time.Duration) {
	o.h.Record(d)
	if d < 0 {
		o.negative.Add(1)
	}
	for m := o.min.Load(); int64(d) < m && !o.min.CompareAndSwap(m, int64(d)); m = o.min.Load() {
	}
}

func (o *oneWay) stats() OneWay {
	var s latency.Snapshot
	s.Add(&o.h)
	w := OneWay{Stats: s.Stats(), Negative: o.negative.Load()}
	if m := o.min.Load(); m != math.MaxInt64 {
		w.Min = time.Duration(m)
	}
	return w
}

// OneWay summarises the one-way delays of one direction: responder
// receive time minus client send time upstream, client receive time minus
// responder send time downstream. They are exact when both ends read one
// clock (containers on one machine) and off by the clocks' offset
// otherwise, in opposite directions for the two; Min is the signed
// minimum, and Negative counts delays below zero, which only clocks that
// disagree by more than the delay produce. The percentiles count a
// negative delay as 0.
type OneWay struct {
	latency.Stats
	Negative int64
}

// ClockSuspect reports whether the delays prove the clocks differ: one
// direction went below zero.
func (o OneWay) ClockSuspect() bool { return o.Negative > 0 }
