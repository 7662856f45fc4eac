package result_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/netlab/netlab/lab/internal/exp/result"
)

func lossResult() *result.Result {
	return &result.Result{Schema: result.Schema, Name: "loss", Parameter: "loss", Unit: "%", Points: []result.Point{
		{Value: 0, Measures: []result.Measure{{Workload: "udp", Client: "udp-probe", Metric: result.MetricLoss, Samples: 2000}}},
		{Value: 10, Measures: []result.Measure{{Workload: "udp", Client: "udp-probe", Metric: result.MetricLoss, Samples: 2000}}},
	}}
}

func TestAnalyze_LossBandAndTheory(t *testing.T) {
	r := lossResult()
	r.Points[0].Measures[0].Reps = []float64{0, 0.05}   // one probe of 2000: inside the slack
	r.Points[1].Measures[0].Reps = []float64{9.5, 13.0} // 4σ at 10 %, n 2000: ± 2.683
	r.Analyze()
	m0, m1 := r.Points[0].Measures[0], r.Points[1].Measures[0]
	if m0.Theory == nil || *m0.Theory != 0 || m0.Within == nil || !*m0.Within || m0.Ratio != nil {
		t.Errorf("p 0: theory %v, within %v, ratio %v: want 0, yes, none", m0.Theory, m0.Within, m0.Ratio)
	}
	if *m1.Theory != 10 || *m1.BandHigh < 12.68 || *m1.BandHigh > 12.69 || *m1.Within {
		t.Errorf("p 10: theory %v, band %v … %v, within %v: want 10, up to 12.683, and 13.0 outside", *m1.Theory, *m1.BandLow, *m1.BandHigh, *m1.Within)
	}
	if m1.Summary.N != 2 || m1.Summary.Mean != 11.25 || m1.Summary.CI95 <= 0 {
		t.Errorf("summary %+v", m1.Summary)
	}
}

func TestSeries_RoundTripAndFromSeries(t *testing.T) {
	rows := []result.Row{
		result.SummaryRow(1, 10, 1, "udp", 9.5, result.MetricLoss, 10.4),
		result.SummaryRow(1, 10, 0, "udp", 4.5, result.MetricLoss, 9.6),
		result.SummaryRow(0, 0, 0, "udp", 2, result.MetricLoss, 0),
		{Point: 0, Value: 0, Rep: 0, Source: "udp-responder-1", T: 1.25, Metric: "go_goroutines", V: 14},
	}
	var b bytes.Buffer
	if err := result.WriteCSV(&b, rows); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "series.csv")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := result.ReadCSV(path)
	if err != nil || len(back) != len(rows) || back[3] != rows[3] || back[0] != rows[0] {
		t.Fatalf("read back %v, %v; want %v", back, err, rows)
	}
	r := lossResult()
	if err := r.FromSeries(back); err != nil {
		t.Fatal(err)
	}
	if got := r.Points[1].Measures[0].Reps; len(got) != 2 || got[0] != 9.6 || got[1] != 10.4 {
		t.Errorf("point 1's repetitions %v, want [9.6 10.4] in repetition order", got)
	}
	if r.Points[1].Measures[0].Summary.Mean != 10 {
		t.Errorf("mean %v, want 10", r.Points[1].Measures[0].Summary.Mean)
	}
	// A series without a point's figure cannot make the result.
	if err := lossResult().FromSeries(back[:2]); err == nil {
		t.Error("a series without point 0 was accepted")
	}
}

func TestReadCSV_RefusesAnotherHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "series.csv")
	if err := os.WriteFile(path, []byte("a,b,c,d,e,f,g\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := result.ReadCSV(path); err == nil {
		t.Error("a file with another header was read")
	}
}

func TestReadFile_RefusesAnotherSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "result.json")
	if err := os.WriteFile(path, []byte(`{"schema":"other/1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := result.ReadFile(path); err == nil {
		t.Error("another schema was read")
	}
}
