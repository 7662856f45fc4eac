package runner

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
	"github.com/netlab/netlab/lab/internal/prom"
)

// rows are a figure's summary rows: the figure itself (from which
// result.json's repetitions are computed) and its other figures.
func (f Figure) rows(workload string, t float64) []result.Row {
	rows := []result.Row{result.SummaryRow(0, 0, 0, workload, t, f.Metric, f.Value)}
	for _, k := range slices.Sorted(maps.Keys(f.Extra)) {
		rows = append(rows, result.SummaryRow(0, 0, 0, workload, t, k, f.Extra[k]))
	}
	return rows
}

// Measure is the figure as result.json keeps it.
func (f Figure) Measure() result.Figure {
	m := f.Figure
	if m.Unit == "" {
		m.Unit = result.Units[m.Metric]
	}
	return m
}

// scrape reads /metrics of every container each interval until ctx ends,
// adding the sum of each metric the spec names to the series. A scrape
// that fails is skipped: the series shows the gap.
func (r *run) scrape(ctx context.Context, st step, v float64) {
	names := append(slices.Clone(spec.DefaultMetrics), r.s.Metrics...)
	tick := time.NewTicker(r.s.Interval.D())
	defer tick.Stop()
	for {
		for _, c := range r.cs {
			addr, ok := r.admin[c.ID]
			if !ok {
				continue
			}
			m, err := prom.Scrape(ctx, "http://"+addr+"/metrics")
			if err != nil {
				continue
			}
			t := time.Since(r.t0).Seconds()
			var rows []result.Row
			for _, n := range names {
				rows = append(rows, result.Row{Point: st.point, Value: v, Rep: st.rep, Source: c.Label(), T: t, Metric: n, V: m.Sum(n)})
			}
			r.mu.Lock()
			r.rows = append(r.rows, rows...)
			r.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
