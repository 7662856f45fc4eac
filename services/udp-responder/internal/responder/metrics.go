package responder

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/netlab/netlab/services/platform/promset"
)

type metrics struct {
	received      prometheus.Counter
	sent          prometheus.Counter
	bytesReceived prometheus.Counter
	bytesSent     prometheus.Counter
	readErrors    prometheus.Counter
	// dropped holds one counter per reason, looked up without allocating.
	dropped map[string]prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, pol *policy, runs *runTable) (*metrics, error) {
	s := promset.New(reg, "udp_responder")
	m := &metrics{
		received:      s.Counter("datagrams_received_total", "Datagrams read."),
		sent:          s.Counter("replies_sent_total", "Replies sent."),
		bytesReceived: s.Counter("bytes_received_total", "Bytes of datagrams read."),
		bytesSent:     s.Counter("bytes_sent_total", "Bytes of replies sent."),
		readErrors:    s.Counter("read_errors_total", "Failed reads from a socket."),
		dropped:       make(map[string]prometheus.Counter, len(dropReasons)),
	}
	dropped := s.CounterVec("dropped_total", "Datagrams that got no reply, by reason.", "reason")
	for _, r := range dropReasons {
		m.dropped[r] = dropped.WithLabelValues(r)
	}
	s.GaugeFunc("rate_table_sources", "Sources the rate limiter tracks now (at most RATE_TABLE_SIZE).",
		func() float64 { return float64(pol.limiter.Len()) })
	s.CounterFunc("rate_table_evictions_total", "Sources forgotten while still limited because the table was full.",
		func() float64 { return float64(pol.limiter.Evictions()) })
	s.GaugeFunc("probe_runs", "Version 2 probe runs whose requests are counted now (at most PROBE_RUNS).",
		func() float64 { return float64(runs.len()) })
	s.CounterFunc("probe_runs_refused_total", "Version 2 probes of a new run answered but not counted because the run table was full.",
		func() float64 { return float64(runs.refused.Load()) })
	s.CounterFunc("probe_runs_expired_total", "Probe runs forgotten PROBE_RUN_TTL after their last datagram.",
		func() float64 { return float64(runs.expired.Load()) })
	return m, s.Err()
}
