// Package responder is the udp-responder server: it answers datagrams with
// the greeting (or their own bytes in echo mode) and answers probes in every
// mode, while making sure it can never be used to amplify or loop traffic.
package responder

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/services/udp-responder/internal/config"
)

// socketBuffer is the kernel buffer asked for on each socket; the kernel
// caps it at net.core.rmem_max / wmem_max. Bursts of probes need more than
// the default 208 KiB.
const socketBuffer = 4 << 20

// Server is a UDP responder. Create it with New, run it with Serve.
type Server struct {
	cfg     config.Config
	log     *zap.Logger
	policy  *policy
	metrics *metrics
	conns   []*net.UDPConn

	// onExit starts a graceful shutdown of the whole process; called at
	// most once, when a valid "exit <token>" arrives.
	onExit   func()
	exitOnce sync.Once
}

// New opens the sockets on cfg.ListenAddr (SOCKETS of them, sharing the port
// with SO_REUSEPORT so the kernel spreads sources over them) and registers
// the metrics with reg. onExit is called when a valid exit datagram arrives.
func New(cfg config.Config, log *zap.Logger, reg prometheus.Registerer, onExit func()) (*Server, error) {
	sockets := cfg.Sockets
	if sockets == 0 {
		sockets = runtime.GOMAXPROCS(0)
	}
	conns, err := listen(cfg.ListenAddr, sockets)
	if err != nil {
		return nil, err
	}
	port := uint16(conns[0].LocalAddr().(*net.UDPAddr).Port)
	pol, err := newPolicy(cfg, port)
	if err != nil {
		closeAll(conns)
		return nil, err
	}
	m, err := newMetrics(reg, pol)
	if err != nil {
		closeAll(conns)
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return &Server{cfg: cfg, log: log, policy: pol, metrics: m, conns: conns, onExit: onExit}, nil
}

// listen opens n UDP sockets bound to the same address with SO_REUSEPORT.
// With port 0 the first socket picks the port and the others join it.
func listen(addr string, n int) ([]*net.UDPConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	var conns []*net.UDPConn
	for i := range n {
		pc, err := lc.ListenPacket(context.Background(), "udp", addr)
		if err != nil {
			closeAll(conns)
			return nil, fmt.Errorf("listen udp: %w", err)
		}
		c := pc.(*net.UDPConn)
		_ = c.SetReadBuffer(socketBuffer)
		_ = c.SetWriteBuffer(socketBuffer)
		conns = append(conns, c)
		if i == 0 {
			// Later sockets must share the port the first one got.
			addr = c.LocalAddr().String()
		}
	}
	return conns, nil
}

func closeAll(conns []*net.UDPConn) {
	for _, c := range conns {
		_ = c.Close()
	}
}

// Addr is the address the responder is bound to.
func (s *Server) Addr() net.Addr { return s.conns[0].LocalAddr() }

// Serve answers datagrams until ctx is canceled, then closes the sockets
// and returns nil once every worker has stopped. A datagram being handled
// when shutdown starts is still answered; UDP has nothing else in flight.
func (s *Server) Serve(ctx context.Context) error {
	errs := make(chan error, len(s.conns))
	var wg sync.WaitGroup
	for i, c := range s.conns {
		wg.Go(func() { errs <- s.work(c, i) })
	}
	var failure error
	select {
	case <-ctx.Done():
	case failure = <-errs:
	}
	closeAll(s.conns)
	wg.Wait()
	close(errs)
	for err := range errs {
		if failure == nil {
			failure = err
		}
	}
	return failure
}

// work serves one socket. The loop allocates nothing per datagram: the
// buffer is reused and addresses are netip values.
func (s *Server) work(c *net.UDPConn, worker int) error {
	buf := make([]byte, s.cfg.MaxDatagram+1) // one more byte reveals oversize datagrams
	debug := s.log.Core().Enabled(zap.DebugLevel)
	var readErrors int
	for {
		n, src, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Transient errors (an ICMP error reported on the socket, a
			// buffer shortage) must not stop the server; a socket that
			// only fails is broken.
			s.metrics.readErrors.Inc()
			if readErrors++; readErrors > 1000 {
				return fmt.Errorf("read udp (socket %d): %w", worker, err)
			}
			time.Sleep(time.Millisecond)
			continue
		}
		readErrors = 0
		s.handle(c, src, buf[:n], debug)
	}
}

func (s *Server) handle(c *net.UDPConn, src netip.AddrPort, req []byte, debug bool) {
	m := s.metrics
	m.received.Inc()
	m.bytesReceived.Add(float64(len(req)))
	v := s.policy.decide(src, req)
	if debug {
		s.log.Debug("datagram", zap.Stringer("remote", src), zap.Int("bytes", len(req)),
			zap.Int("reply_bytes", len(v.reply)), zap.String("dropped", v.dropped))
	}
	if v.shutdown {
		s.exitOnce.Do(func() {
			s.log.Info("exit received: shutting down", zap.Stringer("remote", src))
			s.onExit()
		})
	}
	if v.reply == nil {
		m.dropped[v.dropped].Inc()
		return
	}
	n, err := c.WriteToUDPAddrPort(v.reply, src)
	if err != nil {
		m.dropped[dropWriteError].Inc()
		if debug {
			s.log.Debug("reply failed", zap.Stringer("remote", src), zap.Error(err))
		}
		return
	}
	m.sent.Inc()
	m.bytesSent.Add(float64(n))
}
