package clientcli

import (
	"math"
	"slices"
	"time"
)

// LatencyStats summarises durations (round trips, response times).
// Percentiles use the nearest-rank method: the p-th percentile is the
// smallest sample with at least p% of the samples at or below it.
type LatencyStats struct {
	N                            int64
	Min, Avg, P50, P90, P99, Max time.Duration
}

// Summarize sorts samples (nanoseconds) in place and summarises them. No
// samples give the zero LatencyStats.
func Summarize[T ~int64](samples []T) LatencyStats {
	n := len(samples)
	if n == 0 {
		return LatencyStats{}
	}
	slices.Sort(samples)
	var sum float64
	for _, d := range samples {
		sum += float64(d)
	}
	return LatencyStats{
		N:   int64(n),
		Min: time.Duration(samples[0]),
		Avg: time.Duration(math.Round(sum / float64(n))),
		P50: Percentile(samples, 50),
		P90: Percentile(samples, 90),
		P99: Percentile(samples, 99),
		Max: time.Duration(samples[n-1]),
	}
}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted samples (nanoseconds), 0 when there are none.
func Percentile[T ~int64](sorted []T, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := int(math.Ceil(p * float64(len(sorted)) / 100))
	k = max(1, min(k, len(sorted)))
	return time.Duration(sorted[k-1])
}
