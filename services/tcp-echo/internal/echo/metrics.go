package echo

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/netlab/netlab/services/platform/netserve"
	"github.com/netlab/netlab/services/platform/promset"
)

// Reasons a connection ends; label values of the metrics. A refusal's is
// netserve.ReasonMaxConns.
const (
	reasonClientClose = "client_close" // the client closed its side
	reasonIdle        = "idle_timeout" // nothing received for IDLE_TIMEOUT
	reasonWrite       = "write_error"  // the client stopped reading or went away while we wrote
	reasonRead        = "read_error"   // the connection broke while reading (e.g. reset)
	reasonShutdown    = "shutdown"     // still open when SHUTDOWN_TIMEOUT ran out
)

type metrics struct {
	active        prometheus.Gauge
	accepted      prometheus.Counter
	rejected      *prometheus.CounterVec
	closed        *prometheus.CounterVec
	bytesReceived prometheus.Counter
	bytesSent     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	s := promset.New(reg, "tcp_echo")
	m := &metrics{
		active:        s.Gauge("connections_active", "Connections open right now."),
		accepted:      s.Counter("connections_accepted_total", "Connections accepted and served."),
		rejected:      s.CounterVec("connections_rejected_total", "Connections closed at once without being served, by reason.", "reason"),
		closed:        s.CounterVec("connections_closed_total", "Served connections that ended, by reason.", "reason"),
		bytesReceived: s.Counter("bytes_received_total", "Bytes read from clients."),
		bytesSent:     s.Counter("bytes_sent_total", "Bytes echoed back to clients."),
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	// Pre-create every label value so dashboards see zeros, not gaps.
	m.rejected.WithLabelValues(netserve.ReasonMaxConns)
	for _, r := range []string{reasonClientClose, reasonIdle, reasonWrite, reasonRead, reasonShutdown} {
		m.closed.WithLabelValues(r)
	}
	return m, nil
}
