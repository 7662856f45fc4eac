package promsettest_test

import (
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/netlab/netlab/services/platform/promset"
	"github.com/netlab/netlab/services/platform/promset/promsettest"
	"github.com/netlab/netlab/services/platform/tbtest"
)

func TestValue(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	s := promset.New(reg, "svc")
	s.Gauge("active", "Active.").Set(3)
	requests := s.CounterVec("requests_total", "Requests.", "code", "route")
	requests.WithLabelValues("200", "/").Add(2)
	requests.WithLabelValues("200", "/echo").Add(1)
	requests.WithLabelValues("404", "/").Add(5)
	s.CounterVec("dropped_total", "Dropped.", "reason")
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"netlab_svc_active", nil, 3},
		{"netlab_svc_requests_total", nil, 8},
		{"netlab_svc_requests_total", []string{"200"}, 3},
		{"netlab_svc_requests_total", []string{"200", "/echo"}, 1},
		{"netlab_svc_requests_total", []string{"500"}, 0},
		{"netlab_svc_requests_total", []string{"200", "/", "extra"}, 0},
	} {
		if got := promsettest.Value(t, reg, tt.name, tt.labels...); got != tt.want {
			t.Errorf("Value(%s, %q) = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
}

// A name that is not gathered (a typo, or a vector without children yet)
// fails the test instead of reading as zero.
func TestValue_FailsOnAnUnknownName(t *testing.T) {
	t.Parallel()
	msgs := tbtest.Report(t, func(tb testing.TB) { promsettest.Value(tb, prometheus.NewRegistry(), "netlab_svc_nope") })
	if want := []string{"no metric netlab_svc_nope"}; !slices.Equal(msgs, want) {
		t.Errorf("failures %q, want %q: the metric named", msgs, want)
	}
}
