package udpclient

import (
	"math"
	"math/bits"
	"time"
)

// histSubBits sets the precision of a histogram: 2^histSubBits buckets per
// power of two, so a bucket is at most 1/64 (1.6%) of its values wide.
const (
	histSubBits = 6
	histSub     = 1 << histSubBits
)

// histogram counts durations in nanoseconds in log-linear buckets: one
// bucket per nanosecond below 64 ns, then 64 buckets per power of two. Its
// memory is fixed when it is made; values above the largest bucket are
// counted in it, and the exact minimum, maximum and sum are kept. It is not
// safe for concurrent use; recording allocates nothing.
type histogram struct {
	counts   []uint64
	n        int64
	sum      int64 // nanoseconds; an hour of round trips fits many times over
	min, max int64
}

// newHistogram returns a histogram with buckets up to at least maxValue ns.
func newHistogram(maxValue time.Duration) *histogram {
	return &histogram{counts: make([]uint64, bucketOf(int64(max(maxValue, 0)))+1)}
}

// bucketOf is the index of the bucket that holds v (v >= 0).
func bucketOf(v int64) int {
	if v < histSub {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - histSubBits - 1
	return (shift+1)*histSub + int(v>>shift) - histSub
}

// bucketHigh is the largest value that falls in bucket i.
func bucketHigh(i int) int64 {
	if i < histSub {
		return int64(i)
	}
	shift := i/histSub - 1
	low := int64(histSub+i%histSub) << shift
	return low + 1<<shift - 1
}

func (h *histogram) record(d time.Duration) {
	v := max(int64(d), 0)
	i := min(bucketOf(v), len(h.counts)-1)
	h.counts[i]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	h.max = max(h.max, v)
	h.n++
	h.sum += v
}

// merge adds the counts of o, which must have as many buckets.
func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// percentile is the nearest-rank p-th percentile (0 < p <= 100), as the
// highest value of its bucket, kept between the minimum and the maximum;
// in the last bucket, which also counts larger values, it is the maximum.
func (h *histogram) percentile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	k := int64(math.Ceil(p * float64(h.n) / 100))
	k = max(1, min(k, h.n))
	var seen int64
	for i, c := range h.counts {
		seen += int64(c)
		if seen >= k {
			if i == len(h.counts)-1 {
				break // the last bucket has no top: it holds what is beyond
			}
			return time.Duration(max(h.min, min(bucketHigh(i), h.max)))
		}
	}
	return time.Duration(h.max)
}

// stats summarises the histogram; the percentiles are within one bucket
// (1.6%) of the exact ones, the minimum, average and maximum are exact.
func (h *histogram) stats() RTTStats {
	if h.n == 0 {
		return RTTStats{}
	}
	return RTTStats{
		N:   h.n,
		Min: time.Duration(h.min),
		Avg: time.Duration(math.Round(float64(h.sum) / float64(h.n))),
		P50: h.percentile(50),
		P90: h.percentile(90),
		P99: h.percentile(99),
		Max: time.Duration(h.max),
	}
}
