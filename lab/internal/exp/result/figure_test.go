package result_test

import (
	"math"
	"testing"

	"github.com/netlab/netlab/lab/internal/exp/result"
)

func TestPointAdd_MeasuresPerWorkloadAndMetricInRepetitionOrder(t *testing.T) {
	var p result.Point
	th, lo, hi := 10.0, 10.0, 12.5
	p.Add("p2p", "kr", result.Figure{Metric: "last_s", Unit: "s", Value: 11, Theory: &th, TheoryLabel: "bound", BandLow: &lo, BandHigh: &hi}, 1, 3)
	p.Add("p2p", "kr", result.Figure{Metric: "median_s", Unit: "s", Value: 8}, 0, 3)
	p.Add("p2p", "kr", result.Figure{Metric: "last_s", Unit: "s", Value: 12}, 0, 3)
	if len(p.Measures) != 2 {
		t.Fatalf("%d measures, want one per metric: %+v", len(p.Measures), p.Measures)
	}
	m := p.Measures[0]
	if m.Metric != "last_s" || m.Reps[0] != 12 || m.Reps[1] != 11 || !math.IsNaN(m.Reps[2]) {
		t.Errorf("last_s repetitions %v, want [12 11 NaN]", m.Reps)
	}
	if m.Theory == nil || *m.Theory != 10 || m.TheoryLabel != "bound" {
		t.Errorf("the figure's theory was not kept: %+v", m)
	}
	r := result.Result{Parameter: "nodes", Points: []result.Point{p}}
	r.Analyze()
	m = r.Points[0].Measures[0]
	if len(m.Reps) != 2 || m.Summary.N != 2 || m.Summary.Mean != 11.5 {
		t.Errorf("after Analyze: reps %v, summary %+v: the repetition not run is left out", m.Reps, m.Summary)
	}
	if m.Within == nil || !*m.Within || m.Ratio == nil || *m.Ratio != 1.15 {
		t.Errorf("within %v, ratio %v: want inside 10…12.5, ratio 1.15", m.Within, m.Ratio)
	}
	r.Points[0].Measures[0].Reps = []float64{12, 13}
	r.Analyze()
	if m := r.Points[0].Measures[0]; *m.Within {
		t.Error("13 is outside the band 10…12.5, yet within")
	}
	if m := r.Points[0].Measures[1]; m.Theory != nil || m.Within != nil {
		t.Errorf("a figure without theory got theory %v, within %v", m.Theory, m.Within)
	}
}
