package tests_test

// netlab exp partition-heal, quick form: the checks on top of every
// experiment's (exp_test.go).

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// seriesRow is one row of series.csv.
type seriesRow struct {
	rep            int
	source, metric string
	t, v           float64
}

func readSeries(t *testing.T, path string) []seriesRow {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []seriesRow
	for _, r := range recs[1:] {
		rep, err1 := strconv.Atoi(r[2])
		ts, err2 := strconv.ParseFloat(r[4], 64)
		v, err3 := strconv.ParseFloat(r[6], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("series.csv row %v", r)
		}
		out = append(out, seriesRow{rep: rep, source: r[3], metric: r[5], t: ts, v: v})
	}
	return out
}

// swarmNode is one downloader's polls: time, bytes held, from across.
type swarmNode struct {
	cut, verified bool
	ts, bytes     []float64
	across        []float64
}

// checkPartitionHeal: nothing crossed the cut while it held and the cut
// nodes stalled; after the heal they made progress within the bound and
// completed no sooner than the swarm's upload capacity allows; every
// download reads back as the seeded file; no partition rule was left;
// the table and the time line agree with the series.
func checkPartitionHeal(t *testing.T, res expResult, dir string) {
	t.Helper()
	figure := map[string]float64{}
	for _, m := range res.Points[0].Measures {
		figure[m.Metric] = m.Reps[0]
		switch m.Metric {
		case "recovery_s", "across_during_partition_bytes", "partition_rules_left":
			if m.Within == nil || !*m.Within {
				t.Errorf("%s = %v: result.json says it is outside its band (%v)", m.Metric, m.Reps[0], m.Within)
			}
		}
	}
	if figure["across_during_partition_bytes"] != 0 || figure["partition_rules_left"] != 0 {
		t.Errorf("across the cut while it held %v bytes, partition rules left %v: want 0 and 0", figure["across_during_partition_bytes"], figure["partition_rules_left"])
	}
	ev := map[string]float64{}
	nodes := map[string]*swarmNode{}
	for _, r := range readSeries(t, filepath.Join(dir, "series.csv")) {
		switch {
		case r.source == "workload:swarm":
			ev[r.metric] = r.v
		case strings.HasPrefix(r.source, "workload:swarm/"):
			label := strings.TrimPrefix(r.source, "workload:swarm/")
			if nodes[label] == nil {
				nodes[label] = &swarmNode{}
			}
			n := nodes[label]
			switch r.metric {
			case "bytes_done":
				n.ts, n.bytes = append(n.ts, r.t), append(n.bytes, r.v)
			case "across_bytes":
				n.across = append(n.across, r.v)
			case "cut":
				n.cut = r.v == 1
			case "verified":
				n.verified = r.v == 1
			}
		}
	}
	if len(nodes) != 4 || ev["heal_s"] <= ev["partition_s"] {
		t.Fatalf("series: %d downloaders, partition at %v, heal at %v", len(nodes), ev["partition_s"], ev["heal_s"])
	}
	worst := 0.0
	for label, n := range nodes {
		if !n.verified || n.bytes[len(n.bytes)-1] != ev["file_bytes"] {
			t.Errorf("%s: verified %v, %v of %v bytes", label, n.verified, n.bytes[len(n.bytes)-1], ev["file_bytes"])
		}
		if !n.cut {
			continue
		}
		worst = math.Max(worst, checkCutNode(t, label, n, ev))
	}
	// No faster than every node's cap lets the rest through.
	if figure["complete_after_heal_s"] < ev["complete_bound_s"] {
		t.Errorf("complete %.1f s after the heal, under its least %.1f s", figure["complete_after_heal_s"], ev["complete_bound_s"])
	}
	// The figure is the series' worst recovery, within its bound.
	if math.Abs(worst-figure["recovery_s"]) > 1e-3 || worst > ev["recovery_bound_s"] {
		t.Errorf("recovery from the series %.3f s, result.json %.3f s, bound %.1f s", worst, figure["recovery_s"], ev["recovery_bound_s"])
	}
	t.Logf("recovery %.1f s (bound %.1f s), complete %.1f s after the heal", worst, ev["recovery_bound_s"], figure["complete_after_heal_s"])
	checkTimeline(t, dir)
}

// checkCutNode checks one cut node's polls against the timeline and
// returns its recovery: from the heal of the first node across the cut
// to the first poll that saw the download progress again.
func checkCutNode(t *testing.T, label string, n *swarmNode, ev map[string]float64) float64 {
	t.Helper()
	grace := 1.0 // the quick spec polls every 0.5 s: a second of grace
	var acrossAtCut, acrossAtHeal, bytesAtHeal, lastRise float64
	resume := math.NaN()
	for i, ts := range n.ts {
		switch {
		case ts <= ev["partition_s"]+grace:
			acrossAtCut, acrossAtHeal, bytesAtHeal = n.across[i], n.across[i], n.bytes[i]
		case ts <= ev["heal_begin_s"]:
			acrossAtHeal, bytesAtHeal = n.across[i], n.bytes[i]
			if n.bytes[i] > n.bytes[i-1] {
				lastRise = ts
			}
		case math.IsNaN(resume) && n.bytes[i] > bytesAtHeal:
			resume = math.Max(0, ts-ev["heal_s"])
		}
	}
	if acrossAtHeal != acrossAtCut {
		t.Errorf("%s: %v bytes from across the cut while it held, want 0", label, acrossAtHeal-acrossAtCut)
	}
	// The seed had sent less than the file by the cut: the cut nodes
	// trade what they hold, then stall until the heal.
	if stalled := ev["heal_begin_s"] - math.Max(lastRise, ev["partition_s"]); stalled < 1 {
		t.Errorf("%s: stalled %.1f s before the heal, want a stall of a second or more", label, stalled)
	}
	if math.IsNaN(resume) {
		t.Errorf("%s: no progress after the heal", label)
	}
	return resume
}

// checkTimeline: table.md shows the time line, a PNG, and its SVG marks
// the partition and the heal.
func checkTimeline(t *testing.T, dir string) {
	t.Helper()
	table := readOutput(t, dir, "table.md")
	var plots []string
	sc := bufio.NewScanner(bytes.NewReader(table))
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "![") && strings.HasSuffix(l, ".png)") {
			plots = append(plots, strings.TrimSuffix(l[strings.Index(l, "](")+2:], ".png)"))
		}
	}
	if len(plots) != 1 || !bytes.Contains(table, []byte("| peer-2 | cut off |")) {
		t.Fatalf("table.md: plots %v, want one time line and the recovery table:\n%s", plots, table)
	}
	expectPNG(t, dir, plots[0]+".png")
	svg := readOutput(t, dir, plots[0]+".svg")
	for _, want := range []string{"partition in place", "healed", "recovery bound", "time since the downloads started (s)"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("%s.svg lacks %q", plots[0], want)
		}
	}
}
