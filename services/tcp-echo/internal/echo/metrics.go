package echo

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/netlab/netlab/services/platform/netserve"
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
	const ns, sub = "netlab", "tcp_echo"
	m := &metrics{
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "connections_active",
			Help: "Connections open right now.",
		}),
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "connections_accepted_total",
			Help: "Connections accepted and served.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "connections_rejected_total",
			Help: "Connections closed at once without being served, by reason.",
		}, []string{"reason"}),
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "connections_closed_total",
			Help: "Served connections that ended, by reason.",
		}, []string{"reason"}),
		bytesReceived: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "bytes_received_total",
			Help: "Bytes read from clients.",
		}),
		bytesSent: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "bytes_sent_total",
			Help: "Bytes echoed back to clients.",
		}),
	}
	// Pre-create every label value so dashboards see zeros, not gaps.
	m.rejected.WithLabelValues(netserve.ReasonMaxConns)
	for _, r := range []string{reasonClientClose, reasonIdle, reasonWrite, reasonRead, reasonShutdown} {
		m.closed.WithLabelValues(r)
	}
	for _, c := range []prometheus.Collector{m.active, m.accepted, m.rejected, m.closed, m.bytesReceived, m.bytesSent} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
