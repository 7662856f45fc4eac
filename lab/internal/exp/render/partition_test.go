package render_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/chartfile/charttest"
	"github.com/netlab/netlab/lab/internal/exp/recovery"
	"github.com/netlab/netlab/lab/internal/exp/render"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
)

// swarmSeries is one repetition of a partition-heal workload "swarm":
// peer-2 and peer-3 cut off from 10 to 20 s (a node across healed at
// 21 s, the other at 22 s), peer-4 with the sources; polled every 0.5 s.
func swarmSeries() []result.Row {
	src := "workload:swarm"
	ev := func(m string, v float64) result.Row { return result.Row{Source: src, T: v, Metric: m, V: v} }
	rows := []result.Row{ev(recovery.EventStart, 1), ev(recovery.EventPartitionBegin, 10), ev(recovery.EventPartition, 11),
		ev(recovery.EventHealBegin, 21), ev(recovery.EventHeal, 22), ev(recovery.EventHealEnd, 23), ev(recovery.EventBound, 13.5), ev(recovery.EventBoundFailures, 3),
		ev(recovery.EventBoundBackoff, 8), ev(recovery.EventBoundPiece, 2), ev(recovery.EventFileBytes, 3000), ev(recovery.EventCompleteBound, 7.5)}
	// resume: when each cut node gets bytes from across again.
	for _, n := range []struct {
		label  string
		cut    bool
		resume float64
	}{{"peer-2", true, 23.5}, {"peer-3", true, 26}, {"peer-4", false, 0}} {
		s := src + "/" + n.label
		var b, a float64
		for i := 2; i <= 70; i++ {
			t := float64(i) / 2
			up := t <= 11.5 || !n.cut || t >= n.resume
			if up && b < 3000 {
				b += 50
				if n.cut || t <= 11.5 { // peer-4 gets nothing from the cut nodes
					a += 50
				}
			}
			rows = append(rows, result.Row{Source: s, T: t, Metric: recovery.NodeBytes, V: b},
				result.Row{Source: s, T: t, Metric: recovery.NodeAcross, V: a})
		}
		done := map[bool]float64{true: n.resume + 12, false: 31}[n.cut]
		rows = append(rows, result.Row{Source: s, T: 40, Metric: recovery.NodeCut, V: map[bool]float64{true: 1}[n.cut]},
			result.Row{Source: s, T: done, Metric: recovery.NodeComplete, V: done}, result.Row{Source: s, T: 40, Metric: recovery.NodeVerified, V: 1})
	}
	return rows
}

func swarmResult() *result.Result {
	bound, zero := 13.5, 0.0
	r := &result.Result{Schema: result.Schema, Name: "partition-heal", Title: "Cut off and healed", Parameter: spec.Single, Seed: 3,
		Started: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC), Finished: time.Date(2026, 12, 7, 10, 1, 0, 0, time.UTC),
		Points: []result.Point{{Value: 0, Measures: []result.Measure{
			{Workload: "swarm", Client: spec.PartitionHeal, Metric: recovery.MetricRecovery, Unit: "s", Reps: []float64{4},
				Theory: &bound, BandLow: &zero, BandHigh: &bound},
			{Workload: "swarm", Client: spec.PartitionHeal, Metric: recovery.MetricAcrossDuring, Unit: "bytes", Reps: []float64{0},
				Theory: &zero, BandLow: &zero, BandHigh: &zero},
		}}}}
	r.Analyze()
	return r
}

// swarmSpec is the run's spec.yaml: the seeds' cap is read from it.
const swarmSpec = `name: partition-heal
title: Cut off and healed
services:
  - name: peer
    replicas: 4
    env:
      UPLOAD_RATE: "262144"
      PIECE_SIZE: 64KiB
      REFRESH_INTERVAL: 1s
      DIAL_TIMEOUT: 1s
      IO_TIMEOUT: 3s
sweep:
  parameter: none
  values: [0]
workloads:
  - name: swarm
    client: partition-heal
    bytes: 4194304
    seeds: 1
    cut: 2
    partition_at: 3s
    heal_at: 9s
    seconds: 60
repetitions: 1
interval: 500ms
quick:
  repetitions: 1
  scale: 1
`

func TestPartitionSection_TableAndTimeline(t *testing.T) {
	dir := specDir(t, swarmSpec)
	files, err := render.All(dir, swarmResult(), swarmSeries())
	if err != nil {
		t.Fatal(err)
	}
	// No sweep: no main plot, the time line instead.
	if _, err := os.Stat(filepath.Join(dir, "partition-heal.png")); err == nil {
		t.Error("a spec without a sweep got the sweep's plot")
	}
	table := readOut(t, dir, render.TableFile)
	golden(t, "partition.md", table)
	if img := charttest.DecodePNG(t, filepath.Join(dir, "partition-heal-swarm-timeline-1.png")); img.Bounds().Dx() != 960 || img.Bounds().Dy() != 576 {
		t.Fatalf("time line PNG is %v, want 960×576 (wrote %v)", img.Bounds(), files)
	}
	svg := readOut(t, dir, "partition-heal-swarm-timeline-1.svg")
	svgHas(t, "the time line's SVG", svg, "time since the downloads started (s)", "download throughput (Mbit/s", "partition in place (+10.0 s)",
		"healed: a first node across (+21.0 s)", "recovery bound: heal + 13.5 s", "peer-2 (cut off)", "peer-2: from across the cut", "peer-4 (with the sources)",
		"theory: the seeds&#39; upload cap (2.10 Mbit/s)")
	if bytes.Contains(svg, []byte("peer-4: from across")) {
		t.Error("a node with the sources has a from-across line")
	}
	html, err := os.ReadFile(filepath.Join(dir, render.ReportFile))
	if err != nil || !strings.Contains(string(html), "Partition and heal: swarm") || strings.Count(string(html), "data:image/png;base64,") != 1 {
		t.Errorf("report.html: want the section with its time line inline (%v)", err)
	}
}

func TestPartitionSection_SeriesWithoutHealIsAnError(t *testing.T) {
	var rows []result.Row
	for _, r := range swarmSeries() {
		if r.Metric != recovery.EventHeal {
			rows = append(rows, r)
		}
	}
	dir := specDir(t, "name: x\n")
	if _, err := render.All(dir, swarmResult(), rows); err == nil || !strings.Contains(err.Error(), "no heal") {
		t.Errorf("error %v, want one about the missing heal", err)
	}
}
