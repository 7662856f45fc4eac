package latency

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Scheme names the bucket layout in saved histograms, so that a reader
// knows the buckets of two files line up (and merge exactly).
const Scheme = "log-linear-128"

// bounds is the range [low, high) of bucket i, in nanoseconds.
func bounds(i int) (low, high uint64) {
	if i < sub {
		return uint64(i), uint64(i) + 1
	}
	j := i - sub
	shift := j/half + 1
	low = uint64(half+j%half) << shift
	return low, low + uint64(1)<<shift
}

// HistogramJSON is a snapshot as the clients save it: every non-empty
// bucket as [low_ns, high_ns, count] (the bucket holds low ≤ v < high), in
// order, with the exact count, sum and extremes. Two of them with the same
// Scheme merge exactly.
type HistogramJSON struct {
	Scheme  string     `json:"scheme"`
	N       int64      `json:"n"`
	SumNs   int64      `json:"sum_ns"`
	MinNs   int64      `json:"min_ns"`
	MaxNs   int64      `json:"max_ns"`
	Buckets [][3]int64 `json:"buckets"`
}

// Histogram returns s in its saved shape.
func (s *Snapshot) Histogram() HistogramJSON {
	h := HistogramJSON{Scheme: Scheme, N: s.n, SumNs: s.sum, MinNs: int64(s.min), MaxNs: int64(s.max), Buckets: [][3]int64{}}
	for i, c := range s.counts {
		if c > 0 {
			lo, hi := bounds(i)
			h.Buckets = append(h.Buckets, [3]int64{int64(lo), int64(min(hi, math.MaxInt64)), int64(c)})
		}
	}
	return h
}

// Snapshot reads a saved histogram back, checking that it is one this
// package wrote: the scheme, bucket bounds and counts must agree.
func (h HistogramJSON) Snapshot() (*Snapshot, error) {
	s := &Snapshot{n: h.N, sum: h.SumNs, min: time.Duration(h.MinNs), max: time.Duration(h.MaxNs)}
	if h.Scheme != Scheme {
		return nil, fmt.Errorf("histogram scheme %q: want %q", h.Scheme, Scheme)
	}
	if h.N == 0 {
		if len(h.Buckets) > 0 {
			return nil, errors.New("histogram: buckets in an empty histogram")
		}
		return &Snapshot{}, nil
	}
	if len(h.Buckets) == 0 {
		return nil, fmt.Errorf("histogram: n is %d but there are no buckets", h.N)
	}
	s.counts = make([]uint64, buckets)
	var total int64
	for k, b := range h.Buckets {
		if b[0] < 0 || b[2] <= 0 || b[2] > h.N-total {
			return nil, fmt.Errorf("histogram bucket %d: negative bound, or a count that is not positive or over n: %v", k, b)
		}
		if k > 0 && b[0] < h.Buckets[k-1][1] {
			return nil, fmt.Errorf("histogram bucket %d: out of order", k)
		}
		i := index(uint64(b[0]))
		if lo, hi := bounds(i); int64(lo) != b[0] || int64(min(hi, math.MaxInt64)) != b[1] {
			return nil, fmt.Errorf("histogram bucket %d: [%d, %d) is not a bucket of %s", k, b[0], b[1], Scheme)
		}
		s.counts[i] += uint64(b[2])
		total += b[2]
	}
	first, last := h.Buckets[0], h.Buckets[len(h.Buckets)-1]
	switch {
	case total != h.N:
		return nil, fmt.Errorf("histogram: buckets hold %d values, n says %d", total, h.N)
	case h.MinNs < first[0] || h.MinNs >= first[1] || h.MaxNs < last[0] || h.MaxNs >= last[1]:
		return nil, fmt.Errorf("histogram: min %d or max %d outside the first or last bucket", h.MinNs, h.MaxNs)
	}
	return s, nil
}

// WriteText draws s as a text histogram, one row per step of a 1-2-5
// scale from the minimum to the maximum, in the manner of fortio:
//
//	 50µs - 100µs      812  81.2%  81.2% ########################################
//	100µs - 200µs      180  18.0%  99.2% #########
//
// Each value falls in the row of its bucket's midpoint.
func (s *Snapshot) WriteText(w io.Writer) error {
	if s.n <= 0 {
		_, err := io.WriteString(w, "  (no values)\n")
		return err
	}
	rows := scaleRows(s.min, s.max)
	counts := make([]uint64, len(rows)-1)
	for i, c := range s.counts {
		if c > 0 {
			counts[rowOf(rows, s.clamp(midpoint(i)))] += c
		}
	}
	var top uint64
	for _, c := range counts {
		top = max(top, c)
	}
	var b strings.Builder
	var cum uint64
	for r, c := range counts {
		cum += c
		bar := strings.Repeat("#", int((c*40+top-1)/top))
		fmt.Fprintf(&b, "%8s - %-8s %10d %5.1f%% %5.1f%% %s\n", Format(rows[r]), Format(rows[r+1]), c,
			100*float64(c)/float64(s.n), 100*float64(cum)/float64(s.n), bar)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// scaleRows are the 1-2-5 steps that cover [lo, hi]: the first at or below
// lo, the last above hi.
func scaleRows(lo, hi time.Duration) []time.Duration {
	step := time.Duration(1)
	for next := nextStep(step); next <= lo; next = nextStep(step) {
		step = next
	}
	rows := []time.Duration{step}
	for step <= hi && step < math.MaxInt64/5 {
		step = nextStep(step)
		rows = append(rows, step)
	}
	if rows[len(rows)-1] <= hi {
		rows = append(rows, math.MaxInt64)
	}
	return rows
}

// nextStep is the 1-2-5 step after d (1ns, 2ns, 5ns, 10ns, ...).
func nextStep(d time.Duration) time.Duration {
	mag := time.Duration(1)
	for mag*10 <= d {
		mag *= 10
	}
	switch d / mag {
	case 1:
		return 2 * mag
	case 2:
		return 5 * mag
	default:
		return 10 * mag
	}
}

// rowOf is the row [rows[r], rows[r+1]) that holds d.
func rowOf(rows []time.Duration, d time.Duration) int {
	for r := len(rows) - 2; r > 0; r-- {
		if d >= rows[r] {
			return r
		}
	}
	return 0
}
