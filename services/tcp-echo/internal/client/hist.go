package client

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Log-linear histogram of durations in nanoseconds, in the manner of
// HdrHistogram: values below 256ns have a bucket each; above, every power
// of two is cut into 128 equal buckets, so a bucket is at most 1/128 of its
// values wide and its midpoint is within 0.4% of any value in it. It covers
// the whole int64 range in a fixed 7424 buckets (58 KiB), however long the
// run.
const (
	histSubBits = 8
	histSub     = 1 << histSubBits // exact buckets for 0..255ns
	histHalf    = histSub / 2      // buckets per power of two above that
	histBuckets = histSub + (64-histSubBits)*histHalf
)

// latencyHist counts durations by bucket. Record is safe for concurrent
// use and allocates nothing.
type latencyHist struct {
	counts [histBuckets]atomic.Uint64
}

func histIndex(v uint64) int {
	n := bits.Len64(v)
	if n <= histSubBits {
		return int(v)
	}
	shift := n - histSubBits
	return histSub + (shift-1)*histHalf + int(v>>shift) - histHalf
}

// histValue is the midpoint of bucket i.
func histValue(i int) uint64 {
	if i < histSub {
		return uint64(i)
	}
	j := i - histSub
	shift := j/histHalf + 1
	low := uint64(histHalf+j%histHalf) << shift
	return low + (uint64(1)<<shift)/2
}

func (h *latencyHist) record(d time.Duration) {
	h.counts[histIndex(uint64(max(d, 0)))].Add(1)
}

// latencySummary merges histograms with the exact count, sum, minimum and
// maximum kept alongside them.
type latencySummary struct {
	counts   []uint64
	n        int64
	sum      float64 // nanoseconds
	min, max time.Duration
}

func (s *latencySummary) add(h *latencyHist) {
	if s.counts == nil {
		s.counts = make([]uint64, histBuckets)
	}
	for i := range h.counts {
		s.counts[i] += h.counts[i].Load()
	}
}

// percentile is the nearest-rank p-th percentile (as in
// clientcli.Percentile), taken as its bucket's midpoint and kept within the
// exact minimum and maximum.
func (s *latencySummary) percentile(p float64) time.Duration {
	var total uint64
	for _, c := range s.counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	k := uint64(math.Ceil(p * float64(total) / 100))
	k = max(1, min(k, total))
	var cum uint64
	for i, c := range s.counts {
		cum += c
		if cum >= k {
			v := time.Duration(min(histValue(i), math.MaxInt64))
			return max(s.min, min(v, s.max))
		}
	}
	return s.max
}

func (s *latencySummary) stats() RTTStats {
	if s.n == 0 {
		return RTTStats{}
	}
	return RTTStats{
		N:   s.n,
		Min: s.min,
		Avg: time.Duration(math.Round(s.sum / float64(s.n))),
		P50: s.percentile(50),
		P90: s.percentile(90),
		P99: s.percentile(99),
		Max: s.max,
	}
}
