package render_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/internal/cli/clitest"
	"github.com/netlab/netlab/lab/internal/exp/render"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
)

// specDir is a new run directory holding spec as its spec.yaml, as
// render.All reads it.
func specDir(t *testing.T, spec string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, render.SpecFile), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// readOut reads the file name that render wrote in dir.
func readOut(t *testing.T, dir, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// svgHas fails t for each of wants that svg lacks; what names the
// drawing, whose text is too long to show.
func svgHas(t *testing.T, what string, svg []byte, wants ...string) {
	t.Helper()
	for _, w := range clitest.Missing(string(svg), wants...) {
		t.Errorf("%s lacks %q", what, w)
	}
}

func TestAll_APlotPerUnit(t *testing.T) {
	dir := specDir(t, "name: x\n")
	r := lossResult()
	for i := range r.Points {
		r.Points[i].Measures = append(r.Points[i].Measures, result.Measure{Workload: "tcp", Client: "tcp-bulk",
			Metric: result.MetricTCPMbit, Unit: "Mbit/s", Reps: []float64{100 - r.Points[i].Value}})
	}
	r.Analyze()
	if got := render.Units(r); len(got) != 2 || got[0] != "%" || got[1] != "Mbit/s" {
		t.Fatalf("units %v", got)
	}
	if _, err := render.All(dir, r, nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"loss.png", "loss.svg", "loss-mbit-s.png", "loss-mbit-s.svg"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
	svg := readOut(t, dir, "loss-mbit-s.svg")
	if !strings.Contains(string(svg), "measured (Mbit/s)") || strings.Contains(string(svg), "udp (udp-probe)") {
		t.Error("the Mbit/s plot must hold the Mbit/s figures only")
	}
}

func TestAll_SectionsOfExtrasAndNoSweepPlotForOnePoint(t *testing.T) {
	dir := specDir(t, "name: x\n")
	r := &result.Result{Schema: result.Schema, Name: "one", Title: "One point", Parameter: spec.Single, Points: []result.Point{
		{Measures: []result.Measure{{Workload: "w", Client: "test-extra", Metric: "m", Unit: "s", Reps: []float64{1}}}}}}
	r.Analyze()
	render.Extras["test-extra"] = func(dir string, r *result.Result, rows []result.Row) ([]render.Section, error) {
		p, err := render.Plot(lossResult(), "%")
		if err != nil {
			return nil, err
		}
		if _, err := render.WritePlot(dir, "one-extra", p); err != nil {
			return nil, err
		}
		return []render.Section{{Heading: "Extra heading", Text: "rows: " + string(rune('0'+len(rows))),
			Table: [][]string{{"a", "b"}, {"cell-1", "cell-2"}}, Plots: []string{"one-extra"}}}, nil
	}
	defer delete(render.Extras, "test-extra")
	files, err := render.All(dir, r, []result.Row{{}, {}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "one.png")); err == nil {
		t.Error("a run of one point got a sweep plot")
	}
	if len(files) != 4 {
		t.Errorf("files %v, want the extra's PNG and SVG, table.md and report.html", files)
	}
	table := readOut(t, dir, render.TableFile)
	report := readOut(t, dir, render.ReportFile)
	clitest.Contains(t, "table.md", string(table), "## Extra heading", "rows: 2", "| cell-1 | cell-2 |", "![Extra heading](one-extra.png)")
	clitest.Contains(t, "report.html", string(report), "<h2>Extra heading</h2>", "<td>cell-1</td>", "data:image/png;base64,")
}
