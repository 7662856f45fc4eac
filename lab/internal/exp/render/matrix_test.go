package render_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/chartfile/charttest"
	"github.com/netlab/netlab/lab/internal/exp/matrix"
	"github.com/netlab/netlab/lab/internal/exp/render"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
	"gonum.org/v1/plot/palette/moreland"
)

// matrixSpec is the spec.yaml of matrixResult's run.
const matrixSpec = `name: latency-matrix
title: A matrix
services:
  - name: udp-responder
    replicas: 3
workloads:
  - name: pairs
    client: latency-matrix
    count: 1000
    rate: 500
    size: 68
    tolerance: 3ms
    links:
      - from: udp-responder-1
        to: udp-responder-2
        delay: 20ms
      - from: udp-responder-2
        to: udp-responder-3
        both: true
        loss: 5
repetitions: 2
quick:
  repetitions: 1
  scale: 0.2
`

// matrixResult is two repetitions of three replicas under matrixSpec's
// links, with a base RTT of 0.2 ms: every cell near its theory but
// 3 → 1, whose RTT is 4 ms off.
func matrixResult() *result.Result {
	r := &result.Result{Schema: result.Schema, Name: "latency-matrix", Title: "RTT between every pair", Parameter: spec.Single,
		Seed: 3, Started: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC), Finished: time.Date(2026, 12, 7, 10, 3, 0, 0, time.UTC),
		Mechanisms: []string{"udp-responder-1: delay egress: nfqueue delayer (only traffic to udp-responder-2 (10.0.0.3))"}}
	add := func(metric, unit string, reps []float64, theory *float64, lo, hi *float64, n int) {
		r.Points[0].Measures = append(r.Points[0].Measures, result.Measure{Workload: "pairs", Client: spec.LatencyMatrix,
			Metric: metric, Unit: unit, Reps: reps, Theory: theory, BandLow: lo, BandHigh: hi, Samples: n})
	}
	r.Points = []result.Point{{}}
	add(matrix.BaseRTT, "ms", []float64{0.2, 0.2}, nil, nil, nil, 1000)
	add(matrix.BaseOneWay, "ms", []float64{0.05, 0.05}, nil, nil, nil, 1000)
	cells := []struct {
		from, to                   int
		p50, p99, loss, ow, owLoss float64 // measured
		rtt, lossTh, owTh, owLTh   float64 // theory
	}{
		{1, 2, 21.1, 25, 0, 20.9, 0, 20.2, 0, 20.05, 0},
		{2, 1, 20.9, 24, 0, 0.06, 0, 20.2, 0, 0.05, 0},
		{1, 3, 0.15, 0.6, 0, 0.05, 0, 0.2, 0, 0.05, 0},
		{3, 1, 4.2, 9, 0, 0.05, 0, 0.2, 0, 0.05, 0},
		{2, 3, 0.16, 0.7, 10.1, 0.05, 4.9, 0.2, 9.75, 0.05, 5},
		{3, 2, 0.14, 0.5, 9.4, 0.05, 5.2, 0.2, 9.75, 0.05, 5},
	}
	for _, c := range cells {
		from, to := spec.MatrixNode(c.from), spec.MatrixNode(c.to)
		banded := func(kind string, v, th float64) {
			add(matrix.Metric(kind, from, to), "ms", []float64{v, v}, &th, ptr(max(0, th-3)), ptr(th+3), 950)
		}
		lossy := func(kind string, v, th float64) {
			lo, hi := matrix.LossBand(th, 1000)
			add(matrix.Metric(kind, from, to), "%", []float64{v, v}, &th, &lo, &hi, 1000)
		}
		banded(matrix.RTTP50, c.p50, c.rtt)
		add(matrix.Metric(matrix.RTTP99, from, to), "ms", []float64{c.p99, c.p99}, nil, nil, nil, 950)
		lossy(matrix.Loss, c.loss, c.lossTh)
		banded(matrix.OneWayP50, c.ow, c.owTh)
		lossy(matrix.OneWayLos, c.owLoss, c.owLTh)
	}
	r.Analyze()
	return r
}

func ptr(v float64) *float64 { return &v }

func TestAll_LatencyMatrixSections(t *testing.T) {
	dir := specDir(t, matrixSpec)
	files, err := render.All(dir, matrixResult(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// No sweep: no sweep plot; two heat maps, the table, the report.
	if len(files) != 6 {
		t.Errorf("wrote %v, want two heat maps (PNG, SVG), the table and the report", files)
	}
	table := readOut(t, dir, render.TableFile)
	golden(t, "matrix.md", table)
	for _, name := range []string{"latency-matrix-pairs-rtt", "latency-matrix-pairs-oneway"} {
		checkHeatMap(t, dir, name)
	}
	report := readOut(t, dir, render.ReportFile)
	if n := strings.Count(string(report), `src="data:image/png;base64,`); n != 2 {
		t.Errorf("report has %d inline PNGs, want the two heat maps", n)
	}
}

// checkHeatMap checks that dir/name.png decodes at the heat map's size
// and shows both ends of its colour scale (the slowest cell, the
// fastest), and that name.svg labels the axes with the containers and
// the scale with its unit.
func checkHeatMap(t *testing.T, dir, name string) {
	t.Helper()
	img := charttest.DecodePNG(t, filepath.Join(dir, name+".png"))
	if b := img.Bounds(); b.Dx() != 960 || b.Dy() != 720 {
		t.Errorf("%s.png is %v, want 960×720", name, b)
	}
	pal := moreland.SmoothBlueRed().Palette(256).Colors()
	// A cell is about 220 × 200 pixels, less its text.
	for _, end := range []struct {
		what  string
		i     int
		cells int
	}{{"slowest", len(pal) - 1, 1}, {"fastest", 0, 1}} {
		if n := charttest.Colored(img, pal[end.i]); n < end.cells*20000 {
			t.Errorf("%s.png: the %s colour on %d pixels, want a cell's", name, end.what, n)
		}
	}
	svg, err := os.ReadFile(filepath.Join(dir, name+".svg"))
	if err != nil || !bytes.Contains(svg, []byte("<svg")) {
		t.Fatalf("%s.svg: %v", name, err)
	}
	svgHas(t, name+".svg", svg, "udp-responder-1", "udp-responder-3", "from: the client", "to: the udp-responder probed", "p50 (ms)", "theory")
}

func TestAll_LatencyMatrixRefusesAMissingPair(t *testing.T) {
	dir := specDir(t, matrixSpec)
	r := matrixResult()
	ms := r.Points[0].Measures
	r.Points[0].Measures = ms[:len(ms)-1] // 3 → 2's one-way loss
	if _, err := render.All(dir, r, nil); err == nil || !strings.Contains(err.Error(), "udp-responder-3 → udp-responder-2") {
		t.Errorf("error %v, want the pair without every figure named", err)
	}
}
