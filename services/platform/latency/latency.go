// Package latency is the one latency histogram of the netlab clients:
// log-linear buckets in the manner of HdrHistogram, recorded into from any
// number of goroutines without allocating, merged across workers, and
// summarised as Stats with one JSON shape. The percentiles are within 0.4%
// of the exact ones; the count, sum, minimum and maximum are exact.
package latency

import (
	"fmt"
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Values below 256ns have a bucket each; above, every power of two is cut
// into 128 equal buckets, so a bucket is at most 1/128 of its values wide
// and its midpoint is within 0.4% of any value in it. The whole int64
// range fits in a fixed 7424 buckets (58 KiB), however long the run.
const (
	subBits = 8
	sub     = 1 << subBits // exact buckets for 0..255ns
	half    = sub / 2      // buckets per power of two above that
	buckets = sub + (64-subBits)*half
)

// Histogram counts durations. The zero value is empty and ready; Record is
// safe for concurrent use and allocates nothing.
type Histogram struct {
	counts [buckets]atomic.Uint64
	sum    atomic.Int64 // nanoseconds
	min    atomic.Int64 // the smallest value + 1; 0 while empty
	max    atomic.Int64
}

func index(v uint64) int {
	n := bits.Len64(v)
	if n <= subBits {
		return int(v)
	}
	shift := n - subBits
	return sub + (shift-1)*half + int(v>>shift) - half
}

// midpoint is the value bucket i stands for.
func midpoint(i int) uint64 {
	if i < sub {
		return uint64(i)
	}
	j := i - sub
	shift := j/half + 1
	low := uint64(half+j%half) << shift
	return low + (uint64(1)<<shift)/2
}

// Record counts d (negative durations count as 0).
func (h *Histogram) Record(d time.Duration) {
	v := min(max(int64(d), 0), math.MaxInt64-1)
	h.counts[index(uint64(v))].Add(1)
	h.sum.Add(v)
	for m := h.min.Load(); m == 0 || m-1 > v; m = h.min.Load() {
		if h.min.CompareAndSwap(m, v+1) {
			break
		}
	}
	for m := h.max.Load(); m < v; m = h.max.Load() {
		if h.max.CompareAndSwap(m, v) {
			break
		}
	}
}

// Snapshot is what histograms held at one moment, merged. Stats
// summarises it; Since gives what was recorded between two snapshots.
// The zero value is empty.
type Snapshot struct {
	counts   []uint64 // nil while empty
	n        int64
	sum      int64 // nanoseconds
	min, max time.Duration
}

// Add merges what h holds now into s. Values recorded while Add runs may be
// in the counts but not yet in the sum, or the other way round; a snapshot
// taken after recording stopped is exact.
func (s *Snapshot) Add(h *Histogram) {
	lo, hi := h.min.Load(), h.max.Load()
	if lo == 0 {
		return
	}
	empty := s.n == 0
	if s.counts == nil {
		s.counts = make([]uint64, buckets)
	}
	for i := range h.counts {
		c := h.counts[i].Load()
		s.counts[i] += c
		s.n += int64(c)
	}
	s.sum += h.sum.Load()
	s.widen(empty, time.Duration(lo-1), time.Duration(hi))
}

// Merge adds o's counts to s.
func (s *Snapshot) Merge(o *Snapshot) {
	if o.n <= 0 {
		return
	}
	empty := s.n == 0
	if s.counts == nil {
		s.counts = make([]uint64, buckets)
	}
	for i, c := range o.counts {
		s.counts[i] += c
	}
	s.n += o.n
	s.sum += o.sum
	s.widen(empty, o.min, o.max)
}

func (s *Snapshot) widen(empty bool, lo, hi time.Duration) {
	if empty || lo < s.min {
		s.min = lo
	}
	if empty || hi > s.max {
		s.max = hi
	}
}

// Since returns what was recorded after prev, an earlier snapshot of the
// same histograms. Its count and sum are exact, its percentiles within a
// bucket as ever; its minimum and maximum are those of the lowest and
// highest bucket used, within 0.4% (kept inside the run's own minimum and
// maximum), and exact when prev is empty.
func (s *Snapshot) Since(prev *Snapshot) *Snapshot {
	d := &Snapshot{n: s.n - prev.n, sum: s.sum - prev.sum}
	if d.n <= 0 || s.counts == nil {
		return &Snapshot{}
	}
	d.counts = make([]uint64, buckets)
	first, last := -1, 0
	for i, c := range s.counts {
		if prev.counts != nil {
			c -= prev.counts[i]
		}
		d.counts[i] = c
		if c > 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	d.min, d.max = s.clamp(midpoint(first)), s.clamp(midpoint(last))
	if prev.n == 0 {
		d.min, d.max = s.min, s.max
	}
	return d
}

// clamp keeps a bucket's midpoint inside the exact minimum and maximum.
func (s *Snapshot) clamp(v uint64) time.Duration {
	return max(s.min, min(time.Duration(min(v, math.MaxInt64)), s.max))
}

// Count is the number of values in s.
func (s *Snapshot) Count() int64 { return s.n }

// Percentile is the nearest-rank p-th percentile (0 < p ≤ 100): the
// smallest value with at least p% of the values at or below it, taken as
// its bucket's midpoint (kept within the exact minimum and maximum); 0 for
// an empty snapshot.
func (s *Snapshot) Percentile(p float64) time.Duration {
	if s.n <= 0 {
		return 0
	}
	k := uint64(math.Ceil(p * float64(s.n) / 100))
	k = max(1, min(k, uint64(s.n)))
	var cum uint64
	for i, c := range s.counts {
		if cum += c; cum >= k {
			return s.clamp(midpoint(i))
		}
	}
	return s.max
}

// Stats summarises s; an empty snapshot gives the zero Stats.
func (s *Snapshot) Stats() Stats {
	if s.n <= 0 {
		return Stats{}
	}
	return Stats{
		N:    s.n,
		Min:  s.min,
		Avg:  time.Duration(math.Round(float64(s.sum) / float64(s.n))),
		P50:  s.Percentile(50),
		P90:  s.Percentile(90),
		P99:  s.Percentile(99),
		P999: s.Percentile(99.9),
		Max:  s.max,
	}
}

// Stats summarises latencies: how many, the extremes, the mean and the
// nearest-rank percentiles.
type Stats struct {
	N                                  int64
	Min, Avg, P50, P90, P99, P999, Max time.Duration
}

// JSON is Stats as every client writes it, in integer nanoseconds; all 0
// when nothing was measured.
type JSON struct {
	N      int64 `json:"n"`
	MinNs  int64 `json:"min_ns"`
	AvgNs  int64 `json:"avg_ns"`
	P50Ns  int64 `json:"p50_ns"`
	P90Ns  int64 `json:"p90_ns"`
	P99Ns  int64 `json:"p99_ns"`
	P999Ns int64 `json:"p999_ns"`
	MaxNs  int64 `json:"max_ns"`
}

// JSON returns s in its JSON shape.
func (s Stats) JSON() JSON {
	return JSON{s.N, int64(s.Min), int64(s.Avg), int64(s.P50), int64(s.P90), int64(s.P99), int64(s.P999), int64(s.Max)}
}

// String renders s as "min/avg/p50/p90/p99/p99.9/max = 98µs/153µs/150µs/
// 190µs/201µs/240µs/250µs".
func (s Stats) String() string {
	return fmt.Sprintf("min/avg/p50/p90/p99/p99.9/max = %s/%s/%s/%s/%s/%s/%s",
		Format(s.Min), Format(s.Avg), Format(s.P50), Format(s.P90), Format(s.P99), Format(s.P999), Format(s.Max))
}

// Format rounds d to the microsecond (153µs, 1.234ms, 2.5s); below a
// microsecond it keeps nanoseconds.
func Format(d time.Duration) string {
	if d >= time.Microsecond || d <= -time.Microsecond {
		d = d.Round(time.Microsecond)
	}
	return d.String()
}
