package runner

import (
	"context"
	"slices"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
	"github.com/netlab/netlab/lab/internal/prom"
	"github.com/netlab/netlab/services/platform/clientcli"
)

// record adds a workload's repetition to the series: its figure (the
// summary row result.json is computed from), its other figures, and
// every interval of its saved run.
func (r *run) record(st step, v float64, workload string, began float64, f Figure, rec clientcli.Record) {
	end := time.Since(r.t0).Seconds()
	src := "workload:" + workload
	rows := []result.Row{result.SummaryRow(st.point, v, st.rep, workload, end, f.Metric, f.Value)}
	for _, k := range sortedKeys(f.Extra) {
		rows = append(rows, result.SummaryRow(st.point, v, st.rep, workload, end, k, f.Extra[k]))
	}
	for _, iv := range rec.Intervals {
		t := began + iv.EndSeconds
		add := func(metric string, x float64) {
			rows = append(rows, result.Row{Point: st.point, Value: v, Rep: st.rep, Source: src, T: t, Metric: metric, V: x})
		}
		add("ops_per_second", iv.OpsPerSecond)
		add("bits_per_second", iv.BitsPerSecond)
		add("lost", float64(iv.Lost))
		add("errors", float64(iv.Errors))
		add("latency_p50_ns", float64(iv.Latency.P50Ns))
		add("latency_p99_ns", float64(iv.Latency.P99Ns))
		if iv.TCP != nil {
			add("tcp_retransmits", float64(iv.TCP.Retransmits))
		}
	}
	r.mu.Lock()
	r.rows = append(r.rows, rows...)
	r.mu.Unlock()
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
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
