package matrix_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/matrix"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
)

func TestCombineLoss_IndependentDrops(t *testing.T) {
	cases := []struct {
		ps   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{5}, 5},
		{[]float64{5, 5}, 9.75},      // 1 − 0.95²
		{[]float64{10, 20}, 28},      // 1 − 0.9 × 0.8
		{[]float64{1, 1, 1}, 2.9701}, // 1 − 0.99³
		{[]float64{100, 3}, 100},
	}
	for _, c := range cases {
		if got := matrix.CombineLoss(c.ps...); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("CombineLoss(%v) = %v, want %v", c.ps, got, c.want)
		}
	}
}

func TestLossBand_FourSigmaAndOneProbe(t *testing.T) {
	// p = 2 %, n = 20,000: σ = √(0.02 × 0.98 / 20000) = 0.099 %; 4σ =
	// 0.396 points, one probe 0.005.
	lo, hi := matrix.LossBand(2, 20000)
	if math.Abs(lo-1.599) > 0.001 || math.Abs(hi-2.401) > 0.001 {
		t.Errorf("band %v … %v, want 1.599 … 2.401", lo, hi)
	}
	// No loss: nothing below 0, one probe above.
	if lo, hi := matrix.LossBand(0, 200); lo != 0 || hi != 0.5 {
		t.Errorf("band at 0 of 200: %v … %v, want 0 … 0.5", lo, hi)
	}
	if lo, hi := matrix.LossBand(5, 0); lo != 0 || hi != 100 {
		t.Errorf("band of no probe: %v … %v, want everything", lo, hi)
	}
}

// hops of the built-in spec's links: 1 → 2 delay 20 ms, 2 ↔ 3 loss 5 %,
// 4 → 1 delay 10 ms.
func builtinHops() []spec.Hop {
	return spec.Hops([]spec.Link{
		{From: "n1", To: "n2", Delay: spec.Duration(20 * time.Millisecond)},
		{From: "n2", To: "n3", Both: true, Loss: 5},
		{From: "n4", To: "n1", Delay: spec.Duration(10 * time.Millisecond)},
	})
}

func TestExpect_RoundTripAndOneWay(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		from, to string
		want     matrix.Expected
	}{
		// The delay of 1 → 2 is on the probes' way from 1, on the
		// replies' way to 2: both RTTs carry it, one one-way delay.
		{"n1", "n2", matrix.Expected{RTT: 20 * ms, OneWay: 20 * ms}},
		{"n2", "n1", matrix.Expected{RTT: 20 * ms}},
		// 5 % each way: a probe and its reply both survive 0.95².
		{"n2", "n3", matrix.Expected{Loss: 9.75, OneLoss: 5}},
		{"n3", "n2", matrix.Expected{Loss: 9.75, OneLoss: 5}},
		{"n1", "n4", matrix.Expected{RTT: 10 * ms}},
		{"n4", "n1", matrix.Expected{RTT: 10 * ms, OneWay: 10 * ms}},
		{"n1", "n3", matrix.Expected{}},
		{"n3", "n4", matrix.Expected{}},
	}
	for _, c := range cases {
		got := matrix.Expect(builtinHops(), c.from, c.to)
		if got.RTT != c.want.RTT || got.OneWay != c.want.OneWay || math.Abs(got.Loss-c.want.Loss) > 1e-9 || math.Abs(got.OneLoss-c.want.OneLoss) > 1e-9 {
			t.Errorf("%s → %s: %+v, want %+v", c.from, c.to, got, c.want)
		}
	}
	// Delay and loss on one link, both ways: twice the delay, the loss
	// compounded.
	both := spec.Hops([]spec.Link{{From: "a", To: "b", Both: true, Delay: spec.Duration(15 * ms), Loss: 10}})
	if got := matrix.Expect(both, "b", "a"); got.RTT != 30*ms || got.OneWay != 15*ms || math.Abs(got.Loss-19) > 1e-9 || math.Abs(got.OneLoss-10) > 1e-9 {
		t.Errorf("a ↔ b: %+v, want RTT 30ms, one-way 15ms, loss 19 %%, one-way 10 %%", got)
	}
}

func TestMetric_RoundTrip(t *testing.T) {
	m := matrix.Metric(matrix.RTTP99, "udp-responder-1", "udp-responder-2")
	if m != "rtt_p99_ms[udp-responder-1→udp-responder-2]" {
		t.Errorf("metric %q", m)
	}
	kind, from, to, ok := matrix.ParseMetric(m)
	if !ok || kind != matrix.RTTP99 || from != "udp-responder-1" || to != "udp-responder-2" {
		t.Errorf("parsed %q %q %q %v", kind, from, to, ok)
	}
	for _, bad := range []string{"loss_percent", matrix.BaseRTT, "rtt_p50_ms[a]", "rtt_p50_ms[a→]", "jitter_ms[a→b]", "rtt_p50_ms[a→b"} {
		if _, _, _, ok := matrix.ParseMetric(bad); ok {
			t.Errorf("%q parsed as a cell's figure", bad)
		}
	}
}

// measures are every figure of a matrix over nodes, each with value v
// and, for the p50s, a band that v is (or is not) within.
func measures(nodes []string, v float64, skip string) []result.Measure {
	th, lo, hi := 1.0, 0.0, 2.0
	out := []result.Measure{{Workload: "pairs", Client: spec.LatencyMatrix, Metric: matrix.BaseRTT, Reps: []float64{0.2}}}
	for _, a := range nodes {
		for _, b := range nodes {
			for _, k := range matrix.Kinds {
				m := matrix.Metric(k, a, b)
				if a == b || m == skip {
					continue
				}
				ms := result.Measure{Workload: "pairs", Client: spec.LatencyMatrix, Metric: m, Reps: []float64{v}}
				if k == matrix.RTTP50 {
					ms.Theory, ms.BandLow, ms.BandHigh = &th, &lo, &hi
				}
				out = append(out, ms)
			}
		}
	}
	return out
}

func TestFromResult_AssemblesTheMatrix(t *testing.T) {
	nodes := []string{"udp-responder-10", "udp-responder-2", "udp-responder-1"}
	r := &result.Result{Parameter: spec.Single, Points: []result.Point{{Measures: append(measures(nodes, 1.5, ""),
		result.Measure{Workload: "other", Client: spec.UDPProbe, Metric: result.MetricLoss, Reps: []float64{3}})}}}
	r.Analyze()
	ms := matrix.FromResult(r)
	if len(ms) != 1 {
		t.Fatalf("%d matrices, want the one latency-matrix workload", len(ms))
	}
	m := ms[0]
	if !slices.Equal(m.Nodes, []string{"udp-responder-1", "udp-responder-2", "udp-responder-10"}) {
		t.Errorf("nodes %v, want replica order", m.Nodes)
	}
	if len(m.Cells) != 6 || len(m.Missing()) != 0 || m.BaseRTT == nil || m.BaseRTT.Summary.Mean != 0.2 {
		t.Errorf("cells %d, missing %v, base %+v", len(m.Cells), m.Missing(), m.BaseRTT)
	}
	c := m.Cell("udp-responder-2", "udp-responder-10")
	if c == nil || c.Figures[matrix.Loss].Summary.Mean != 1.5 {
		t.Fatalf("cell 2 → 10: %+v", c)
	}
	if in, checked := c.Within(); !in || !checked {
		t.Errorf("1.5 in 0 … 2: within %v, checked %v", in, checked)
	}
	if m.Cell("udp-responder-1", "udp-responder-1") != nil {
		t.Error("a cell on the diagonal")
	}
	// A value outside its band marks the cell; a figure missing is named.
	r.Points[0].Measures = measures(nodes[1:], 2.5, matrix.Metric(matrix.Loss, "udp-responder-1", "udp-responder-2"))
	r.Analyze()
	m = matrix.FromResult(r)[0]
	if in, checked := m.Cell("udp-responder-2", "udp-responder-1").Within(); in || !checked {
		t.Errorf("2.5 outside 0 … 2: within %v, checked %v", in, checked)
	}
	if miss := m.Missing(); len(miss) != 1 || miss[0] != [2]string{"udp-responder-1", "udp-responder-2"} {
		t.Errorf("missing %v, want 1 → 2", miss)
	}
}
