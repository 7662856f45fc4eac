package prom_test

import (
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/internal/prom"
)

const scrape = `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 12
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0.5"} 0.0001
go_gc_duration_seconds{quantile="1"} 0.002
go_gc_duration_seconds_sum 0.01
go_gc_duration_seconds_count 7
# TYPE netlab_http_request_seconds histogram
netlab_http_request_seconds_bucket{route="/",le="0.001"} 90
netlab_http_request_seconds_bucket{route="/",le="+Inf"} 100
netlab_http_request_seconds_sum{route="/"} 0.2
netlab_http_request_seconds_count{route="/"} 100
process_resident_memory_bytes 1.1534336e+07
# TYPE netlab_udp_responder_dropped_total counter
netlab_udp_responder_dropped_total{reason="rate_limited"} 581244
netlab_udp_responder_dropped_total{reason="loop"} 3
netlab_peer_bytes_uploaded_total{peer="127.0.0.1:4001"} 1048576
netlab_peer_bytes_uploaded_total{peer="127.0.0.1:4002",note="a \"quoted\", {braced} value"} 2048 1700000000000
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
		{"go_gc_duration_seconds_count", nil, 7},
		{"go_gc_duration_seconds_sum", nil, 0.01},
		{"go_gc_duration_seconds", []string{"quantile", "1"}, 0.002},
		{"netlab_http_request_seconds_bucket", []string{"le", "+Inf"}, 100},
		{"netlab_http_request_seconds_bucket", []string{"route", "/", "le", "0.001"}, 90},
		{"netlab_http_request_seconds_count", []string{"route", "/"}, 100},
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

// An unreadable line must fail the scrape: skipped, its series would sum
// to 0 and pass an "at most 0" check.
func TestParse_RejectsWhatItCannotRead(t *testing.T) {
	tests := []string{
		"netlab_tcp_echo_connections_rejected_total{reason=\"max_conns\" 3\n",
		"not a metric line\n",
		"netlab_x 1 2 3\n",
	}
	for _, in := range tests {
		if m, err := prom.Parse(strings.NewReader(scrape + in)); err == nil || !strings.Contains(err.Error(), "line") {
			t.Errorf("Parse(%q) = %v, %v; want an error naming the line", in, m, err)
		}
	}
}
