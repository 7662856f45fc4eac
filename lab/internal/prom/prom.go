// Package prom reads a server's /metrics in the Prometheus text format
// with the parser of the library the servers write it with
// (prometheus/common's expfmt), and sums series by name and labels.
package prom

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Sample is one series and its value, as a line of the text format shows
// it: a summary's or histogram's _sum, _count and quantile or bucket
// series are samples of their own.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Metrics is one scrape.
type Metrics []Sample

// Sum adds every series called name whose labels include all of match
// (pairs: "reason", "rate_limited"). Missing series sum to 0.
func (m Metrics) Sum(name string, match ...string) float64 {
	var total float64
next:
	for _, s := range m {
		if s.Name != name {
			continue
		}
		for i := 0; i+1 < len(match); i += 2 {
			if s.Labels[match[i]] != match[i+1] {
				continue next
			}
		}
		total += s.Value
	}
	return total
}

// client does not keep connections: a kept-alive scrape connection would
// show up in the server's open files and goroutines, which are measured.
var client = &http.Client{
	Timeout:   5 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true},
}

// Scrape fetches and parses url.
func Scrape(ctx context.Context, url string) (Metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	return Parse(resp.Body)
}

// Parse reads the Prometheus text exposition format. Input it cannot read
// is an error naming the line, not skipped: a series dropped unread would
// sum to 0 and could pass a check it fails.
func Parse(r io.Reader) (Metrics, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	var out Metrics
	for name, f := range families {
		for _, m := range f.GetMetric() {
			out = appendSamples(out, name, f.GetType(), m)
		}
	}
	return out, nil
}

// appendSamples adds the samples of one metric of a family, named as the
// text format names them.
func appendSamples(out Metrics, name string, typ dto.MetricType, m *dto.Metric) Metrics {
	labels := map[string]string{}
	for _, l := range m.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	add := func(suffix string, v float64, extra ...string) {
		ls := labels
		if len(extra) == 2 {
			ls = map[string]string{extra[0]: extra[1]}
			for k, v := range labels {
				ls[k] = v
			}
		}
		out = append(out, Sample{Name: name + suffix, Labels: ls, Value: v})
	}
	switch typ {
	case dto.MetricType_COUNTER:
		add("", m.GetCounter().GetValue())
	case dto.MetricType_GAUGE:
		add("", m.GetGauge().GetValue())
	case dto.MetricType_SUMMARY:
		s := m.GetSummary()
		for _, q := range s.GetQuantile() {
			add("", q.GetValue(), "quantile", formatFloat(q.GetQuantile()))
		}
		add("_sum", s.GetSampleSum())
		add("_count", float64(s.GetSampleCount()))
	case dto.MetricType_HISTOGRAM:
		h := m.GetHistogram()
		for _, b := range h.GetBucket() {
			add("_bucket", float64(b.GetCumulativeCount()), "le", formatFloat(b.GetUpperBound()))
		}
		add("_sum", h.GetSampleSum())
		add("_count", float64(h.GetSampleCount()))
	default:
		add("", m.GetUntyped().GetValue())
	}
	return out
}

// formatFloat writes a quantile or bucket bound as the text format does.
func formatFloat(v float64) string {
	if math.IsInf(v, +1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
