package compare

import (
	"fmt"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/latency"
)

// Schema names the JSON shape of a comparison (--json).
const Schema = "netlab-compare/1"

// Report is a comparison: the runs, one row per figure with every run's
// value and its difference from the first run (the base), and notes on
// what could not be compared.
type Report struct {
	Schema string    `json:"schema"`
	Runs   []RunInfo `json:"runs"` // Runs[0] is the base
	Rows   []Row     `json:"rows"`
	Notes  []string  `json:"notes"`
	Plots  []string  `json:"plots,omitempty"` // files written by --plot
}

// RunInfo says which run a column is.
type RunInfo struct {
	File      string    `json:"file"`
	Label     string    `json:"label"`
	Client    string    `json:"client"`
	Mode      string    `json:"mode"`
	Target    string    `json:"target"`
	Started   time.Time `json:"started"`
	OpenLoop  bool      `json:"open_loop"`
	Histogram bool      `json:"histogram"` // a latency histogram with values
	Intervals int       `json:"intervals"`
}

// Units of a row.
const (
	UnitNs      = "ns"    // a duration, integer nanoseconds
	UnitCount   = "count" // operations, requests
	UnitPerSec  = "/s"    // a rate
	UnitBitsSec = "bit/s"
)

// Row is one figure of every run. Values[i] is nil where run i has no such
// figure (no latency measured, a closed loop's schedule); Diffs[0] is nil
// (the base), and so is Diffs[i] where Values[0] or Values[i] is.
type Row struct {
	Name   string     `json:"name"`
	Unit   string     `json:"unit"`
	Values []*float64 `json:"values"`
	Diffs  []*Diff    `json:"diffs"`
}

// Diff is a value minus the base's; Pct is that in percent of the base,
// nil when the base is 0.
type Diff struct {
	Abs float64  `json:"abs"`
	Pct *float64 `json:"pct"`
}

// metric is how one row's values come out of a run.
type metric struct {
	name, unit string
	openLoop   bool // a row only when some run is open-loop
	value      func(clientcli.Record) (float64, bool)
}

func summary(f func(clientcli.RecordSummary) float64) func(clientcli.Record) (float64, bool) {
	return func(r clientcli.Record) (float64, bool) { return f(r.Summary), true }
}

func lat(f func(latency.JSON) int64) func(clientcli.Record) (float64, bool) {
	return func(r clientcli.Record) (float64, bool) {
		return float64(f(r.Summary.Latency)), r.Summary.Latency.N > 0
	}
}

func sched(f func(*clientcli.Record) float64) func(clientcli.Record) (float64, bool) {
	return func(r clientcli.Record) (float64, bool) {
		if r.Schedule == nil {
			return 0, false
		}
		return f(&r), true
	}
}

var metrics = []metric{
	{name: "duration", unit: UnitNs, value: summary(func(s clientcli.RecordSummary) float64 { return float64(s.DurationNs) })},
	{name: "ops", unit: UnitCount, value: summary(func(s clientcli.RecordSummary) float64 { return float64(s.Ops) })},
	{name: "ops/s", unit: UnitPerSec, value: summary(func(s clientcli.RecordSummary) float64 { return s.OpsPerSecond })},
	{name: "bit/s", unit: UnitBitsSec, value: summary(func(s clientcli.RecordSummary) float64 { return s.BitsPerSecond })},
	{name: "errors", unit: UnitCount, value: summary(func(s clientcli.RecordSummary) float64 { return float64(s.Errors) })},
	{name: "lost", unit: UnitCount, value: summary(func(s clientcli.RecordSummary) float64 { return float64(s.Lost) })},
	{name: "latency p50", unit: UnitNs, value: lat(func(l latency.JSON) int64 { return l.P50Ns })},
	{name: "latency p90", unit: UnitNs, value: lat(func(l latency.JSON) int64 { return l.P90Ns })},
	{name: "latency p99", unit: UnitNs, value: lat(func(l latency.JSON) int64 { return l.P99Ns })},
	{name: "latency p99.9", unit: UnitNs, value: lat(func(l latency.JSON) int64 { return l.P999Ns })},
	{name: "latency max", unit: UnitNs, value: lat(func(l latency.JSON) int64 { return l.MaxNs })},
	{name: "target rate", unit: UnitPerSec, openLoop: true, value: sched(func(r *clientcli.Record) float64 { return r.Schedule.TargetRate })},
	{name: "achieved rate", unit: UnitPerSec, openLoop: true, value: sched(func(r *clientcli.Record) float64 { return r.Schedule.AchievedRate })},
	{name: "missed", unit: UnitCount, openLoop: true, value: sched(func(r *clientcli.Record) float64 { return float64(r.Schedule.Missed) })},
	{name: "late", unit: UnitCount, openLoop: true, value: sched(func(r *clientcli.Record) float64 { return float64(r.Schedule.Late) })},
}

// NewReport compares runs with runs[0].
func NewReport(runs []Run) *Report {
	rep := &Report{Schema: Schema, Notes: []string{}}
	openLoop := false
	for _, r := range runs {
		rep.Runs = append(rep.Runs, RunInfo{
			File: r.File, Label: r.Label, Client: r.Rec.Client, Mode: r.Rec.Summary.Mode, Target: r.Rec.Summary.Target,
			Started: r.Rec.Started, OpenLoop: r.Rec.Schedule != nil, Histogram: r.Hist != nil, Intervals: len(r.Rec.Intervals),
		})
		openLoop = openLoop || r.Rec.Schedule != nil
	}
	for _, m := range metrics {
		if m.openLoop && !openLoop {
			continue
		}
		row := Row{Name: m.name, Unit: m.unit, Values: make([]*float64, len(runs)), Diffs: make([]*Diff, len(runs))}
		for i, r := range runs {
			if v, ok := m.value(r.Rec); ok {
				row.Values[i] = &v
			}
			if i > 0 {
				row.Diffs[i] = diff(row.Values[0], row.Values[i])
			}
		}
		rep.Rows = append(rep.Rows, row)
	}
	rep.Notes = append(rep.Notes, notes(runs)...)
	return rep
}

func diff(base, v *float64) *Diff {
	if base == nil || v == nil {
		return nil
	}
	d := &Diff{Abs: *v - *base}
	if *base != 0 {
		pct := 100 * d.Abs / *base
		d.Pct = &pct
	}
	return d
}

// notes says what makes a run unlike the base or short of figures.
func notes(runs []Run) []string {
	var out []string
	base := runs[0].Rec
	for _, r := range runs[1:] {
		if r.Rec.Client != base.Client || r.Rec.Summary.Mode != base.Summary.Mode {
			out = append(out, fmt.Sprintf("%s: %s %s, the base is %s %s: unlike runs", r.Label,
				r.Rec.Client, r.Rec.Summary.Mode, base.Client, base.Summary.Mode))
		}
	}
	for _, r := range runs {
		if r.Rec.Summary.Latency.N == 0 {
			out = append(out, r.Label+": no latency measured")
		}
		if r.Rec.Dropped > 0 {
			out = append(out, fmt.Sprintf("%s: the record kept the first %d intervals and dropped %d",
				r.Label, len(r.Rec.Intervals), r.Rec.Dropped))
		}
	}
	return out
}
