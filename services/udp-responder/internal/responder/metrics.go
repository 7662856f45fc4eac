package responder

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	received      prometheus.Counter
	sent          prometheus.Counter
	bytesReceived prometheus.Counter
	bytesSent     prometheus.Counter
	readErrors    prometheus.Counter
	// dropped holds one counter per reason, looked up without allocating.
	dropped map[string]prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, pol *policy) (*metrics, error) {
	const ns, sub = "netlab", "udp_responder"
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help})
	}
	droppedVec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "dropped_total",
		Help: "Datagrams that got no reply, by reason.",
	}, []string{"reason"})
	m := &metrics{
		received:      counter("datagrams_received_total", "Datagrams read."),
		sent:          counter("replies_sent_total", "Replies sent."),
		bytesReceived: counter("bytes_received_total", "Bytes of datagrams read."),
		bytesSent:     counter("bytes_sent_total", "Bytes of replies sent."),
		readErrors:    counter("read_errors_total", "Failed reads from a socket."),
		dropped:       make(map[string]prometheus.Counter, len(dropReasons)),
	}
	for _, r := range dropReasons {
		m.dropped[r] = droppedVec.WithLabelValues(r)
	}
	tableSize := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: ns, Subsystem: sub, Name: "rate_table_sources",
		Help: "Sources the rate limiter tracks now (at most RATE_TABLE_SIZE).",
	}, func() float64 { return float64(pol.limiter.Len()) })
	evictions := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "rate_table_evictions_total",
		Help: "Sources forgotten while still limited because the table was full.",
	}, func() float64 { return float64(pol.limiter.Evictions()) })
	for _, c := range []prometheus.Collector{m.received, m.sent, m.bytesReceived, m.bytesSent, m.readErrors, droppedVec, tableSize, evictions} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
