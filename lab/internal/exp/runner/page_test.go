package runner

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/pagetime"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
	"github.com/netlab/netlab/lab/internal/stack"
)

func TestPageInvocation_OneWayPerConnection(t *testing.T) {
	w := spec.Workload{Name: "np", Client: spec.HTTPPage, Connection: pagetime.NonPersistent, Objects: 10, Count: 5}
	tail := " --quiet --report-interval 1s --save - --label "
	for _, c := range []struct {
		conn  string
		bytes int
		want  string
	}{
		{pagetime.NonPersistent, 0, "/http-client http://10.0.0.5:8000/ --count 10 --pages 5 --http1 --new-conn" + tail + "np"},
		{pagetime.Persistent, 0, "/http-client http://10.0.0.5:8000/ --count 10 --pages 5 --http1" + tail + "np"},
		{pagetime.Multiplexed, 1000, "/http-client http://10.0.0.5:8000/bytes/1000 --count 10 --pages 5 --h2c --streams 10" + tail + "np"},
	} {
		w.Connection, w.ObjectBytes = c.conn, c.bytes
		inv := PageInvocation(w, "10.0.0.5", time.Second)
		if got := inv.Entrypoint + " " + strings.Join(inv.Args, " "); got != c.want || inv.Service != "http-hello" {
			t.Errorf("%s:\n got %s (%s)\nwant %s", c.conn, got, inv.Service, c.want)
		}
	}
}

func TestServiceIP(t *testing.T) {
	cs := []stack.Container{
		{Service: "tcp-echo", Number: 1, IPs: map[string]string{"n": "10.0.0.2"}},
		{Service: "http-hello", Number: 2, IPs: map[string]string{"n": "10.0.0.4"}},
		{Service: "http-hello", Number: 1, IPs: map[string]string{"n": "10.0.0.3", "other": "10.9.0.3"}},
	}
	if ip, err := serviceIP(cs, "http-hello", "n"); err != nil || ip != "10.0.0.3" {
		t.Errorf("serviceIP = %q, %v; want the first replica's 10.0.0.3", ip, err)
	}
	if _, err := serviceIP(cs, "http-hello", "missing"); err == nil {
		t.Error("an address on a network the container is not on")
	}
}

// pageResult is http-client's paged summary: pages of the given times
// (ms) with k requests on newConns connections each.
func pageResult(k, newConns int, ms ...float64) map[string]any {
	var pages []map[string]any
	for _, m := range ms {
		pages = append(pages, map[string]any{"duration_ns": int64(m * 1e6), "requests": k, "errors": 0, "new_conns": newConns})
	}
	return map[string]any{"requests": k * len(ms), "errors": 0, "bytes": 13 * k * len(ms),
		"connect": map[string]any{"n": newConns * len(ms), "p50_ns": 250_000}, "pages": pages}
}

func TestMeasurePage_MedianOfThePages(t *testing.T) {
	w := spec.Workload{Name: "np", Client: spec.HTTPPage, Connection: pagetime.NonPersistent, Objects: 4, Count: 4}
	f, pages, err := MeasurePage(w, record(t, pageResult(4, 4, 30, 10, 40, 20)))
	if err != nil {
		t.Fatal(err)
	}
	if f.Metric != pagetime.MetricPage || f.Unit != "ms" || f.Value != 25 || f.Samples != 4 || len(pages) != 4 || pages[2] != 40 {
		t.Errorf("figure %+v, pages %v; want the median 25 of 4 pages", f, pages)
	}
	if f.Extra[pagetime.MetricConnect] != 0.25 || f.Extra[pagetime.MetricBytes] != 13 || f.Extra["page_min_ms"] != 10 || f.Extra["page_max_ms"] != 40 {
		t.Errorf("extras %v", f.Extra)
	}
	// Multiplexed, the connect time may be missing (the dial ran outside
	// every request's trace): no connect figure then.
	w.Connection = pagetime.Multiplexed
	r := pageResult(4, 1, 5, 6, 7, 8)
	r["connect"] = map[string]any{"n": 0, "p50_ns": 0}
	f, _, err = MeasurePage(w, record(t, r))
	if _, has := f.Extra[pagetime.MetricConnect]; err != nil || has || f.Value != 6.5 {
		t.Errorf("multiplexed: %+v %v", f, err)
	}
}

func TestMeasurePage_RefusesPagesThatDidNotGoAsTheirConnectionSays(t *testing.T) {
	np := spec.Workload{Name: "np", Client: spec.HTTPPage, Connection: pagetime.NonPersistent, Objects: 4, Count: 2}
	mux := np
	mux.Connection = pagetime.Multiplexed
	failed := pageResult(4, 4, 10, 10)
	failed["errors"], failed["last_error"] = 1, "cannot reach"
	for name, c := range map[string]struct {
		w spec.Workload
		r map[string]any
	}{
		"failed request":               {np, failed},
		"missing page":                 {np, pageResult(4, 4, 10)},
		"non-persistent reusing":       {np, pageResult(4, 1, 10, 10)},
		"multiplexed on several conns": {mux, pageResult(4, 2, 10, 10)},
		"short page":                   {np, pageResult(3, 3, 10, 10)},
	} {
		if f, _, err := MeasurePage(c.w, record(t, c.r)); err == nil {
			t.Errorf("%s: measured %+v", name, f)
		}
	}
}

// Finish: the theory is the count of round trips at RTT(d) = RTT₀ + d,
// RTT₀ the median connect time at delay 0; the band from the theory to
// 1.25 × it plus 2 ms per object.
func TestFinish_TheoryFromTheBaseRTT(t *testing.T) {
	s := &spec.Spec{Impairment: spec.Impairment{Direction: "egress"}, Workloads: []spec.Workload{
		{Name: "np", Client: spec.HTTPPage, Connection: pagetime.NonPersistent, Objects: 10, Count: 3},
		{Name: "mux", Client: spec.HTTPPage, Connection: pagetime.Multiplexed, Objects: 10, Count: 3},
	}}
	res := &result.Result{Parameter: "delay", Points: []result.Point{{Value: 0}, {Value: 50}}}
	for i := range res.Points {
		for _, w := range s.Workloads {
			res.Points[i].Add(w.Name, spec.HTTPPage, result.Figure{Metric: pagetime.MetricPage, Unit: "ms", Value: 1}, 0, 1)
		}
	}
	rows := []result.Row{
		result.SummaryRow(0, 0, 0, "np", 1, pagetime.MetricConnect, 0.2),
		result.SummaryRow(0, 0, 1, "np", 2, pagetime.MetricConnect, 0.4),
		result.SummaryRow(1, 50, 0, "np", 3, pagetime.MetricConnect, 50.2),
	}
	// Through the run's finish, which calls each Finisher client once.
	if err := (&run{s: s, res: res, rows: rows}).finish(); err != nil {
		t.Fatal(err)
	}
	np50, mux50 := res.Points[1].Measures[0], res.Points[1].Measures[1]
	// RTT₀ = 0.3 ms: 20 × 50.3 and 2 × 50.3.
	if np50.Theory == nil || math.Abs(*np50.Theory-1006) > 1e-9 || math.Abs(*mux50.Theory-100.6) > 1e-9 {
		t.Fatalf("theories %v %v, want 1006 and 100.6", np50.Theory, mux50.Theory)
	}
	if *np50.BandLow != 1006 || math.Abs(*np50.BandHigh-(1.25*1006+20)) > 1e-9 || np50.TheoryLabel != "non-persistent: 2K·RTT, K = 10" {
		t.Errorf("band %v … %v, label %q", *np50.BandLow, *np50.BandHigh, np50.TheoryLabel)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "RTT₀ = 0.300 ms") {
		t.Errorf("notes %q", res.Notes)
	}

	bare := &result.Result{Parameter: "delay", Points: []result.Point{{Value: 50}}}
	bare.Points[0].Add("np", spec.HTTPPage, result.Figure{Metric: pagetime.MetricPage, Value: 1}, 0, 1)
	if err := (pageClient{}).Finish(s, bare, rows[2:]); err != nil || bare.Points[0].Measures[0].Theory != nil || len(bare.Notes) != 1 {
		t.Errorf("without a connect time at delay 0: %v, theory %v, notes %q", err, bare.Points[0].Measures[0].Theory, bare.Notes)
	}
}
