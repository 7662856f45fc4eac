package dash

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/netlab/netlab/services/dashboard/internal/poller"
	"github.com/netlab/netlab/services/platform/promset"
)

// metrics are the dashboard's own series, on its admin listener.
type metrics struct {
	rounds   prometheus.Counter
	took     prometheus.Gauge
	replicas *prometheus.GaugeVec // by state
	fetches  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, d *Dashboard) (*metrics, error) {
	s := promset.New(reg, "dashboard")
	m := &metrics{
		rounds:   s.Counter("rounds_total", "Poll rounds run."),
		took:     s.Gauge("round_duration_seconds", "How long the last poll round took."),
		replicas: s.GaugeVec("replicas", "Replicas tracked, by state (up, not_ready, down).", "state"),
		fetches:  s.CounterVec("fetches_total", "Fetches asked of peer nodes from the swarm page, by the status answered.", "code"),
	}
	hub := d.hub.Stats()
	s.GaugeFunc("series", "Series held in the history (at most MAX_SERIES).", func() float64 { return float64(d.store.Stats().Series) })
	s.CounterFunc("series_dropped_total", "Series not kept because MAX_SERIES were held.", func() float64 { return float64(d.store.Stats().Dropped) })
	s.GaugeFunc("streams", "Event streams open to browsers (at most MAX_CLIENTS).", func() float64 { return float64(d.hub.Clients()) })
	s.CounterFunc("streams_rejected_total", "Event streams refused because MAX_CLIENTS were open.", func() float64 { return float64(hub.Rejected.Load()) })
	s.CounterFunc("streams_dropped_total", "Event streams ended because the browser fell behind.", func() float64 { return float64(hub.Dropped.Load()) })
	s.CounterFunc("events_sent_total", "Messages queued to browsers.", func() float64 { return float64(hub.Events.Load()) })
	s.CounterFunc("event_bytes_total", "Bytes of the messages queued to browsers.", func() float64 { return float64(hub.Bytes.Load()) })
	return m, s.Err()
}

// observe records a round.
func (m *metrics) observe(round poller.Round) {
	m.rounds.Inc()
	m.took.Set(round.Took.Seconds())
	counts := map[string]int{poller.StateUp: 0, poller.StateNotReady: 0, poller.StateDown: 0}
	for _, svc := range round.Services {
		for _, r := range svc.Replicas {
			counts[r.State]++
		}
	}
	for state, n := range counts {
		m.replicas.WithLabelValues(state).Set(float64(n))
	}
}
