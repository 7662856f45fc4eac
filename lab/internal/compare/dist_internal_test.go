package compare

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot"

	"github.com/netlab/netlab/services/platform/latency"
)

// histogram is n log-uniform values from 100ns to 100ms.
func histogram(n int) *latency.HistogramJSON {
	rng := rand.New(rand.NewPCG(1, 2))
	var h latency.Histogram
	for range n {
		h.Record(time.Duration(100 * float64(uint64(1)<<rng.IntN(20)) * (1 + rng.Float64())))
	}
	var s latency.Snapshot
	s.Add(&h)
	j := s.Histogram()
	return &j
}

func TestCDFPoints_RiseFromTheMinimumTo100AtTheMaximum(t *testing.T) {
	h := histogram(10_000)
	pts := cdfPoints(Run{Hist: h})
	first, last := pts[0], pts[len(pts)-1]
	if first.X != float64(h.MinNs) || first.Y != 0 || last.X != float64(h.MaxNs) || last.Y != 100 {
		t.Errorf("from %v to %v, want (%d, 0) to (%d, 100)", first, last, h.MinNs, h.MaxNs)
	}
	for i := 1; i < len(pts); i++ {
		if pts[i].X < pts[i-1].X || pts[i].Y < pts[i-1].Y {
			t.Fatalf("point %d %v falls back from %v", i, pts[i], pts[i-1])
		}
	}
	snap, err := h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	pp := percentilePoints(Run{Hist: h, Snap: snap})
	if p99 := pp[2*perDecade].Y; p99 != float64(snap.Stats().P99) {
		t.Errorf("the percentile line at 99%% is %v, the histogram's p99 %v", time.Duration(p99), snap.Stats().P99)
	}
	if end := pp[len(pp)-1]; end.X != 10_000 || end.Y != float64(h.MaxNs) {
		t.Errorf("the percentile line ends at %v, want (10000, max %d)", end, h.MaxNs)
	}
}

func labels(ticks []plot.Tick) string {
	var out []string
	for _, t := range ticks {
		if t.Label != "" {
			out = append(out, t.Label)
		}
	}
	return strings.Join(out, " ")
}

func TestTicks_AreInTimeUnitsAndPercentiles(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{labels(durationTicks{}.Ticks(1e3, 10e6)), "1µs 10µs 100µs 1ms 10ms"},
		{labels(durationTicks{}.Ticks(20e3, 10e6)), "20µs 50µs 100µs 200µs 500µs 1ms 2ms 5ms 10ms"},
		{labels(durationTicks{}.Ticks(1e6, 50e6)), "1ms 2ms 5ms 10ms 20ms 50ms"},
		{labels(percentileTicks{}.Ticks(1, 2e5)), "0% 90% 99% 99.9% 99.99% 99.999%"},
		{labels(siTicks{}.Ticks(0, 60_000)), "0 30k 60k"},
	} {
		if c.got != c.want {
			t.Errorf("ticks %q, want %q", c.got, c.want)
		}
	}
	if lo, hi := logRange([]Run{{Hist: &latency.HistogramJSON{MinNs: 38_000, MaxNs: 5_400_000}}, {}}); lo != 20e3 || hi != 10e6 {
		t.Errorf("logRange = %v, %v; want 20µs, 10ms", lo, hi)
	}
}

func TestSI(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", 12.5: "12.5", 999: "999", 51_234.5: "51.23k", -1_200: "-1.2k", 999_960: "1M", 409_876_543: "409.9M", 2.5e9: "2.5G",
	} {
		if got := SI(v); got != want {
			t.Errorf("SI(%v) = %q, want %q", v, got, want)
		}
	}
}
