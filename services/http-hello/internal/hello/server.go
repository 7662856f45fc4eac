// Package hello is the http-hello server: the tutorial's "Hello, World!"
// over HTTP/1.1 and cleartext HTTP/2, plus bounded experiment endpoints
// (/echo, /status, /delay, /bytes), with timeouts and limits that keep slow
// or greedy clients from holding others up.
package hello

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/netlab/netlab/services/http-hello/internal/config"
	"github.com/netlab/netlab/services/platform/netserve"
)

// Server is the hello HTTP server. Create it with New, run it with Serve.
type Server struct {
	cfg     config.Config
	log     *zap.Logger
	metrics *metrics
	ln      net.Listener
	http    *http.Server

	root           http.Handler // the rootPattern route, set by routes
	greeting       []byte
	greetingLength []string // the Content-Length header's value
	hostname       string
	ips            []string
}

// New listens on cfg.ListenAddr and registers the metrics with reg.
func New(cfg config.Config, log *zap.Logger, reg prometheus.Registerer) (*Server, error) {
	m, ln, err := netserve.Listen(cfg.ListenAddr, reg, newMetrics)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, log: log, metrics: m, ln: ln,
		greeting:       []byte(cfg.Greeting),
		greetingLength: []string{strconv.Itoa(len(cfg.Greeting))},
	}
	s.hostname, s.ips = hostIdentity()

	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true) // h2c: HTTP/2 without TLS
	if cfg.TLSCertFile != "" {
		protocols.SetHTTP2(true)
	}
	s.http = &http.Server{
		Handler:           s.limitHeaders(s.instrument(s.routes())),
		Protocols:         &protocols,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          zap.NewStdLog(log.Named("http")),
	}
	return s, nil
}

// Addr is the address the hello server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve answers requests until ctx is canceled. It then stops accepting,
// lets requests in progress finish within SHUTDOWN_TIMEOUT, closes what is
// left and returns nil.
func (s *Server) Serve(ctx context.Context) error {
	served := make(chan error, 1)
	dl := newDeadlines(deadlineTick)
	stop := make(chan struct{})
	defer close(stop)
	go dl.run(stop)
	go func() {
		var err error
		ln := &listener{Listener: s.ln, refused: s.metrics.headersTooLarge, deadlines: dl}
		if s.cfg.TLSCertFile != "" {
			err = s.http.ServeTLS(ln, s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
		} else {
			err = s.http.Serve(ln)
		}
		served <- err
	}()
	select {
	case err := <-served:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	start := time.Now()
	err := s.http.Shutdown(shutdownCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		s.log.Warn("shutdown timeout: closing requests still in progress", zap.Duration("waited", time.Since(start)))
		err = s.http.Close()
	}
	<-served // returns http.ErrServerClosed once Shutdown began
	return err
}
