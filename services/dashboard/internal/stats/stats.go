// Package stats computes what the dashboard shows from what services
// export: per-second rates from counters (across restarts of the counter),
// percentiles from histogram buckets, and fewer points from many.
package stats

import (
	"math"
	"slices"
)

// Increase is how much a counter grew from prev to cur. A counter that
// went down, or whose process restarted (reset), started again from 0, so
// everything it counts now is new: Prometheus's rate() reads resets the
// same way.
func Increase(prev, cur float64, reset bool) float64 {
	if reset || cur < prev {
		return cur
	}
	return cur - prev
}

// Rate is the per-second rate of a counter between two samples dt
// seconds apart; NaN when dt is not positive.
func Rate(prev, cur, dt float64, reset bool) float64 {
	if !(dt > 0) {
		return math.NaN()
	}
	return Increase(prev, cur, reset) / dt
}

// Rates turns a counter's samples (values at times, in seconds) into the
// rate over each interval: out[0] is NaN (nothing before it), and a NaN
// sample (the counter was not read) makes its own rate NaN and the next
// one span the gap.
func Rates(values, times []float64) []float64 {
	out := make([]float64, len(values))
	prev, prevT, have := 0.0, 0.0, false
	for i, v := range values {
		out[i] = math.NaN()
		if math.IsNaN(v) {
			continue
		}
		if have {
			out[i] = Rate(prev, v, times[i]-prevT, false)
		}
		prev, prevT, have = v, times[i], true
	}
	return out
}

// Bucket is one histogram bucket: how many observations were at most
// UpperBound (cumulative, as the text format has it), or a rate of them.
type Bucket struct {
	UpperBound float64
	Count      float64
}

// Quantile estimates the q-quantile (0 ≤ q ≤ 1) of a histogram from its
// cumulative buckets the way Prometheus's histogram_quantile does: find
// the bucket the rank falls in and interpolate linearly inside it (the
// first bucket starts at 0); a rank in the +Inf bucket is the highest
// finite bound. NaN with no observations or no buckets.
func Quantile(q float64, buckets []Bucket) float64 {
	if len(buckets) == 0 || math.IsNaN(q) {
		return math.NaN()
	}
	b := slices.Clone(buckets)
	slices.SortFunc(b, func(x, y Bucket) int { return cmpFloat(x.UpperBound, y.UpperBound) })
	total := b[len(b)-1].Count
	if !(total > 0) || !math.IsInf(b[len(b)-1].UpperBound, 1) {
		return math.NaN()
	}
	switch {
	case q <= 0:
		return 0
	case q >= 1:
		q = 1
	}
	rank := q * total
	i, _ := slices.BinarySearchFunc(b, rank, func(x Bucket, r float64) int { return cmpFloat(x.Count, r) })
	if i >= len(b)-1 {
		// The rank is in the +Inf bucket: the last finite bound is the
		// best estimate there is.
		if len(b) < 2 {
			return math.NaN()
		}
		return b[len(b)-2].UpperBound
	}
	lower, below := 0.0, 0.0
	if i > 0 {
		lower, below = b[i-1].UpperBound, b[i-1].Count
	}
	in := b[i].Count - below
	if in <= 0 {
		return b[i].UpperBound
	}
	return lower + (b[i].UpperBound-lower)*(rank-below)/in
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Groups splits n points into at most max consecutive groups of nearly
// equal size, the newest point last in the last group, and returns each
// group's end (exclusive). Drawing a group's mean keeps a chart's shape
// with fewer points.
func Groups(n, max int) []int {
	if n <= 0 || max <= 0 {
		return nil
	}
	if n <= max {
		ends := make([]int, n)
		for i := range ends {
			ends[i] = i + 1
		}
		return ends
	}
	size := (n + max - 1) / max
	var ends []int
	// Whole groups end at the newest point, so the live point is a group
	// of its own width like every other.
	for end := n; end > 0; end -= size {
		ends = append(ends, end)
	}
	slices.Reverse(ends)
	return ends
}
