package compare

import (
	"math"

	"gonum.org/v1/plot/plotter"

	"github.com/netlab/netlab/services/platform/latency"
)

func clamp(v float64, h *latency.HistogramJSON) float64 {
	return math.Max(float64(h.MinNs), math.Min(v, float64(h.MaxNs)))
}

// cdfPoints rises across each bucket from the fraction below it to the
// fraction at or below its top, in percent; latencies below 1ns are drawn
// at 1ns, which a log axis can show.
func cdfPoints(r Run) plotter.XYs {
	h := r.Hist
	n := float64(h.N)
	pts := plotter.XYs{{X: math.Max(float64(h.MinNs), 1), Y: 0}}
	var cum int64
	for _, b := range h.Buckets {
		lo, hi := clamp(float64(b[0]), h), clamp(float64(b[1]), h)
		pts = append(pts, plotter.XY{X: math.Max(lo, 1), Y: 100 * float64(cum) / n})
		cum += b[2]
		pts = append(pts, plotter.XY{X: math.Max(hi, 1), Y: 100 * float64(cum) / n})
	}
	return pts
}

// perDecade is how many points the percentile chart has from one nine to
// the next (90% to 99%).
const perDecade = 40

// percentilePoints is the latency at q = 1 - 10^(-i/perDecade), at x =
// 1/(1-q), up to the last value (x = n), which is the maximum.
func percentilePoints(r Run) plotter.XYs {
	h := r.Hist
	n := float64(h.N)
	var pts plotter.XYs
	for i := 0; ; i++ {
		x := math.Pow(10, float64(i)/perDecade)
		if x >= n {
			break
		}
		pts = append(pts, plotter.XY{X: x, Y: math.Max(float64(r.Snap.Percentile(100*(1-1/x))), 1)})
	}
	return append(pts, plotter.XY{X: math.Max(n, 1), Y: math.Max(float64(h.MaxNs), 1)})
}

// logRange is a latency axis that holds every run's values, from the
// 1-2-5 step at or below the smallest to the one at or above the largest.
func logRange(runs []Run) (lo, hi float64) {
	lo, hi = math.Inf(1), 1
	for _, r := range runs {
		if r.Hist != nil {
			lo, hi = math.Min(lo, float64(r.Hist.MinNs)), math.Max(hi, float64(r.Hist.MaxNs))
		}
	}
	lo = math.Max(lo, 1)
	return stepBelow(lo), stepAbove(hi)
}

// steps125 are the 1-2-5 values from 1ns to 1000s.
func steps125() []float64 {
	var out []float64
	for mag := 1.0; mag <= 1e12; mag *= 10 {
		out = append(out, mag, 2*mag, 5*mag)
	}
	return out
}

func stepBelow(v float64) float64 {
	best := 1.0
	for _, s := range steps125() {
		if s <= v {
			best = s
		}
	}
	return best
}

func stepAbove(v float64) float64 {
	for _, s := range steps125() {
		if s >= v {
			return s
		}
	}
	return v
}
