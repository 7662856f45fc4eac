// Package responder is the udp-responder server: it answers datagrams with
// the greeting (or their own bytes in echo mode) and answers probes in every
// mode, while making sure it can never be used to amplify or loop traffic.
package responder

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/services/udp-responder/internal/config"
	"github.com/netlab/netlab/services/udp-responder/internal/rxstamp"
	"github.com/netlab/netlab/services/udp-responder/internal/sockopt"
	"github.com/netlab/netlab/services/udp-responder/probe"
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
	runs    *runTable // the request counts of v2 probe runs
	metrics *metrics
	conns   []*net.UDPConn

	// onExit starts a graceful shutdown of the whole process; called at
	// most once, when a valid "exit <token>" arrives.
	onExit   func()
	exitOnce sync.Once

	// stopping is set when shutdown starts: a read that times out then
	// ends its worker.
	stopping atomic.Bool
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
	pol := newPolicy(cfg, port)
	runs := newRunTable(cmp.Or(cfg.ProbeRuns, DefaultProbeRuns), cmp.Or(cfg.ProbeRunTTL, DefaultProbeRunTTL))
	m, err := newMetrics(reg, pol, runs)
	if err != nil {
		closeAll(conns)
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return &Server{cfg: cfg, log: log, policy: pol, runs: runs, metrics: m, conns: conns, onExit: onExit}, nil
}

// Defaults of the run table for a Config that leaves it zero (tests).
const (
	DefaultProbeRuns   = 16384
	DefaultProbeRunTTL = 2 * time.Minute
)

// listen opens n UDP sockets bound to the same address with SO_REUSEPORT.
// With port 0 the first socket picks the port and the others join it.
// Each asks for kernel receive timestamps; where it gets none, v2 replies
// carry the time the datagram was read and say so.
func listen(addr string, n int) ([]*net.UDPConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		return sockopt.SetInt(c, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}}
	var conns []*net.UDPConn
	for i := range n {
		pc, err := lc.ListenPacket(context.Background(), "udp", addr)
		if err != nil {
			closeAll(conns)
			return nil, fmt.Errorf("listen udp: %w", err)
		}
		c := pc.(*net.UDPConn)
		if raw, err := c.SyscallConn(); err == nil {
			_ = rxstamp.Enable(raw)
		}
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

// Serve answers datagrams until ctx is canceled, then stops the workers
// and returns nil once every one has stopped. A datagram being handled
// when shutdown starts is still answered; UDP has nothing else in flight.
//
// The workers are stopped with a read deadline, not by closing their
// sockets: a worker that has just read a batch still sends its replies,
// then finds the deadline on its next read and returns. The sockets close
// only after that. (Closing them first lost the replies to the last batch
// read.)
func (s *Server) Serve(ctx context.Context) error {
	errs := make(chan error, len(s.conns))
	var wg sync.WaitGroup
	for i, c := range s.conns {
		wg.Go(func() { errs <- s.work(c, i) })
	}
	sweepDone := make(chan struct{})
	wg.Go(func() { s.sweepRateTable(sweepDone) })
	var failure error
	select {
	case <-ctx.Done():
	case failure = <-errs:
	}
	close(sweepDone)
	s.stopping.Store(true)
	for _, c := range s.conns {
		// Wakes a worker blocked in a read; one handling a batch finishes
		// it first.
		_ = c.SetReadDeadline(time.Now())
	}
	wg.Wait()
	closeAll(s.conns)
	close(errs)
	for err := range errs {
		if failure == nil {
			failure = err
		}
	}
	return failure
}

// sweepInterval is how often rate-limiter entries of quiet sources and
// probe runs past PROBE_RUN_TTL expire.
const sweepInterval = 30 * time.Second

// sweepRateTable expires the rate limiter's entries for sources that went
// quiet, and the probe runs not seen for PROBE_RUN_TTL, until done is
// closed.
func (s *Server) sweepRateTable(done <-chan struct{}) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if n := s.policy.limiter.Sweep(); n > 0 {
				s.log.Debug("rate table swept", zap.Int("expired", n))
			}
			if n := s.runs.sweep(time.Now()); n > 0 {
				s.log.Debug("probe runs expired", zap.Int("expired", n))
			}
		}
	}
}

// work serves one socket until it is closed.
func (s *Server) work(c *net.UDPConn, worker int) error {
	debug := s.log.Core().Enabled(zap.DebugLevel)
	if s.cfg.BatchSize > 1 {
		raw, err := c.SyscallConn()
		if err != nil {
			return fmt.Errorf("socket %d: %w", worker, err)
		}
		b := newBatch(raw, s.cfg.BatchSize, s.cfg.MaxDatagram+1, s.replied, s.replyFailed)
		return s.workBatched(b, worker, debug)
	}
	return s.workSingly(c, worker, debug)
}

// workBatched reads up to BATCH_SIZE datagrams per system call and sends
// their replies with one more. The loop allocates nothing per datagram.
func (s *Server) workBatched(b *batch, worker int, debug bool) error {
	var readErrors int
	for {
		n, err := b.read()
		if err != nil {
			if stop, err := s.readFailed(err, worker, &readErrors); stop {
				return err
			}
			continue
		}
		readErrors = 0
		for i := range n {
			req, src, rx := b.datagram(i)
			if reply, stamp := s.answer(src, req, rx, debug); reply != nil {
				b.queue(i, reply, stamp)
			}
		}
		b.flush()
	}
}

// workSingly is the one-datagram-per-call loop (BATCH_SIZE=1): the buffer
// is reused and addresses are netip values, so it allocates nothing either.
func (s *Server) workSingly(c *net.UDPConn, worker int, debug bool) error {
	buf := make([]byte, s.cfg.MaxDatagram+1) // one more byte reveals oversize datagrams
	oob := make([]byte, rxstamp.ControlSize)
	var readErrors int
	for {
		n, oobn, _, src, err := c.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			if stop, err := s.readFailed(err, worker, &readErrors); stop {
				return err
			}
			continue
		}
		readErrors = 0
		rx := rxTime{unix: time.Now().UnixNano()}
		if ns, ok := rxstamp.Parse(oob[:oobn]); ok {
			rx = rxTime{unix: ns, kernel: true}
		}
		if reply, stamp := s.answer(src, buf[:n], rx, debug); reply != nil {
			if stamp {
				probe.StampSend(reply, time.Now().UnixNano())
			}
			n, err := c.WriteToUDPAddrPort(reply, src)
			if err != nil {
				s.replyFailed(err)
				continue
			}
			s.replied(n)
		}
	}
}

// readFailed decides whether a read error ends the worker: a closed socket
// ends it cleanly (nil error); transient errors (an ICMP error reported on
// the socket, a buffer shortage) are counted and survived, unless a socket
// does nothing but fail.
func (s *Server) readFailed(err error, worker int, count *int) (stop bool, _ error) {
	if errors.Is(err, net.ErrClosed) || s.stopping.Load() && errors.Is(err, os.ErrDeadlineExceeded) {
		return true, nil
	}
	s.metrics.readErrors.Inc()
	if *count++; *count > 1000 {
		return true, fmt.Errorf("read udp (socket %d): %w", worker, err)
	}
	time.Sleep(time.Millisecond)
	return false, nil
}

// rxTime is when a datagram arrived: the kernel's timestamp, or the time
// it was read.
type rxTime struct {
	unix   int64 // Unix nanoseconds
	kernel bool
}

// answer runs the policy on one datagram and counts it. It returns the
// reply to send, or nil, and whether the reply is a v2 probe reply that
// must get its send time (probe.StampSend) just before it is sent.
func (s *Server) answer(src netip.AddrPort, req []byte, rx rxTime, debug bool) (reply []byte, stamp bool) {
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
		return nil, false
	}
	return v.reply, v.probe && s.fillV2(src, v.reply, rx)
}

// fillV2 writes the responder's section into the reply to a valid version
// 2 probe (count, receive time) and reports whether it did. Any other
// probe, a damaged one included, goes back as it came: the client then
// sees the damage.
func (s *Server) fillV2(src netip.AddrPort, reply []byte, rx rxTime) bool {
	if len(reply) < probe.HeaderSizeV2 || reply[4] != probe.VersionV2 {
		return false
	}
	p, err := probe.Parse(reply)
	if err != nil {
		return false
	}
	c := s.runs.record(src.Addr(), p.RunID, p.Query, rx.unix)
	probe.FillReply(reply, probe.Responder{Filled: true, KernelRecv: rx.kernel,
		NotCounted: c.notCounted, UnknownRun: c.unknown, Count: c.count, RecvUnix: rx.unix})
	return true
}

func (s *Server) replied(bytes int) {
	s.metrics.sent.Inc()
	s.metrics.bytesSent.Add(float64(bytes))
}

func (s *Server) replyFailed(err error) {
	s.metrics.dropped[dropWriteError].Inc()
	s.log.Debug("reply failed", zap.Error(err))
}
