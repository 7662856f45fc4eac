package render_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/chartfile/charttest"
	"github.com/netlab/netlab/lab/internal/cli/clitest"
	"github.com/netlab/netlab/lab/internal/exp/pagetime"
	"github.com/netlab/netlab/lab/internal/exp/render"
	"github.com/netlab/netlab/lab/internal/exp/result"
)

const pageSpec = `name: http-rtt
title: Pages
services:
  - name: http-hello
    replicas: 1
impairment:
  targets: [http-hello]
  direction: ingress
sweep:
  parameter: delay
  values: [0, 50]
workloads:
  - name: np
    client: http-page
    connection: non-persistent
    objects: 6
    count: 3
  - name: mux
    client: http-page
    connection: multiplexed
    objects: 6
    count: 3
repetitions: 1
quick:
  values: [0, 50]
  repetitions: 1
  scale: 1
`

// pageRun is a small http-rtt run: RTT₀ 0.5 ms (the connect times at
// d = 0), pages at 0 and 50 ms, the theory as the runner sets it.
func pageRun() (*result.Result, []result.Row) {
	r := &result.Result{Schema: result.Schema, Name: "http-rtt", Title: "Pages", Parameter: "delay", Unit: "ms",
		Started: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC), Finished: time.Date(2026, 12, 7, 10, 1, 0, 0, time.UTC)}
	m := pagetime.Model{Base: 0.5, Ways: 1}
	var rows []result.Row
	pages := map[string][]float64{"np/0": {8, 9, 30}, "mux/0": {3, 4, 5}, "np/50": {620, 640, 700}, "mux/50": {102, 104, 140}}
	for i, d := range []float64{0, 50} {
		pt := result.Point{Value: d}
		for _, w := range []struct{ name, conn string }{{"np", pagetime.NonPersistent}, {"mux", pagetime.Multiplexed}} {
			key := w.name + "/" + map[float64]string{0: "0", 50: "50"}[d]
			th := m.Page(w.conn, 6, 13, d)
			lo, hi := pagetime.Band(th, 6)
			pt.Measures = append(pt.Measures, result.Measure{Workload: w.name, Client: "http-page", Metric: pagetime.MetricPage, Unit: "ms",
				Reps: []float64{pages[key][1]}, Theory: &th, TheoryLabel: pagetime.Label(w.conn, 6), BandLow: &lo, BandHigh: &hi})
			for _, ms := range pages[key] {
				rows = append(rows, result.Row{Point: i, Value: d, Source: "workload:" + w.name, Metric: pagetime.MetricPage, V: ms})
			}
			rows = append(rows, result.SummaryRow(i, d, 0, w.name, 1, pagetime.MetricConnect, 0.5+d),
				result.SummaryRow(i, d, 0, w.name, 1, pagetime.MetricBytes, 13),
				result.SummaryRow(i, d, 0, w.name, 1, pagetime.MetricPage, pages[key][1]))
		}
		r.Points = append(r.Points, pt)
	}
	r.Analyze()
	return r, rows
}

// The http-page section: each page in round trips of RTT(d) and of the
// connect time, beside the count of theory; its plot on a log scale
// with each workload's count as a line.
func TestAll_PageSection(t *testing.T) {
	dir := specDir(t, "# header\n"+pageSpec)
	r, rows := pageRun()
	if _, err := render.All(dir, r, rows); err != nil {
		t.Fatal(err)
	}
	table := readOut(t, dir, render.TableFile)
	clitest.Contains(t, "table.md", string(table),
		"## Pages in round trips\n",
		"RTT₀ = 0.500 ms the median TCP connect time at d = 0 (2 runs)",
		// np at 50 ms: 12 round trips of 50.5 ms is 606 ms; the median
		// page 640 ms is 12.673 of RTT(d), the fastest 620 ms 12.277.
		"| 50.000 | 50.500 | 50.500 | np (non-persistent) | 12.000 | 606.0 | 640.0 | 3 | 12.673 | 12.277 | 606.0 … 769.5 | yes |",
		"| 0 | 0.5000 | 0.5000 | mux (multiplexed) | 2.000 | 1.000 | 4.000 | 3 | 8.000 | 6.000 | 1.000 … 13.250 | yes |",
		"![Pages in round trips](http-rtt-rtts.png)")
	charttest.DecodePNG(t, filepath.Join(dir, "http-rtt-rtts.png"))
	svg := readOut(t, dir, "http-rtt-rtts.svg")
	svgHas(t, "the round-trip plot", svg, "delay set on the server", "(ms)", "round trips, log scale",
		"theory: non-persistent: 2K·RTT, K = 6 = 12 RTT", "theory: multiplexed: 2·RTT, K = 6 = 2 RTT", "median page at d", "fastest page at d")
	// The sweep's plot has a theory per workload, each in its colour,
	// named in the legend.
	main := readOut(t, dir, "http-rtt.svg")
	svgHas(t, "the sweep's plot", main, "theory: non-persistent: 2K·RTT, K = 6", "theory: multiplexed: 2·RTT, K = 6")
}

// Without a connect time at d = 0 the round trips are unknown: the
// section says so and draws nothing.
func TestAll_PageSectionWithoutBaseRTT(t *testing.T) {
	dir := specDir(t, pageSpec)
	r, rows := pageRun()
	var kept []result.Row
	for _, row := range rows {
		if row.Metric != pagetime.MetricConnect {
			kept = append(kept, row)
		}
	}
	if _, err := render.All(dir, r, kept); err != nil {
		t.Fatal(err)
	}
	table := readOut(t, dir, render.TableFile)
	if !strings.Contains(string(table), "No TCP connect time was measured at delay 0") {
		t.Errorf("table.md:\n%s", table)
	}
	if _, err := os.Stat(filepath.Join(dir, "http-rtt-rtts.png")); err == nil {
		t.Error("a round-trip plot without round trips")
	}
}
