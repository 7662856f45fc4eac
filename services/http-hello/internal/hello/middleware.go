package hello

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

type metrics struct {
	requests *prometheus.CounterVec   // by route, method, code
	duration *prometheus.HistogramVec // by route
	inFlight *prometheus.GaugeVec     // by route
	rejected prometheus.Counter       // over MAX_CONCURRENT
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "netlab", "http_hello"
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "requests_total",
			Help: "Requests answered, by route, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "request_duration_seconds",
			Help:    "Time to answer a request, by route.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "requests_in_flight",
			Help: "Requests being answered now, by route.",
		}, []string{"route"}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "requests_rejected_total",
			Help: "Requests refused with 503 because MAX_CONCURRENT were in progress.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.inFlight, m.rejected} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// recorder remembers the status code and size of a response.
type recorder struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer (flushing,
// deadlines).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// instrument wraps the mux: it caps concurrent requests and bodies, and
// records metrics and the access log for every request.
func (s *Server) instrument(mux *http.ServeMux) http.Handler {
	slots := make(chan struct{}, s.cfg.MaxConcurrent)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		_, route := mux.Handler(r)
		if route == "" {
			route = "unmatched" // bounded label values: never the raw path
		}
		rec := &recorder{ResponseWriter: w}
		select {
		case slots <- struct{}{}:
			r.Body = http.MaxBytesReader(rec, r.Body, s.cfg.MaxBody)
			s.metrics.inFlight.WithLabelValues(route).Inc()
			mux.ServeHTTP(rec, r)
			s.metrics.inFlight.WithLabelValues(route).Dec()
			<-slots
		default:
			s.metrics.rejected.Inc()
			rec.Header().Set("Retry-After", "1")
			httpError(rec, http.StatusServiceUnavailable, "too many requests in progress (MAX_CONCURRENT)")
		}
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		elapsed := time.Since(start)
		s.metrics.requests.WithLabelValues(route, r.Method, strconv.Itoa(rec.code)).Inc()
		s.metrics.duration.WithLabelValues(route).Observe(elapsed.Seconds())
		if s.cfg.AccessLog {
			s.log.Info("request",
				zap.String("remote", r.RemoteAddr), zap.String("proto", r.Proto),
				zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.String("route", route),
				zap.Int("status", rec.code), zap.Int64("bytes", rec.bytes), zap.Duration("duration", elapsed),
				zap.String("user_agent", r.UserAgent()))
		}
	})
}
