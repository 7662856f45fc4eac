// Package scrape reads a service's /metrics answer (the Prometheus text
// format) into flat samples, each with the type of its family, using the
// parser of the library the services write it with (prometheus/common's
// expfmt).
package scrape

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Types of a family, as the text format's TYPE line names them.
const (
	Counter   = "counter"
	Gauge     = "gauge"
	Summary   = "summary"
	Histogram = "histogram"
	Untyped   = "untyped"
)

// Family is one metric family's description.
type Family struct {
	Name string
	Help string
	Type string
}

// Sample is one series and its value, as a line of the text format shows
// it: a histogram's _bucket, _sum and _count series and a summary's
// quantiles, _sum and _count are samples of their own.
type Sample struct {
	Family string // the family's name
	Name   string // the series' name: the family's, or with _bucket, _sum, _count
	// Labels are the series' labels in the text format's own form, sorted
	// by name: `code="200",route="/"`; "" for none. A bucket's le and a
	// quantile's quantile are among them.
	Labels string
	Value  float64
	// Cumulative is true for counters and for the series of histograms
	// and summaries that only grow (buckets, _sum, _count).
	Cumulative bool
}

// Result is one scrape.
type Result struct {
	Families map[string]Family
	Samples  []Sample
}

// Parse reads the text format from r, at most limit bytes of it.
func Parse(r io.Reader, limit int64) (Result, error) {
	lr := &io.LimitedReader{R: r, N: limit + 1}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(lr)
	if lr.N <= 0 {
		return Result{}, fmt.Errorf("metrics: answer over %d bytes", limit)
	}
	if err != nil {
		return Result{}, fmt.Errorf("metrics: %w", err)
	}
	res := Result{Families: make(map[string]Family, len(families))}
	for _, name := range slices.Sorted(maps.Keys(families)) {
		mf := families[name]
		f := Family{Name: name, Help: mf.GetHelp(), Type: strings.ToLower(mf.GetType().String())}
		res.Families[name] = f
		for _, m := range mf.GetMetric() {
			res.Samples = appendSamples(res.Samples, f, m)
		}
	}
	return res, nil
}

// appendSamples appends the series of one metric of family f.
func appendSamples(out []Sample, f Family, m *dto.Metric) []Sample {
	base := m.GetLabel()
	add := func(name string, v float64, cumulative bool, extra ...string) {
		out = append(out, Sample{Family: f.Name, Name: name, Labels: labelString(base, extra...), Value: v, Cumulative: cumulative})
	}
	switch f.Type {
	case Counter:
		add(f.Name, m.GetCounter().GetValue(), true)
	case Gauge:
		add(f.Name, m.GetGauge().GetValue(), false)
	case Untyped:
		add(f.Name, m.GetUntyped().GetValue(), false)
	case Summary:
		s := m.GetSummary()
		for _, q := range s.GetQuantile() {
			add(f.Name, q.GetValue(), false, "quantile", formatFloat(q.GetQuantile()))
		}
		add(f.Name+"_sum", s.GetSampleSum(), true)
		add(f.Name+"_count", float64(s.GetSampleCount()), true)
	case Histogram:
		h := m.GetHistogram()
		sawInf := false
		for _, b := range h.GetBucket() {
			sawInf = sawInf || math.IsInf(b.GetUpperBound(), 1)
			add(f.Name+"_bucket", float64(b.GetCumulativeCount()), true, "le", formatFloat(b.GetUpperBound()))
		}
		if !sawInf {
			// The text format always has +Inf; a parsed histogram may keep it
			// implicit as the count.
			add(f.Name+"_bucket", float64(h.GetSampleCount()), true, "le", "+Inf")
		}
		add(f.Name+"_sum", h.GetSampleSum(), true)
		add(f.Name+"_count", float64(h.GetSampleCount()), true)
	}
	return out
}

// labelString writes labels (and extra name, value pairs) sorted by name.
func labelString(labels []*dto.LabelPair, extra ...string) string {
	pairs := make([][2]string, 0, len(labels)+len(extra)/2)
	for _, l := range labels {
		pairs = append(pairs, [2]string{l.GetName(), l.GetValue()})
	}
	for i := 0; i+1 < len(extra); i += 2 {
		pairs = append(pairs, [2]string{extra[i], extra[i+1]})
	}
	slices.SortFunc(pairs, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p[0])
		b.WriteByte('=')
		b.WriteString(strconv.Quote(p[1]))
	}
	return b.String()
}

// formatFloat writes a bound or quantile as the text format does.
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// Labels parses a label string back into name, value pairs in order.
func Labels(s string) [][2]string {
	var out [][2]string
	for s != "" {
		name, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			break
		}
		v, _ := strconv.Unquote(q)
		out = append(out, [2]string{name, v})
		s = strings.TrimPrefix(rest[len(q):], ",")
	}
	return out
}

// Label returns the value of label name in a label string, "" if absent.
func Label(s, name string) string {
	for _, p := range Labels(s) {
		if p[0] == name {
			return p[1]
		}
	}
	return ""
}

// Without returns a label string without the labels named.
func Without(s string, names ...string) string {
	var b strings.Builder
	for _, p := range Labels(s) {
		if slices.Contains(names, p[0]) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p[0])
		b.WriteByte('=')
		b.WriteString(strconv.Quote(p[1]))
	}
	return b.String()
}
