package soak

import (
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/internal/prom"
)

func TestRSSLimit(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name       string
		base, peak int64
		want       int64
	}{
		{"small growth: the absolute slack", 11 * mib, 20 * mib, 43 * mib},
		{"large growth: a quarter of it", 11 * mib, 411 * mib, 111 * mib},
		{"no growth", 11 * mib, 11 * mib, 43 * mib},
	}
	for _, tt := range tests {
		if got := rssLimit(tt.base, tt.peak); got != tt.want {
			t.Errorf("%s: rssLimit = %d MiB, want %d MiB", tt.name, got/mib, tt.want/mib)
		}
	}
}

func TestSettleChecks(t *testing.T) {
	base := Snapshot{Goroutines: 12, FDs: 12}
	snap := func(g, fds int, active float64) Snapshot {
		return Snapshot{Goroutines: g, FDs: fds, Metrics: prom.Metrics{{Name: "netlab_tcp_echo_connections_active", Value: active}}}
	}
	tests := []struct {
		name   string
		after  Snapshot
		failed string // the check that must fail; "" for none
	}{
		{"back at baseline", snap(12, 12, 0), ""},
		{"within the slack (a scrape in flight)", snap(14, 13, 0), ""},
		{"goroutines leaked", snap(18, 12, 0), "goroutines"},
		{"files leaked", snap(12, 40, 0), "open fds"},
		{"connection still counted", snap(12, 12, 1), "connections_active"},
	}
	for _, tt := range tests {
		var failed []string
		for _, c := range settleChecks(base, tt.after) {
			if !c.OK {
				failed = append(failed, c.Name)
			}
		}
		switch {
		case tt.failed == "" && len(failed) > 0:
			t.Errorf("%s: failed %v", tt.name, failed)
		case tt.failed != "" && (len(failed) != 1 || !strings.Contains(failed[0], tt.failed)):
			t.Errorf("%s: failed %v, want only %q", tt.name, failed, tt.failed)
		}
	}
}
