package stats_test

import (
	"math"
	"slices"
	"testing"

	"github.com/netlab/netlab/services/dashboard/internal/stats"
)

var nan = math.NaN()

// equal compares with NaN equal to NaN and a little float slack.
func equal(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool {
		return math.IsNaN(x) && math.IsNaN(y) || math.Abs(x-y) < 1e-9
	})
}

func TestRates_KnownCounterSequences(t *testing.T) {
	tests := []struct {
		name          string
		values, times []float64
		want          []float64
	}{
		{"steady", []float64{0, 10, 30, 60}, []float64{0, 1, 2, 3}, []float64{nan, 10, 20, 30}},
		{"uneven intervals", []float64{100, 110, 130}, []float64{0, 2, 2.5}, []float64{nan, 5, 40}},
		// The counter restarted between 30 and 5: it counted 5 since.
		{"reset", []float64{0, 10, 30, 5, 15}, []float64{0, 1, 2, 3, 4}, []float64{nan, 10, 20, 5, 10}},
		{"reset to zero", []float64{50, 0, 0, 4}, []float64{0, 1, 2, 3}, []float64{nan, 0, 0, 4}},
		// A missed reading: the next rate spans the gap.
		{"gap", []float64{0, nan, 40, 50}, []float64{0, 1, 2, 3}, []float64{nan, nan, 20, 10}},
		{"flat", []float64{7, 7, 7}, []float64{0, 1, 2}, []float64{nan, 0, 0}},
		{"same time twice", []float64{1, 2}, []float64{5, 5}, []float64{nan, nan}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stats.Rates(tt.values, tt.times); !equal(got, tt.want) {
				t.Errorf("Rates(%v) = %v, want %v", tt.values, got, tt.want)
			}
		})
	}
}

func TestRate_RestartedProcessCountsFromZero(t *testing.T) {
	// The counter grew past its old value after a restart: only the
	// process's start time tells; everything it shows is new.
	if got := stats.Rate(100, 150, 1, true); got != 150 {
		t.Errorf("Rate after a restart = %v, want 150", got)
	}
	if got := stats.Rate(100, 150, 1, false); got != 50 {
		t.Errorf("Rate = %v, want 50", got)
	}
}

func TestQuantile_InterpolatesInsideTheBucket(t *testing.T) {
	inf := math.Inf(1)
	// 100 observations: 50 ≤ 0.1, 40 in (0.1, 0.5], 10 in (0.5, 1].
	b := []stats.Bucket{{0.1, 50}, {0.5, 90}, {1, 100}, {inf, 100}}
	tests := []struct {
		q, want float64
	}{
		{0, 0},
		{0.25, 0.05},     // rank 25 of 50 in [0, 0.1]
		{0.5, 0.1},       // rank 50: the top of the first bucket
		{0.7, 0.3},       // rank 70: 20 of 40 into (0.1, 0.5]
		{0.95, 0.75},     // rank 95: 5 of 10 into (0.5, 1]
		{1, 1},           // rank 100
		{0.9, 0.5},       // rank 90: the top of the second bucket
		{0.99, 0.95},     // rank 99
		{0.001, 0.0002},  // rank 0.1 of 50 in [0, 0.1]
		{1.5, 1},         // capped at 1
		{-1, 0},          // capped at 0
		{nan, nan},       // no quantile
		{0.625, 0.225},   // rank 62.5: 12.5 of 40 into (0.1, 0.5]
		{0.505, 0.1050},  // rank 50.5
		{0.999, 0.995},   // rank 99.9
		{0.55, 0.15},     // rank 55
		{0.125, 0.025},   // rank 12.5
		{0.375, 0.075},   // rank 37.5
		{0.8, 0.4},       // rank 80
		{0.85, 0.45},     // rank 85
		{0.925, 0.625},   // rank 92.5
		{0.975, 0.875},   // rank 97.5
		{0.0625, 0.0125}, // rank 6.25
	}
	for _, tt := range tests {
		got := stats.Quantile(tt.q, b)
		if !equal([]float64{got}, []float64{tt.want}) {
			t.Errorf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestQuantile_EdgeCases(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name string
		b    []stats.Bucket
		q    float64
		want float64
	}{
		{"no buckets", nil, 0.5, nan},
		{"no observations", []stats.Bucket{{0.1, 0}, {inf, 0}}, 0.5, nan},
		{"no +Inf bucket", []stats.Bucket{{0.1, 5}, {1, 10}}, 0.5, nan},
		// Ranks beyond the last finite bound: the bound is the estimate.
		{"rank in +Inf", []stats.Bucket{{0.1, 5}, {1, 10}, {inf, 100}}, 0.99, 1},
		{"only +Inf", []stats.Bucket{{inf, 7}}, 0.5, nan},
		{"unsorted input", []stats.Bucket{{inf, 100}, {1, 100}, {0.1, 50}}, 0.5, 0.1},
		{"empty lower buckets", []stats.Bucket{{0.1, 0}, {0.2, 0}, {0.4, 10}, {inf, 10}}, 0.5, 0.3},
		// Bucket rates, not counts: fractions work the same.
		{"rates", []stats.Bucket{{0.01, 0.5}, {0.02, 1}, {inf, 1}}, 0.75, 0.015},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stats.Quantile(tt.q, tt.b); !equal([]float64{got}, []float64{tt.want}) {
				t.Errorf("Quantile(%v, %v) = %v, want %v", tt.q, tt.b, got, tt.want)
			}
		})
	}
}

func TestGroups_EndAtTheNewestPoint(t *testing.T) {
	tests := []struct {
		n, max int
		want   []int
	}{
		{0, 10, nil},
		{3, 10, []int{1, 2, 3}},
		{10, 5, []int{2, 4, 6, 8, 10}},
		{10, 4, []int{1, 4, 7, 10}},
		{900, 300, nil}, // checked below by count
	}
	for _, tt := range tests {
		got := stats.Groups(tt.n, tt.max)
		if tt.want != nil && !slices.Equal(got, tt.want) {
			t.Errorf("Groups(%d, %d) = %v, want %v", tt.n, tt.max, got, tt.want)
		}
		if len(got) > tt.max || tt.n > 0 && got[len(got)-1] != tt.n {
			t.Errorf("Groups(%d, %d) = %d groups ending at %v; want at most %d ending at %d", tt.n, tt.max, len(got), got[len(got)-1:], tt.max, tt.n)
		}
	}
}
