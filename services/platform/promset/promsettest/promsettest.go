// Package promsettest reads metric values back from a registry in tests.
package promsettest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Value is the sum of the samples of the metric called name (its full
// name, such as netlab_tcp_echo_connections_active) whose first label
// values are labels, in the order of the label names (sorted, as gathered).
// With no labels it sums every sample. It reads counters, gauges and
// untyped metrics, and fails the test when g has no metric called name.
func Value(tb testing.TB, g prometheus.Gatherer, name string, labels ...string) float64 {
	tb.Helper()
	families, err := g.Gather()
	if err != nil {
		tb.Fatalf("gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		var sum float64
		for _, m := range f.GetMetric() {
			pairs := m.GetLabel()
			if len(pairs) < len(labels) {
				continue
			}
			match := true
			for i, v := range labels {
				match = match && pairs[i].GetValue() == v
			}
			if match {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetUntyped().GetValue()
			}
		}
		return sum
	}
	tb.Fatalf("no metric %s", name)
	return 0
}
