package view

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/netlab/netlab/services/dashboard/internal/history"
	"github.com/netlab/netlab/services/dashboard/internal/scrape"
	"github.com/netlab/netlab/services/dashboard/internal/stats"
)

// calc reads the last n points of the series of some replicas, summing
// the replicas' values point by point.
type calc struct {
	r        history.Reader
	replicas []string
	n        int
	buf      []float32
}

func newCalc(r history.Reader, n int, replicas ...string) *calc {
	return &calc{r: r, replicas: replicas, n: min(n, r.Len())}
}

// each calls fn with the values of every series named name whose labels
// hold every pair of match.
func (c *calc) each(name string, match []string, fn func(labels string, vals []float32)) {
	for _, rep := range c.replicas {
		c.r.Each(rep, func(s *history.Series) {
			if s.Name != name || !matches(s.Labels, match) {
				return
			}
			c.buf = c.r.Values(s, c.n, c.buf[:0])
			fn(s.Labels, c.buf)
		})
	}
}

func matches(labels string, match []string) bool {
	for i := 0; i+1 < len(match); i += 2 {
		if scrape.Label(labels, match[i]) != match[i+1] {
			return false
		}
	}
	return true
}

// addInto adds vals into sum point by point; a NaN sum takes the first
// value, and NaN values add nothing.
func addInto(sum []float64, vals []float32) {
	for i, v := range vals {
		if math.IsNaN(float64(v)) {
			continue
		}
		if math.IsNaN(sum[i]) {
			sum[i] = 0
		}
		sum[i] += float64(v)
	}
}

func nanSlice(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
	}
	return out
}

// sum is the sum of the matching series at each point. Where none has a
// value but a replica was read, it is 0: a family with no series yet
// (a counter by reason before the first) counted nothing.
func (c *calc) sum(name string, match ...string) []float64 {
	out := nanSlice(c.n)
	c.each(name, match, func(_ string, vals []float32) { addInto(out, vals) })
	for i, read := range c.read() {
		if read && math.IsNaN(out[i]) {
			out[i] = 0
		}
	}
	return out
}

// presence are series every netlab service (and any Go process) has: a
// point where one has a value is a point the replica was read at.
var presence = []string{"netlab_build_info", "process_start_time_seconds"}

// read says at which points some replica was read.
func (c *calc) read() []bool {
	out := make([]bool, c.n)
	for _, name := range presence {
		c.each(name, nil, func(_ string, vals []float32) {
			for i, v := range vals {
				out[i] = out[i] || !math.IsNaN(float64(v))
			}
		})
	}
	return out
}

// groupBy sums the series named name by the values of the labels by
// ("/echo 200"), point by point.
func (c *calc) groupBy(name string, by ...string) map[string][]float64 {
	out := map[string][]float64{}
	c.each(name, nil, func(labels string, vals []float32) {
		parts := make([]string, len(by))
		for i, l := range by {
			parts[i] = scrape.Label(labels, l)
		}
		key := strings.Join(parts, " ")
		if out[key] == nil {
			out[key] = nanSlice(c.n)
		}
		addInto(out[key], vals)
	})
	return out
}

// bucketRates are a histogram's bucket rates at each point, summed over
// every label but le, by bound.
func (c *calc) bucketRates(family string, match ...string) map[float64][]float64 {
	out := map[float64][]float64{}
	c.each(family+"_bucket", match, func(labels string, vals []float32) {
		le, err := strconv.ParseFloat(scrape.Label(labels, "le"), 64)
		if err != nil {
			return
		}
		if out[le] == nil {
			out[le] = nanSlice(c.n)
		}
		addInto(out[le], vals)
	})
	return out
}

// quantiles are the q-quantiles of a histogram at each point, each over
// the window of points that ends there.
func quantiles(buckets map[float64][]float64, n, window int, qs ...float64) [][]float64 {
	out := make([][]float64, len(qs))
	for i := range out {
		out[i] = nanSlice(n)
	}
	bounds := slices.Sorted(maps.Keys(buckets))
	bs := make([]stats.Bucket, len(bounds))
	for p := range n {
		for i, le := range bounds {
			bs[i] = stats.Bucket{UpperBound: le, Count: windowSum(buckets[le], p, window)}
		}
		for i, q := range qs {
			out[i][p] = stats.Quantile(q, bs)
		}
	}
	return out
}

// windowSum sums vals over the window of points ending at p, NaN as 0.
func windowSum(vals []float64, p, window int) float64 {
	sum := 0.0
	for i := max(0, p-window+1); i <= p; i++ {
		if !math.IsNaN(vals[i]) {
			sum += vals[i]
		}
	}
	return sum
}
