package pagetime_test

import (
	"math"
	"testing"

	"github.com/netlab/netlab/lab/internal/exp/pagetime"
	"github.com/netlab/netlab/lab/internal/exp/result"
)

// The counts of Kurose and Ross: one object without a persistent
// connection is 2 RTT (§2.2.2: the handshake, then the request); a base
// file and eight very small objects (a chapter 2 problem, transmission
// neglected) are 18 RTT non-persistent and serial, 10 RTT persistent
// without pipelining; multiplexed, all requests share one round trip
// after the handshake whatever K is.
func TestRTTs_TextbookCounts(t *testing.T) {
	for _, c := range []struct {
		conn string
		k    int
		want float64
	}{
		{pagetime.NonPersistent, 1, 2},
		{pagetime.NonPersistent, 9, 18},
		{pagetime.Persistent, 9, 10},
		{pagetime.Persistent, 1, 2},
		{pagetime.Multiplexed, 9, 2},
		{pagetime.Multiplexed, 100, 2},
		{"pipelined", 9, 0},
	} {
		if got := pagetime.RTTs(c.conn, c.k); got != c.want {
			t.Errorf("RTTs(%s, %d) = %v, want %v", c.conn, c.k, got, c.want)
		}
	}
}

func TestModel_RTTTransmissionAndPage(t *testing.T) {
	egress := pagetime.Model{Base: 0.2, Ways: 1}
	both := pagetime.Model{Base: 0.2, Ways: 2}
	if got := egress.RTT(50); math.Abs(got-50.2) > 1e-9 {
		t.Errorf("RTT(50) delayed one way = %v, want 50.2", got)
	}
	if got := both.RTT(50); math.Abs(got-100.2) > 1e-9 {
		t.Errorf("RTT(50) delayed both ways = %v, want 100.2", got)
	}
	// Ten objects of 1250 bytes at 10 Mbit/s: 100 kbit, 10 ms.
	capped := pagetime.Model{Ways: 1, RateMbit: 10}
	if got := capped.Transmission(10, 1250); math.Abs(got-10) > 1e-9 {
		t.Errorf("transmission = %v ms, want 10", got)
	}
	if got := egress.Transmission(10, 1250); got != 0 {
		t.Errorf("transmission without a cap = %v, want 0", got)
	}
	// Persistent, K = 10 at 50 ms: 11 round trips, plus 10 ms to send.
	if got := capped.Page(pagetime.Persistent, 10, 1250, 50); math.Abs(got-560) > 1e-9 {
		t.Errorf("page = %v ms, want 11 × 50 + 10 = 560", got)
	}
	// One object non-persistent: 2 RTT + its transmission (§2.2.2).
	if got := capped.Page(pagetime.NonPersistent, 1, 1250, 20); math.Abs(got-41) > 1e-9 {
		t.Errorf("one object = %v ms, want 2 × 20 + 1 = 41", got)
	}
}

func TestBand(t *testing.T) {
	lo, hi := pagetime.Band(100, 10)
	if lo != 100 || hi != pagetime.Slope*100+pagetime.PerObject*10 {
		t.Errorf("Band(100, 10) = %v … %v", lo, hi)
	}
}

func TestLabel(t *testing.T) {
	if got := pagetime.Label(pagetime.Persistent, 10); got != "persistent: (K+1)·RTT, K = 10" {
		t.Errorf("Label = %q", got)
	}
}

// RTT₀ is the median connect time of the named workloads at delay 0,
// from their summary rows only.
func TestBaseRTT(t *testing.T) {
	row := func(v float64, src, metric string, x float64) result.Row {
		return result.Row{Value: v, Source: src, Metric: metric, V: x}
	}
	rows := []result.Row{
		row(0, "summary:np", pagetime.MetricConnect, 0.3),
		row(0, "summary:p", pagetime.MetricConnect, 0.1),
		row(0, "summary:mux", pagetime.MetricConnect, 0.2),
		row(10, "summary:np", pagetime.MetricConnect, 10.3), // another delay
		row(0, "summary:np", pagetime.MetricPage, 5),        // another metric
		row(0, "summary:other", pagetime.MetricConnect, 9),  // another workload
		row(0, "workload:np", pagetime.MetricConnect, 9),    // not a summary
		row(0, "s", pagetime.MetricConnect, 9),              // a short source
	}
	ms, n, ok := pagetime.BaseRTT(rows, []string{"np", "p", "mux"})
	if !ok || n != 3 || math.Abs(ms-0.2) > 1e-12 {
		t.Errorf("BaseRTT = %v ms over %d (%v), want 0.2 over 3", ms, n, ok)
	}
	if _, _, ok := pagetime.BaseRTT(rows[3:], []string{"np"}); ok {
		t.Error("BaseRTT found one without a connect time at delay 0")
	}
}
