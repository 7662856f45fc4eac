package render_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/experiments"
	"github.com/netlab/netlab/lab/internal/chartfile/charttest"
	"github.com/netlab/netlab/lab/internal/exp/filedist"
	"github.com/netlab/netlab/lab/internal/exp/render"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
)

// kuroseRun is a kurose-ross result and series at N = 1 and 10 of the
// built-in spec: client-server on its bound, peer-to-peer 1.5 × its bound
// at N = 10 with the CPUs busy.
func kuroseRun(t *testing.T) (string, *result.Result, []result.Row) {
	t.Helper()
	data, err := experiments.FS.ReadFile("kurose-ross.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := specDir(t, string(data))
	r := &result.Result{Schema: result.Schema, Name: "kurose-ross", Title: "File distribution", Parameter: "nodes", Unit: "nodes"}
	var rows []result.Row
	for i, n := range []float64{1, 10} {
		pt := result.Point{Value: n}
		for _, w := range []struct {
			name        string
			bound, last float64
			cpu         float64
		}{{"client-server", 0.8 * n, 0.8 * n * 1.01, 0.1}, {"peer-to-peer", max(0.8, 8*n/(10+n)), max(0.8, 8*n/(10+n)) * (1 + 0.5*(n-1)/9), 0.95}} {
			pt.Add(w.name, spec.KuroseRoss, result.Figure{Metric: filedist.MetricLast, Unit: "s", Value: w.last}, 0, 1)
			pt.Add(w.name, spec.KuroseRoss, result.Figure{Metric: filedist.MetricMedian, Unit: "s", Value: w.last * 0.98}, 0, 1)
			for m, v := range map[string]float64{filedist.MetricLast: w.last, filedist.MetricMedian: w.last * 0.98, filedist.Bound: w.bound,
				filedist.CPUBusy: w.cpu, filedist.ServerUtil: 0.97, filedist.AllUtil: 0.9, filedist.FirstBytes: 0.1} {
				rows = append(rows, result.SummaryRow(i, n, 0, w.name, 1, m, v))
			}
		}
		r.Points = append(r.Points, pt)
	}
	return dir, r, rows
}

func TestKuroseSections_DiagnosisAndBookFigure(t *testing.T) {
	dir, r, rows := kuroseRun(t)
	secs, err := render.Extras[spec.KuroseRoss](dir, r, rows)
	if err != nil || len(secs) != 1 {
		t.Fatalf("sections %+v, %v", secs, err)
	}
	s := secs[0]
	if len(s.Table) != 5 || !strings.Contains(s.Text, "3 of 4 points are") || !strings.Contains(s.Text, "peer-to-peer at N = 10, at 1.500") {
		t.Errorf("table of %d rows, text %q", len(s.Table), s.Text)
	}
	last := s.Table[len(s.Table)-1]
	if last[0] != "10" || last[1] != "peer-to-peer" || last[4] != "1.500" || !strings.HasPrefix(last[len(last)-1], "the machine's CPU") {
		t.Errorf("the N=10 peer-to-peer row: %q", last)
	}
	if !strings.HasPrefix(s.Table[1][len(s.Table[1])-1], "within 25 %") {
		t.Errorf("the N=1 client-server row: %q", s.Table[1])
	}
	if len(s.Plots) != 1 {
		t.Fatalf("plots %v, want the book's figure", s.Plots)
	}
	charttest.DecodePNG(t, filepath.Join(dir, s.Plots[0]+".png"))
	svgHas(t, "the figure (its axis, the P2P bound)", readOut(t, dir, s.Plots[0]+".svg"), "units of F/u", "D_P2P")
}

func TestKuroseSections_NoneWithoutTheClient(t *testing.T) {
	dir, r, _ := kuroseRun(t)
	secs, err := render.Extras[spec.KuroseRoss](dir, r, nil)
	if err != nil || len(secs) != 0 {
		t.Errorf("sections from an empty series: %+v, %v", secs, err)
	}
}
