package compare

import (
	"math"
	"strconv"
	"time"

	"gonum.org/v1/plot"
)

// durationTicks marks a log axis of nanoseconds in time units (100µs,
// 1ms): every power of ten labelled, 2 and 5 between them too when the
// axis spans under three powers.
type durationTicks struct{}

func (durationTicks) Ticks(lo, hi float64) []plot.Tick {
	few := hi/lo < 1000
	var ticks []plot.Tick
	for _, s := range steps125() {
		if s < lo*(1-1e-9) || s > hi*(1+1e-9) {
			continue
		}
		t := plot.Tick{Value: s}
		if isPow10(s) || few {
			t.Label = time.Duration(s).String()
		}
		ticks = append(ticks, t)
	}
	return ticks
}

func isPow10(v float64) bool {
	e := math.Round(math.Log10(v))
	return math.Abs(v-math.Pow(10, e)) < 1e-9*v
}

// percentileTicks marks an axis of 1/(1-q) at its powers of ten, labelled
// as the percentile: 1 is 0%, 10 is 90%, 1000 is 99.9%.
type percentileTicks struct{}

func (percentileTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for k := 0; math.Pow(10, float64(k)) <= hi*(1+1e-9); k++ {
		x := math.Pow(10, float64(k))
		if x < lo*(1-1e-9) {
			continue
		}
		label := strconv.FormatFloat(100-100/x, 'f', max(k-2, 0), 64) + "%"
		ticks = append(ticks, plot.Tick{Value: x, Label: label})
	}
	return ticks
}

// siTicks are gonum's default ticks labelled with SI prefixes (50k, 1.2M).
type siTicks struct{}

func (siTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = SI(ticks[i].Value)
		}
	}
	return ticks
}
