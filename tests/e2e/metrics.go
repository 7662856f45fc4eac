package e2e

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metricWait bounds how long a counter may take to show an event.
const metricWait = 10 * time.Second

// Metrics is one scrape of a service's /metrics: every sample, histogram
// and summary series included, under the names they have in the text
// exposition (foo_total, foo_bucket, foo_sum...).
type Metrics struct {
	t       testing.TB
	addr    string
	samples model.Vector
}

// Scrape reads http://adminAddr/metrics and fails t unless it answers 200
// with a valid Prometheus text exposition.
func Scrape(t testing.TB, adminAddr string) Metrics {
	t.Helper()
	families := scrapeFamilies(t, adminAddr)
	samples, err := expfmt.ExtractSamples(&expfmt.DecodeOptions{}, slices.Collect(maps.Values(families))...)
	if err != nil {
		t.Fatalf("/metrics of %s: %v", adminAddr, err)
	}
	return Metrics{t: t, addr: adminAddr, samples: samples}
}

// scrapeFamilies reads and parses http://adminAddr/metrics.
func scrapeFamilies(t testing.TB, adminAddr string) map[string]*dto.MetricFamily {
	t.Helper()
	code, body, err := HTTPGet(t.Context(), "http://"+adminAddr+"/metrics")
	if err != nil {
		t.Fatalf("scrape %s: %v", adminAddr, err)
	}
	if code != http.StatusOK {
		t.Fatalf("GET http://%s/metrics = %d, want 200", adminAddr, code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics of %s: %v", adminAddr, err)
	}
	return families
}

// Families scrapes http://adminAddr/metrics and returns each metric
// family's type ("counter", "gauge", "histogram"...) by name.
func Families(t testing.TB, adminAddr string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, mf := range scrapeFamilies(t, adminAddr) {
		out[name] = strings.ToLower(mf.GetType().String())
	}
	return out
}

// Sum adds up the samples of metric whose labels include every one of
// labels, each written as in the exposition (`reason="rate_limited"`); with
// no labels every sample of metric counts. It is 0 when no sample matches:
// a labelled counter appears with its first event.
func (m Metrics) Sum(metric string, labels ...string) float64 {
	m.t.Helper()
	sum, _ := m.sum(metric, labels)
	return sum
}

// Value is Sum for a metric that must be there: it fails the test when no
// sample matches, so a renamed metric or label cannot read as a reassuring
// zero.
func (m Metrics) Value(metric string, labels ...string) float64 {
	m.t.Helper()
	sum, found := m.sum(metric, labels)
	if !found {
		m.t.Fatalf("/metrics of %s has no %s%v", m.addr, metric, labels)
	}
	return sum
}

func (m Metrics) sum(metric string, labels []string) (sum float64, found bool) {
	m.t.Helper()
	want := model.LabelSet{}
	for _, l := range labels {
		name, quoted, ok := strings.Cut(l, "=")
		value, err := strconv.Unquote(quoted)
		if !ok || err != nil {
			m.t.Fatalf("label %q: want name=\"value\"", l)
		}
		want[model.LabelName(name)] = model.LabelValue(value)
	}
	for _, s := range m.samples {
		if string(s.Metric[model.MetricNameLabel]) != metric || !hasLabels(s.Metric, want) {
			continue
		}
		sum += float64(s.Value)
		found = true
	}
	return sum, found
}

// hasLabels reports whether every label of want has its value in got.
func hasLabels(got model.Metric, want model.LabelSet) bool {
	for name, value := range want {
		if v, ok := got[name]; !ok || v != value {
			return false
		}
	}
	return true
}

// WaitMetric polls the service's /metrics until Sum(metric, labels...)
// reaches at least want, and returns that sum; it fails t after metricWait.
func WaitMetric(t testing.TB, adminAddr string, want float64, metric string, labels ...string) float64 {
	t.Helper()
	var v float64
	err := Poll(t.Context(), metricWait, 100*time.Millisecond, func() error {
		if v = Scrape(t, adminAddr).Sum(metric, labels...); v < want {
			return fmt.Errorf("%s%v = %v, want >= %v", metric, labels, v, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}
