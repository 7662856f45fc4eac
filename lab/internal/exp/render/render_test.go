package render_test

import (
	"bytes"
	"encoding/base64"
	"flag"
	"html"
	"image/color"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/chartfile/charttest"
	"github.com/netlab/netlab/lab/internal/cli/clitest"
	"github.com/netlab/netlab/lab/internal/exp/render"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"gonum.org/v1/plot/plotutil"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// rateResult is a small rate run: two caps, two workloads, three
// repetitions each.
func rateResult() *result.Result {
	r := &result.Result{Schema: result.Schema, Name: "rate", Title: "Throughput against the cap", Parameter: "rate", Unit: "Mbit/s",
		Seed: 7, Project: "netlab-exp-rate-00000000", Started: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC),
		Finished: time.Date(2026, 12, 7, 10, 1, 30, 0, time.UTC), Environment: map[string]string{"kernel": "6.18", "cpus": "2"},
		Mechanisms: []string{"tcp-echo-1: rate egress: tbf"}, Notes: []string{"a note"}}
	for _, v := range []float64{10, 40} {
		r.Points = append(r.Points, result.Point{Value: v, Measures: []result.Measure{
			{Workload: "tcp", Client: "tcp-bulk", Metric: result.MetricTCPMbit, Unit: "Mbit/s", Reps: []float64{0.95 * v, 0.96 * v, 0.94 * v}},
			{Workload: "udp", Client: "udp-bitrate", Metric: result.MetricUDPMbit, Unit: "Mbit/s", Reps: []float64{0.97 * v, 0.975 * v, 0.965 * v}},
		}})
	}
	r.Analyze()
	return r
}

func lossResult() *result.Result {
	r := &result.Result{Schema: result.Schema, Name: "loss", Title: "Loss against p", Parameter: "loss", Unit: "%", Seed: 1,
		Started: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC), Finished: time.Date(2026, 12, 7, 10, 0, 30, 0, time.UTC)}
	for _, c := range []struct{ p, got float64 }{{0, 0}, {2, 1.9}, {10, 14}} {
		r.Points = append(r.Points, result.Point{Value: c.p, Measures: []result.Measure{
			{Workload: "udp", Client: "udp-probe", Metric: result.MetricLoss, Unit: "%", Samples: 2000, Reps: []float64{c.got}}}})
	}
	r.Analyze()
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestWriteTable_Golden(t *testing.T) {
	for name, r := range map[string]*result.Result{"rate.md": rateResult(), "loss.md": lossResult()} {
		var b bytes.Buffer
		if err := render.WriteTable(&b, r, nil); err != nil {
			t.Fatal(err)
		}
		golden(t, name, b.Bytes())
	}
}

func TestAll_PlotsDecodeAndReportIsSelfContained(t *testing.T) {
	dir := specDir(t, "name: rate\ntitle: <the spec>\n")
	files, err := render.All(dir, rateResult(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 {
		t.Errorf("wrote %v, want table, PNG, SVG and report", files)
	}
	img := charttest.DecodePNG(t, filepath.Join(dir, "rate.png"))
	if b := img.Bounds(); b.Dx() != 960 || b.Dy() != 576 {
		t.Errorf("PNG is %v, want 960×576", b)
	}
	for i, w := range []string{"tcp", "udp"} {
		if n := charttest.Colored(img, plotutil.Color(i)); n < 50 {
			t.Errorf("%s's colour on %d pixels: its points are missing", w, n)
		}
	}
	if n := charttest.Colored(img, color.Black); n < 200 {
		t.Errorf("black (theory line, axes) on %d pixels", n)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "rate.svg"))
	if err != nil || !bytes.Contains(svg, []byte("<svg")) {
		t.Fatalf("SVG: %v", err)
	}
	svgHas(t, "SVG's axes with units and legend", svg, "rate set (Mbit/s)", "measured (Mbit/s)", "theory: throughput = the cap", "tcp (tcp-bulk): echoed_mbit_per_s")
	report := readOut(t, dir, render.ReportFile)
	page := string(report)
	clitest.Contains(t, "report", page, "&lt;the spec&gt;", "tcp-echo-1: rate egress: tbf", "<th>kernel</th>", "a note", "<td>38.000</td>")
	if regexp.MustCompile(`(?i)(src|href)="(https?:)?//`).MatchString(page) {
		t.Error("report loads something from the network")
	}
	m := regexp.MustCompile(`src="data:image/png;base64,([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("report has no inline PNG")
	}
	// The attribute is HTML-escaped (+ is &#43;), as a browser reads it.
	inline, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1]))
	data, rerr := os.ReadFile(filepath.Join(dir, "rate.png"))
	if err != nil || rerr != nil || !bytes.Equal(inline, data) {
		t.Errorf("the inline PNG is not rate.png (%v, %v)", err, rerr)
	}
}

// plotSVG draws r's plot of unit and returns its SVG.
func plotSVG(t *testing.T, r *result.Result, unit string) []byte {
	t.Helper()
	dir := t.TempDir()
	p, err := render.Plot(r, unit)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := render.WritePlot(dir, "plot", p); err != nil {
		t.Fatal(err)
	}
	svg := readOut(t, dir, "plot.svg")
	return svg
}

func TestPlot_LossBandAndErrorBars(t *testing.T) {
	svg := plotSVG(t, lossResult(), "%")
	svgHas(t, "the loss plot's legend", svg, "theory ± 4σ", "measured loss = p")
}

// TestPlot_GoldenSVG pins the whole drawing of the rate plot (axes and
// their units, legend, points, error bars, the theory line): gonum/plot's
// SVG is the same bytes for the same figures. go test -update rewrites it
// after a change meant to alter the plot.
func TestPlot_GoldenSVG(t *testing.T) {
	golden(t, "rate.svg", plotSVG(t, rateResult(), "Mbit/s"))
}
