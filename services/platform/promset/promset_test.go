package promset_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/netlab/netlab/services/platform/promset"
)

func TestSet_RegistersWhatItMakes(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	s := promset.New(reg, "svc")
	s.Counter("requests_total", "Requests.").Add(2)
	s.CounterVec("dropped_total", "Dropped, by reason.", "reason").WithLabelValues("late").Inc()
	s.CounterFunc("evictions_total", "Evictions.", func() float64 { return 7 })
	s.Gauge("active", "Active now.").Set(3)
	s.GaugeVec("in_flight", "In flight, by route.", "route").WithLabelValues("/").Set(1)
	s.GaugeFunc("sources", "Sources.", func() float64 { return 5 })
	s.HistogramVec("duration_seconds", "Durations, by route.", []float64{.1, 1}, "route").WithLabelValues("/").Observe(.5)
	if err := s.Err(); err != nil {
		t.Fatalf("Err = %v", err)
	}

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
		if f.GetHelp() == "" {
			t.Errorf("%s has no help", f.GetName())
		}
	}
	want := []string{
		"netlab_svc_active", "netlab_svc_dropped_total", "netlab_svc_duration_seconds", "netlab_svc_evictions_total",
		"netlab_svc_in_flight", "netlab_svc_requests_total", "netlab_svc_sources",
	}
	if !slices.Equal(names, want) {
		t.Errorf("registered %v, want %v", names, want)
	}
	if got := testutil.ToFloat64(s.Counter("other_total", "Other.")); got != 0 {
		t.Errorf("a new counter = %v", got)
	}
}

func TestSet_ErrKeepsTheFirstRegistrationError(t *testing.T) {
	t.Parallel()
	s := promset.New(prometheus.NewRegistry(), "svc")
	s.Counter("requests_total", "Requests.")
	s.Gauge("requests_total", "The same name again.")
	s.Counter("bad name", "Not a metric name.")
	if err := s.Err(); err == nil || !strings.Contains(err.Error(), "requests_total") {
		t.Errorf("Err = %v, want the duplicate requests_total", err)
	}
}
