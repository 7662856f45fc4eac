// Package stats is the arithmetic of an experiment's tables: the mean of
// repetitions with its Student-t confidence interval, and the binomial
// spread of a measured loss.
package stats

import (
	"math"
	"slices"
)

// Summary is the repetitions of one figure.
type Summary struct {
	N      int     `json:"n"`
	Mean   float64 `json:"mean"`
	StdDev float64 `json:"stddev"` // sample standard deviation; 0 when N < 2
	// CI95 is the half-width of the 95 % confidence interval of the mean
	// (Student's t with N-1 degrees of freedom); 0 when N < 2.
	CI95 float64 `json:"ci95"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// Summarize is the mean, spread and 95 % interval of xs; NaN values are
// left out.
func Summarize(xs []float64) Summary {
	var s Summary
	var sum float64
	for _, x := range xs {
		if math.IsNaN(x) {
			continue
		}
		if s.N == 0 || x < s.Min {
			s.Min = x
		}
		if s.N == 0 || x > s.Max {
			s.Max = x
		}
		s.N++
		sum += x
	}
	if s.N == 0 {
		return s
	}
	s.Mean = sum / float64(s.N)
	if s.N < 2 {
		return s
	}
	var ss float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			ss += (x - s.Mean) * (x - s.Mean)
		}
	}
	s.StdDev = math.Sqrt(ss / float64(s.N-1))
	s.CI95 = T95(s.N-1) * s.StdDev / math.Sqrt(float64(s.N))
	return s
}

// t95 are the two-sided 95 % quantiles of Student's t for 1 to 30
// degrees of freedom.
var t95 = [...]float64{12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
	2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
	2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042}

// T95 is the two-sided 95 % quantile of Student's t with df degrees of
// freedom (the normal 1.960 beyond the table); NaN for df < 1.
func T95(df int) float64 {
	switch {
	case df < 1:
		return math.NaN()
	case df <= len(t95):
		return t95[df-1]
	case df <= 60:
		return 2.000
	case df <= 120:
		return 1.980
	}
	return 1.960
}

// LossSigma is the standard deviation, in percent, of the loss measured
// over n independent probes each lost with probability pPct percent: the
// binomial sqrt(p(1-p)/n).
func LossSigma(pPct float64, n int) float64 {
	if n <= 0 {
		return math.NaN()
	}
	p := pPct / 100
	return 100 * math.Sqrt(p*(1-p)/float64(n))
}

// Median is the middle of xs (the mean of the middle two for an even
// count), NaN values left out; NaN when there is none.
func Median(xs []float64) float64 {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}
