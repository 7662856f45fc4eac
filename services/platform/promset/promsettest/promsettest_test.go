package promsettest_test

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/netlab/netlab/services/platform/promset"
	"github.com/netlab/netlab/services/platform/promset/promsettest"
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

// panicking fails by panicking with the message, so a test can catch it.
type panicking struct{ testing.TB }

func (panicking) Helper() {}
func (panicking) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

// A name that is not gathered (a typo, or a vector without children yet)
// fails the test instead of reading as zero.
func TestValue_FailsOnAnUnknownName(t *testing.T) {
	t.Parallel()
	defer func() {
		if msg := recover(); msg != "no metric netlab_svc_nope" {
			t.Errorf("failure %v, want it to name the metric", msg)
		}
	}()
	promsettest.Value(panicking{t}, prometheus.NewRegistry(), "netlab_svc_nope")
}
