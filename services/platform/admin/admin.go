// Package admin serves the admin HTTP listener every netlab service has:
// /healthz (the process is alive), /readyz (it is ready for traffic, and stops
// being ready as soon as shutdown starts), /metrics (Prometheus) and /version.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/netlab/netlab/services/platform/netserve"
	"github.com/netlab/netlab/services/platform/version"
)

// NewRegistry returns a Prometheus registry holding the Go runtime and
// process collectors and a netlab_build_info gauge for service.
func NewRegistry(service string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	info := version.Get()
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "netlab_build_info",
		Help: "Build of the running service; always 1.",
		ConstLabels: prometheus.Labels{
			"service": service, "version": info.Version, "commit": info.Commit, "goversion": info.GoVersion,
		},
	})
	buildInfo.Set(1)
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo,
	)
	return reg
}

// Server is the admin HTTP listener. It starts not ready; the service marks
// it ready once its own listeners are open.
type Server struct {
	ln    net.Listener
	http  *http.Server
	mux   *http.ServeMux
	ready atomic.Bool
}

// New listens on addr and prepares the handlers. Serve starts answering.
func New(addr string, reg *prometheus.Registry, log *zap.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen admin: %w", err)
	}
	mux := http.NewServeMux()
	s := &Server{ln: ln, mux: mux}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			writeText(w, http.StatusServiceUnavailable, "not ready")
			return
		}
		writeText(w, http.StatusOK, "ready")
	})
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(version.Get())
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry:            reg,
		MaxRequestsInFlight: 4,
		Timeout:             5 * time.Second,
		ErrorLog:            zap.NewStdLog(log),
	}))
	s.http = netserve.HTTPServer(mux, log, 10*time.Second)
	return s, nil
}

// Handle adds a service's own endpoint (such as a JSON API) beside the
// standard ones. Call it before Serve. Handlers that stream large bodies
// extend the 10 s read/write deadlines with http.ResponseController.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Addr is the address the admin listener is bound to.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// SetReady sets what /readyz answers.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// Serve answers requests until Shutdown is called; it then returns nil.
func (s *Server) Serve() error {
	if err := s.http.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("admin: %w", err)
	}
	return nil
}

// Shutdown stops the listener and waits for in-flight requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.http.Shutdown(ctx)
}

// Close closes the listener, whether or not Serve ever ran, and every
// connection at once. Shutdown is the graceful stop; Close is for a server
// that will never serve, such as when its service failed to start (net/http
// closes a listener only once it serves it).
func (s *Server) Close() error {
	err := s.http.Close()
	if lerr := s.ln.Close(); lerr != nil && !errors.Is(lerr, net.ErrClosed) {
		err = errors.Join(err, lerr)
	}
	return err
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = fmt.Fprintln(w, body)
}
