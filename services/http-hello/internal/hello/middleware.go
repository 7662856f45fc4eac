package hello

import (
	"maps"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/netlab/netlab/services/platform/promset"
)

type metrics struct {
	requests *prometheus.CounterVec   // by route, method, code
	duration *prometheus.HistogramVec // by route
	inFlight *prometheus.GaugeVec     // by route
	rejected prometheus.Counter       // over MAX_CONCURRENT
	// headersTooLarge counts the 431s for header blocks over
	// MAX_HEADER_BYTES: limitHeaders's and those net/http sends itself.
	headersTooLarge prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	s := promset.New(reg, "http_hello")
	m := &metrics{
		requests: s.CounterVec("requests_total", "Requests answered, by route, method and status code.", "route", "method", "code"),
		duration: s.HistogramVec("request_duration_seconds", "Time to answer a request, by route.",
			[]float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}, "route"),
		inFlight: s.GaugeVec("requests_in_flight", "Requests being answered now, by route.", "route"),
		rejected: s.Counter("requests_rejected_total", "Requests refused with 503 because MAX_CONCURRENT were in progress."),
		headersTooLarge: s.Counter("headers_too_large_total",
			"Requests refused with 431 because their header block was over MAX_HEADER_BYTES."),
	}
	return m, s.Err()
}

// routeMetrics holds one route's metric children, looked up once when the
// route is registered instead of on every request.
type routeMetrics struct {
	name     string
	inFlight prometheus.Gauge
	duration prometheus.Observer

	vec *prometheus.CounterVec
	mu  sync.Mutex // held to add to requests
	// requests holds the counters by method and code, filled on first use.
	// A map that is copied to add a key is read without a lock: requests
	// reuse a few keys, so it is copied a few times and read on every
	// request.
	requests atomic.Pointer[map[requestKey]prometheus.Counter]
}

type requestKey struct {
	method string
	code   int
}

func (m *metrics) route(name string) *routeMetrics {
	rm := &routeMetrics{
		name:     name,
		inFlight: m.inFlight.WithLabelValues(name),
		duration: m.duration.WithLabelValues(name),
		vec:      m.requests,
	}
	rm.requests.Store(&map[requestKey]prometheus.Counter{})
	return rm
}

// count adds one request answered with code. The method label is one of the
// standard methods or OTHER, so a client cannot grow the series without
// bound by inventing methods.
func (rm *routeMetrics) count(method string, code int) {
	key := requestKey{metricMethod(method), code}
	c, ok := (*rm.requests.Load())[key]
	if !ok {
		c = rm.add(key)
	}
	c.Inc()
}

// add looks up key's counter and returns it, and keeps it in a new copy of
// the requests map.
func (rm *routeMetrics) add(key requestKey) prometheus.Counter {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	old := *rm.requests.Load()
	if c, ok := old[key]; ok {
		return c // another request added it first
	}
	c := rm.vec.WithLabelValues(rm.name, key.method, strconv.Itoa(key.code))
	m := maps.Clone(old)
	m[key] = c
	rm.requests.Store(&m)
	return c
}

func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// recorder remembers the status code and size of a response, and which
// route answered it.
type recorder struct {
	http.ResponseWriter
	code  int
	bytes int64
	route *routeMetrics // set by the route's handler; nil when no route matched
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

var recorders = sync.Pool{New: func() any { return new(recorder) }}

// handle registers h on mux under pattern, tagging each request it answers
// with the route's metrics, and returns the handler it registered. The
// route is known here, so instrument needs no second mux lookup.
func (s *Server) handle(mux *http.ServeMux, pattern string, h http.HandlerFunc) http.Handler {
	rm := s.metrics.route(pattern)
	route := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rec, ok := w.(*recorder); ok {
			rec.route = rm
		}
		rm.inFlight.Inc()
		defer rm.inFlight.Dec()
		h(w, r)
	})
	mux.Handle(pattern, route)
	return route
}

// isRoot reports whether the mux would route r to rootPattern: GET or HEAD
// of exactly "/" (a clean path, so no redirect; the mux has no host
// patterns).
func isRoot(r *http.Request) bool {
	return r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead)
}

// serveCounted serves a request admitted under MAX_CONCURRENT and gives
// its slot back even if the handler panics (net/http recovers the panic
// and the server goes on, so a lost slot would never come back).
func (s *Server) serveCounted(w http.ResponseWriter, rec *recorder, r *http.Request, mux *http.ServeMux, inFlight *atomic.Int64) {
	defer inFlight.Add(-1)
	if r.Body != http.NoBody { // net/http's body for a request without one: nothing to cap
		// The server's own writer, so an oversized body also closes the
		// connection.
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
	}
	if isRoot(r) {
		r.Pattern = rootPattern // as the mux sets it
		s.root.ServeHTTP(rec, r)
		return
	}
	mux.ServeHTTP(rec, r)
}

// instrument wraps the mux: it caps concurrent requests and bodies, and
// records metrics and the access log for every request.
func (s *Server) instrument(mux *http.ServeMux) http.Handler {
	// Requests in progress, against MAX_CONCURRENT: an atomic counter,
	// cheaper than a channel of slots on every request.
	var inFlight atomic.Int64
	limit := int64(s.cfg.MaxConcurrent)
	unmatched := s.metrics.route("unmatched") // bounded label values: never the raw path
	routes := make(map[string]*routeMetrics)  // for requests refused before routing
	var routesMu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := recorders.Get().(*recorder)
		*rec = recorder{ResponseWriter: w}
		if inFlight.Add(1) <= limit {
			s.serveCounted(w, rec, r, mux, &inFlight)
		} else {
			inFlight.Add(-1)
			s.metrics.rejected.Inc()
			if _, pattern := mux.Handler(r); pattern != "" {
				routesMu.Lock()
				if routes[pattern] == nil {
					routes[pattern] = s.metrics.route(pattern)
				}
				rec.route = routes[pattern]
				routesMu.Unlock()
			}
			rec.Header().Set("Retry-After", "1")
			httpError(rec, http.StatusServiceUnavailable, "too many requests in progress (MAX_CONCURRENT)")
		}
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		route := rec.route
		if route == nil {
			route = unmatched
		}
		elapsed := time.Since(start)
		route.count(r.Method, rec.code)
		route.duration.Observe(elapsed.Seconds())
		if s.cfg.AccessLog {
			s.log.Info("request",
				zap.String("remote", r.RemoteAddr), zap.String("proto", r.Proto),
				zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.String("route", route.name),
				zap.Int("status", rec.code), zap.Int64("bytes", rec.bytes), zap.Duration("duration", elapsed),
				zap.String("user_agent", r.UserAgent()))
		}
		*rec = recorder{}
		recorders.Put(rec)
	})
}
