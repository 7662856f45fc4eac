package tests_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkKuroseRoss: at N = 1 and 3 (the quick form), both arms' last
// node against the book's bound for F = 16 MiB, us = 20 MiB/s, u = 2 MiB/s:
// D_cs = N × 0.8 s, D_P2P ≥ max(0.8 s, 8N/(10 + N) s); every repetition
// within 25 % of it, the median node no later than the last, and the
// book's figure and the per-point diagnosis written.
func checkKuroseRoss(t *testing.T, res expResult, dir string) {
	t.Helper()
	bounds := map[string]func(n float64) float64{
		"client-server": func(n float64) float64 { return 0.8 * n },
		"peer-to-peer":  func(n float64) float64 { return math.Max(0.8, 8*n/(10+n)) },
	}
	if len(res.Points) != 2 {
		t.Fatalf("%d points, want the quick form's 2 (N = 1, 3)", len(res.Points))
	}
	for _, p := range res.Points {
		last := map[string]float64{}
		for _, m := range p.Measures {
			bound, ok := bounds[m.Workload]
			if !ok {
				t.Errorf("N = %v: a measure of workload %q", p.Value, m.Workload)
				continue
			}
			switch m.Metric {
			case "distribution_s":
				last[m.Workload] = m.Summary.Mean
				if m.Theory == nil || math.Abs(*m.Theory-bound(p.Value)) > 1e-9 || m.Within == nil {
					t.Errorf("N = %v, %s: theory %v, want %v s, with a band", p.Value, m.Workload, m.Theory, bound(p.Value))
					continue
				}
				t.Logf("N = %v, %s: last node %v s, bound %v s, band %v … %v", p.Value, m.Workload, m.Reps, *m.Theory, *m.BandLow, *m.BandHigh)
				if !*m.Within {
					t.Errorf("N = %v, %s: last node %v s, not within 25 %% of the bound %v s", p.Value, m.Workload, m.Reps, *m.Theory)
				}
			case "distribution_median_s":
				if m.Summary.Mean <= 0 {
					t.Errorf("N = %v, %s: median node %v s", p.Value, m.Workload, m.Summary.Mean)
				}
				if l, ok := last[m.Workload]; ok && m.Summary.Mean > l {
					t.Errorf("N = %v, %s: median node %v s after the last %v s", p.Value, m.Workload, m.Summary.Mean, l)
				}
			}
		}
		if len(last) != 2 {
			t.Errorf("N = %v: the last node of %d arms, want both", p.Value, len(last))
		}
	}
	table, err := os.ReadFile(filepath.Join(dir, "table.md"))
	if err != nil || !strings.Contains(string(table), "## Distribution time against the bounds, per point") ||
		!strings.Contains(string(table), "](kurose-ross-book.png)") {
		t.Errorf("table.md lacks the per-point diagnosis with the book's figure (%v)", err)
	}
	expectPNG(t, dir, "kurose-ross-book.png")
}
