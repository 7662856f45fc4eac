// Package netserve is the listener and accept loop of netlab's TCP
// servers: Listen opens the listener once the server's metrics are made,
// and Loop waits and retries when accepting fails, stops when the
// listener closes or the server stops, and serves at most MAX_CONNS
// connections at once, handing each one over the limit to the server to
// refuse. HTTPServer gives the small HTTP listeners their limits.
package netserve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/netlab/netlab/services/platform/lifecycle"
)

// ReasonMaxConns is the reason label of a connection refused because
// MAX_CONNS connections were open, in every server's
// connections_rejected_total.
const ReasonMaxConns = "max_conns"

// The wait after a failed accept doubles from minBackoff to maxBackoff and
// starts again after a success, as net/http's does.
const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = time.Second
)

// Listen is the start of a TCP server's New: it makes the server's
// metrics with newMetrics (registering them with reg), then opens the
// server's listener on addr, so a server that cannot register its metrics
// holds no port. Errors start with "metrics:" or "listen tcp:".
func Listen[M any](addr string, reg prometheus.Registerer, newMetrics func(prometheus.Registerer) (M, error)) (M, *net.TCPListener, error) {
	m, err := newMetrics(reg)
	if err != nil {
		return m, nil, fmt.Errorf("metrics: %w", err)
	}
	tcpAddr, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return m, nil, fmt.Errorf("listen tcp: %w", err)
	}
	ln, err := net.ListenTCP("tcp", tcpAddr)
	if err != nil {
		return m, nil, fmt.Errorf("listen tcp: %w", err)
	}
	return m, ln, nil
}

// Loop accepts connections from one listener, at most maxConns open at
// once.
type Loop struct {
	ln       net.Listener
	log      *zap.Logger
	maxConns int
	slots    chan struct{} // one token per open connection
	refuse   func(net.Conn)
}

// New returns a loop over ln that keeps at most maxConns connections open
// (maxConns > 0). refuse receives each connection accepted while maxConns
// are open, on the loop's goroutine: it counts the refusal
// (ReasonMaxConns), closes the connection (after telling the client why,
// if the protocol can) and must not block the loop for long.
func New(ln net.Listener, log *zap.Logger, maxConns int, refuse func(net.Conn)) *Loop {
	return &Loop{ln: ln, log: log, maxConns: maxConns, slots: make(chan struct{}, maxConns), refuse: refuse}
}

// Run accepts connections until the listener is closed or ctx ends; then
// the listener is closed and Run returns. serve receives each connection
// within the limit on the loop's goroutine, so whatever it records (a
// WaitGroup, a connection set) is recorded before Run returns. It must
// hand the connection to a goroutine of its own and call release once,
// when the connection is over, to free its slot.
//
// A failed accept is retried after a wait (logged with the "backoff"
// field): on a listening socket accept fails for passing reasons, such as
// running out of file descriptors or a connection reset before it was
// taken (accept(2)), and Go reports a closed listener as net.ErrClosed.
func (l *Loop) Run(ctx context.Context, serve func(c net.Conn, release func())) {
	closed := make(chan struct{})
	stop := context.AfterFunc(ctx, func() { _ = l.ln.Close(); close(closed) })
	// The listener is closed when Run returns, not later. stop can win
	// against a ctx that has just ended (f then never runs), so Run closes
	// it then; when f has started, Run waits for it instead of closing
	// again: a second Close returns at once while the first may still be
	// closing the socket.
	defer func() {
		if stop() {
			_ = l.ln.Close() // already closed if that is why Run returns
		} else {
			<-closed
		}
	}()
	var backoff time.Duration
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return
			}
			backoff = min(max(2*backoff, minBackoff), maxBackoff)
			l.log.Warn("accept failed; retrying", zap.Error(err), zap.Duration("backoff", backoff))
			if lifecycle.Sleep(ctx, backoff) != nil {
				return
			}
			continue
		}
		backoff = 0
		select {
		case l.slots <- struct{}{}:
			serve(c, l.release)
		default:
			l.log.Debug("connection refused: MAX_CONNS reached",
				zap.Stringer("remote", c.RemoteAddr()), zap.Int("max_conns", l.maxConns))
			l.refuse(c)
		}
	}
}

func (l *Loop) release() { <-l.slots }
