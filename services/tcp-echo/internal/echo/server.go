// Package echo is the tcp-echo server: every byte a client sends comes back
// to it, for many thousands of clients at once, with bounded memory, limits
// on connections and time, and a graceful drain on shutdown.
package echo

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/netlab/netlab/services/platform/netserve"
	"github.com/netlab/netlab/services/tcp-echo/internal/config"
)

// lingerTimeout bounds how long a connection closed by the server keeps
// reading (and discarding) after it sent FIN, so the client's last bytes do
// not turn the close into a reset.
const lingerTimeout = time.Second

// Server is a TCP echo server. Create it with New, run it with Serve.
type Server struct {
	cfg     config.Config
	log     *zap.Logger
	ln      *net.TCPListener
	metrics *metrics

	// accept hands out one slot per open connection, MAX_CONNS at most.
	accept *netserve.Loop
	// buffers are borrowed by a connection only while data flows, so idle
	// connections cost no echo buffer.
	buffers sync.Pool

	mu    sync.Mutex
	conns map[*conn]struct{}
	wg    sync.WaitGroup

	nextID atomic.Uint64
	forced atomic.Bool // SHUTDOWN_TIMEOUT ran out: close what is left
}

// New listens on cfg.ListenAddr and registers the server's metrics with reg.
func New(cfg config.Config, log *zap.Logger, reg prometheus.Registerer) (*Server, error) {
	m, ln, err := netserve.Listen(cfg.ListenAddr, reg, newMetrics)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		log:     log,
		ln:      ln,
		metrics: m,
		conns:   make(map[*conn]struct{}),
	}
	s.accept = netserve.New(ln, log, cfg.MaxConns, func(nc net.Conn) {
		s.metrics.rejected.WithLabelValues(netserve.ReasonMaxConns).Inc()
		_ = nc.Close()
	})
	s.buffers.New = func() any {
		b := make([]byte, cfg.BufferSize)
		return &b
	}
	return s, nil
}

// Addr is the address the echo listener is bound to.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve accepts and echoes until ctx is canceled. It then stops accepting,
// lets open connections go on until their clients close them or
// SHUTDOWN_TIMEOUT passes, closes the rest (FIN first), and returns nil.
func (s *Server) Serve(ctx context.Context) error {
	s.accept.Run(ctx, s.start)
	s.drain()
	return nil
}

// drain waits for open connections to end, up to SHUTDOWN_TIMEOUT, then
// closes the rest and waits for their goroutines.
func (s *Server) drain() {
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	open := s.openConns()
	if open > 0 {
		s.log.Info("draining connections", zap.Int("open", open), zap.Duration("timeout", s.cfg.ShutdownTimeout))
	}
	timer := time.NewTimer(s.cfg.ShutdownTimeout)
	defer timer.Stop()
	select {
	case <-done:
		return
	case <-timer.C:
	}

	s.forced.Store(true)
	s.mu.Lock()
	s.log.Info("shutdown timeout: closing connections", zap.Int("open", len(s.conns)))
	for c := range s.conns {
		c.interrupt()
	}
	s.mu.Unlock()
	<-done
}

func (s *Server) openConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// start serves one accepted connection; release frees its MAX_CONNS slot.
func (s *Server) start(nc net.Conn, release func()) {
	c := &conn{
		server:  s,
		tcp:     nc.(*net.TCPConn),
		id:      s.nextID.Add(1),
		start:   time.Now(),
		release: release,
	}
	s.track(c)
	go c.serve()
}

func (s *Server) track(c *conn) {
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	s.wg.Add(1)
	s.metrics.accepted.Inc()
	s.metrics.active.Inc()
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.metrics.active.Dec()
	c.release()
	s.wg.Done()
}
