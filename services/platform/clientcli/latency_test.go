package clientcli_test

import (
	"slices"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
)

func TestSummarize(t *testing.T) {
	ms := func(v ...int64) []int64 {
		out := make([]int64, len(v))
		for i, x := range v {
			out[i] = x * int64(time.Millisecond)
		}
		return out
	}
	hundred := make([]int64, 100)
	for i := range hundred {
		hundred[i] = int64(100-i) * int64(time.Millisecond) // 100ms..1ms, unsorted
	}
	tests := []struct {
		name    string
		samples []int64
		want    clientcli.LatencyStats
	}{
		{"none", nil, clientcli.LatencyStats{}},
		{"one", ms(7), clientcli.LatencyStats{N: 1, Min: 7 * time.Millisecond, Avg: 7 * time.Millisecond,
			P50: 7 * time.Millisecond, P90: 7 * time.Millisecond, P99: 7 * time.Millisecond, Max: 7 * time.Millisecond}},
		// Nearest rank on 4 samples: p50 is the 2nd, p90 and p99 the 4th.
		{"four unsorted", ms(4, 1, 3, 2), clientcli.LatencyStats{N: 4, Min: time.Millisecond, Avg: 2500 * time.Microsecond,
			P50: 2 * time.Millisecond, P90: 4 * time.Millisecond, P99: 4 * time.Millisecond, Max: 4 * time.Millisecond}},
		// 1..100 ms: the p-th percentile is p ms.
		{"hundred", hundred, clientcli.LatencyStats{N: 100, Min: time.Millisecond, Avg: 50500 * time.Microsecond,
			P50: 50 * time.Millisecond, P90: 90 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}},
		// One outlier in ten moves p99 and max but not p50 or p90.
		{"outlier", ms(1, 1, 1, 1, 1, 1, 1, 1, 1, 1000), clientcli.LatencyStats{N: 10, Min: time.Millisecond, Avg: 100900 * time.Microsecond,
			P50: time.Millisecond, P90: time.Millisecond, P99: time.Second, Max: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clientcli.Summarize(tt.samples); got != tt.want {
				t.Errorf("Summarize = %+v, want %+v", got, tt.want)
			}
			if !slices.IsSorted(tt.samples) {
				t.Error("samples are not sorted in place")
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	sorted := []int64{10, 20, 30, 40, 50}
	tests := []struct {
		p    float64
		want time.Duration
	}{{1, 10}, {20, 10}, {21, 20}, {50, 30}, {80, 40}, {81, 50}, {100, 50}}
	for _, tt := range tests {
		if got := clientcli.Percentile(sorted, tt.p); got != tt.want {
			t.Errorf("Percentile(%g) = %d, want %d", tt.p, got, tt.want)
		}
	}
	if got := clientcli.Percentile([]int64(nil), 50); got != 0 {
		t.Errorf("Percentile of nothing = %d", got)
	}
}

func TestSummarize_Durations(t *testing.T) {
	got := clientcli.Summarize([]time.Duration{5 * time.Millisecond, time.Millisecond, 3 * time.Millisecond})
	want := clientcli.LatencyStats{N: 3, Min: time.Millisecond, Avg: 3 * time.Millisecond,
		P50: 3 * time.Millisecond, P90: 5 * time.Millisecond, P99: 5 * time.Millisecond, Max: 5 * time.Millisecond}
	if got != want {
		t.Fatalf("Summarize = %+v, want %+v", got, want)
	}
}
