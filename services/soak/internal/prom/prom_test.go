package prom_test

import (
	"strings"
	"testing"

	"github.com/netlab/netlab/services/soak/internal/prom"
)

const scrape = `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 12
process_resident_memory_bytes 1.1534336e+07
netlab_udp_responder_dropped_total{reason="rate_limited"} 581244
netlab_udp_responder_dropped_total{reason="loop"} 3
netlab_peer_bytes_uploaded_total{peer="127.0.0.1:4001"} 1048576
netlab_peer_bytes_uploaded_total{peer="127.0.0.1:4002",note="a \"quoted\", {braced} value"} 2048 1700000000000
not a metric line
`

func TestParse_SumsSeriesByNameAndLabels(t *testing.T) {
	m, err := prom.Parse(strings.NewReader(scrape))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		match []string
		want  float64
	}{
		{"go_goroutines", nil, 12},
		{"process_resident_memory_bytes", nil, 11534336},
		{"netlab_udp_responder_dropped_total", nil, 581247},
		{"netlab_udp_responder_dropped_total", []string{"reason", "rate_limited"}, 581244},
		{"netlab_udp_responder_dropped_total", []string{"reason", "own_port"}, 0},
		{"netlab_peer_bytes_uploaded_total", nil, 1048576 + 2048},
		{"netlab_peer_bytes_uploaded_total", []string{"note", `a "quoted", {braced} value`}, 2048},
		{"missing", nil, 0},
	}
	for _, tt := range tests {
		if got := m.Sum(tt.name, tt.match...); got != tt.want {
			t.Errorf("Sum(%s, %v) = %v, want %v", tt.name, tt.match, got, tt.want)
		}
	}
}
