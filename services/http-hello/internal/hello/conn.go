package hello

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// deadlineTick is how often the sweep of deadlines runs; see deadlines.
const deadlineTick = 250 * time.Millisecond

// listener wraps the server's accepted connections: it counts the 431
// answers net/http sends itself, and sets read and write deadlines
// lazily.
type listener struct {
	net.Listener
	refused   prometheus.Counter
	deadlines *deadlines
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	sc := &serverConn{Conn: c, refused: l.refused, dl: l.deadlines}
	l.deadlines.add(sc)
	return sc, nil
}

// deadlines defers the connections' deadlines that are far away. With
// timeouts set, net/http moves a connection's deadlines four times per
// request (READ_HEADER_TIMEOUT, READ_TIMEOUT, WRITE_TIMEOUT, IDLE_TIMEOUT),
// and each move re-arms a runtime timer and reads the clock twice: about
// 0.65 µs of CPU per request (BenchmarkDeadlines), 3 % of a GET /. The timeouts are seconds long and a
// request takes microseconds, so almost none of those deadlines is ever
// reached. A deadline more than two ticks away is only recorded; a sweep
// every tick arms the connection's own deadline once it is less than two
// ticks away, so it fires at the instant it was set for. Deadlines that
// are near, past or cleared go to the connection at once. Only a sweep
// delayed by more than a tick (a stalled process) would make one late.
type deadlines struct {
	tick    time.Duration
	base    time.Time    // the origin of now, with a monotonic reading
	now     atomic.Int64 // time since base at the last sweep
	stopped atomic.Bool  // no more sweeps: every deadline goes to its connection

	mu    sync.Mutex
	conns map[*serverConn]struct{}
}

func newDeadlines(tick time.Duration) *deadlines {
	return &deadlines{tick: tick, base: time.Now(), conns: make(map[*serverConn]struct{})}
}

// soon reports whether t is too near for the sweep to arm it in time.
// now lags by up to a tick, which only makes more deadlines soon.
func (d *deadlines) soon(t time.Time) bool {
	return d.stopped.Load() || t.Sub(d.base) < time.Duration(d.now.Load())+2*d.tick
}

func (d *deadlines) add(c *serverConn) {
	d.mu.Lock()
	d.conns[c] = struct{}{}
	d.mu.Unlock()
}

func (d *deadlines) remove(c *serverConn) {
	d.mu.Lock()
	delete(d.conns, c)
	d.mu.Unlock()
}

// run sweeps every tick until stop is closed, then arms every deadline
// still recorded, since no sweep will.
func (d *deadlines) run(stop <-chan struct{}) {
	t := time.NewTicker(d.tick)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			d.sweep()
		case <-stop:
			d.stopped.Store(true)
			d.sweep()
			return
		}
	}
}

func (d *deadlines) sweep() {
	d.now.Store(int64(time.Since(d.base)))
	d.mu.Lock()
	defer d.mu.Unlock()
	for c := range d.conns {
		c.arm()
	}
}

// deadline is one direction's deadline of a serverConn.
type deadline struct {
	at    time.Time // the deadline set; zero: none
	armed bool      // the connection's own deadline is set (to at, or to one already past)
}

// serverConn is an accepted connection. See listener.
type serverConn struct {
	net.Conn
	refused prometheus.Counter
	dl      *deadlines

	mu          sync.Mutex
	closed      bool
	read, write deadline
}

func (c *serverConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.set(&c.read, t, c.Conn.SetReadDeadline)
}

func (c *serverConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.set(&c.write, t, c.Conn.SetWriteDeadline)
}

func (c *serverConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return errors.Join(c.set(&c.read, t, c.Conn.SetReadDeadline), c.set(&c.write, t, c.Conn.SetWriteDeadline))
}

// set records t as d, and passes it to the connection with apply unless
// the sweep can do that later. c.mu is held.
func (c *serverConn) set(d *deadline, t time.Time, apply func(time.Time) error) error {
	d.at = t
	switch {
	case c.closed || !t.IsZero() && c.dl.soon(t):
		d.armed = !t.IsZero()
		return apply(t)
	case d.armed: // a deadline farther away, or none: clear the armed one
		d.armed = false
		return apply(time.Time{})
	}
	return nil
}

// arm passes the deadlines that have come near to the connection.
func (c *serverConn) arm() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.armOne(&c.read, c.Conn.SetReadDeadline)
	c.armOne(&c.write, c.Conn.SetWriteDeadline)
}

func (c *serverConn) armOne(d *deadline, apply func(time.Time) error) {
	if !d.armed && !d.at.IsZero() && c.dl.soon(d.at) {
		d.armed = true
		_ = apply(d.at) // fails only on a closed connection
	}
}

func (c *serverConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.dl.remove(c)
	return c.Conn.Close()
}

// Write counts the 431 answers net/http writes on its own (see
// headerTooLarge).
func (c *serverConn) Write(p []byte) (int, error) {
	if len(p) == len(headerTooLarge) && bytes.Equal(p, headerTooLarge) {
		c.refused.Inc()
	}
	return c.Conn.Write(p)
}

// CloseWrite keeps net/http's orderly close (FIN, then a pause so the
// client reads the answer instead of a reset), which it only does for
// connections that have CloseWrite.
func (c *serverConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom keeps the kernel's fast paths (sendfile, splice) for response
// bodies copied from a reader.
func (c *serverConn) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(c.Conn, r)
}
