package stats_test

import (
	"math"
	"testing"

	"github.com/netlab/netlab/lab/internal/exp/stats"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestSummarize_MeanAndStudentInterval(t *testing.T) {
	// Five values with mean 10 and sample stddev sqrt(2.5): the interval
	// is t(4) = 2.776 times sqrt(2.5/5).
	s := stats.Summarize([]float64{8, 9, 10, 11, 12})
	want := 2.776 * math.Sqrt(2.5) / math.Sqrt(5)
	if s.N != 5 || s.Mean != 10 || !near(s.StdDev, math.Sqrt(2.5), 1e-12) || !near(s.CI95, want, 1e-9) || s.Min != 8 || s.Max != 12 {
		t.Errorf("got %+v, want n 5, mean 10, sd %.4f, ci %.4f", s, math.Sqrt(2.5), want)
	}
}

func TestSummarize_OneValueHasNoInterval(t *testing.T) {
	s := stats.Summarize([]float64{3.5})
	if s.N != 1 || s.Mean != 3.5 || s.CI95 != 0 || s.StdDev != 0 {
		t.Errorf("got %+v", s)
	}
	if z := stats.Summarize(nil); z.N != 0 || z.Mean != 0 {
		t.Errorf("empty: %+v", z)
	}
}

func TestSummarize_SkipsNaN(t *testing.T) {
	s := stats.Summarize([]float64{1, math.NaN(), 3})
	if s.N != 2 || s.Mean != 2 || !near(s.CI95, 12.706*math.Sqrt(2)/math.Sqrt(2), 1e-9) {
		t.Errorf("got %+v", s)
	}
}

func TestT95_TableAndLimits(t *testing.T) {
	for _, c := range []struct {
		df   int
		want float64
	}{{1, 12.706}, {2, 4.303}, {10, 2.228}, {30, 2.042}, {45, 2.000}, {100, 1.980}, {1000, 1.960}} {
		if got := stats.T95(c.df); got != c.want {
			t.Errorf("T95(%d) = %v, want %v", c.df, got, c.want)
		}
	}
	if !math.IsNaN(stats.T95(0)) {
		t.Error("T95(0) is not NaN")
	}
}

func TestLossSigma_Binomial(t *testing.T) {
	// p = 2 %, n = 2000: sqrt(0.02 × 0.98 / 2000) = 0.313 %.
	if got := stats.LossSigma(2, 2000); !near(got, 0.31305, 1e-4) {
		t.Errorf("LossSigma(2, 2000) = %v", got)
	}
	if stats.LossSigma(0, 100) != 0 || stats.LossSigma(100, 100) != 0 || !math.IsNaN(stats.LossSigma(5, 0)) {
		t.Error("edges: 0 at p 0 and 100, NaN without probes")
	}
}

func TestMedian(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{nan, 5, nan}, 5},
		{[]float64{7}, 7},
	} {
		if got := stats.Median(c.xs); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.xs, got, c.want)
		}
	}
	if got := stats.Median([]float64{nan}); !math.IsNaN(got) {
		t.Errorf("Median of nothing = %v, want NaN", got)
	}
	xs := []float64{3, 1, 2}
	stats.Median(xs)
	if xs[0] != 3 {
		t.Errorf("Median sorted its argument: %v", xs)
	}
}
