package echo

import (
	"errors"
	"io"
	"net"
	"os"
	"time"

	"go.uber.org/zap"
)

// conn is one client connection and its counters.
type conn struct {
	server  *Server
	tcp     *net.TCPConn
	id      uint64
	start   time.Time
	release func() // frees the connection's MAX_CONNS slot

	bytesIn, bytesOut int64
	small             [smallBufferSize]byte
}

// serve echoes until the client closes, a limit is hit or shutdown forces
// the connection closed, then releases everything the connection held.
func (c *conn) serve() {
	s := c.server
	log := s.log.With(zap.Stringer("remote", c.tcp.RemoteAddr()), zap.Uint64("conn_id", c.id))
	log.Info("connection opened")

	reason, err := c.echo()
	if reason == reasonShutdown || reason == reasonIdle {
		c.closeGracefully()
	} else {
		_ = c.tcp.Close()
	}

	s.metrics.closed.WithLabelValues(reason).Inc()
	fields := []zap.Field{
		zap.String("reason", reason),
		zap.Int64("bytes_in", c.bytesIn),
		zap.Int64("bytes_out", c.bytesOut),
		zap.Duration("duration", time.Since(c.start)),
	}
	if err != nil {
		fields = append(fields, zap.Error(err))
	}
	log.Info("connection closed", fields...)
	s.untrack(c)
}

// smallBufferSize is the buffer every connection owns. Most messages fit in
// it; a read that fills it means a burst, which borrows a BUFFER_SIZE buffer.
const smallBufferSize = 512

// echo copies what the client sends back to it and returns why it stopped.
//
// Memory stays bounded by owning only a small buffer and borrowing a
// BUFFER_SIZE one while a burst lasts: ten thousand idle clients cost ten
// thousand goroutine stacks and small buffers, and no echo buffers.
func (c *conn) echo() (reason string, err error) {
	s := c.server
	for {
		if err := c.tcp.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout)); err != nil {
			return reasonRead, err
		}
		n, rerr := c.tcp.Read(c.small[:])
		if n > 0 {
			if reason, err := c.write(c.small[:n]); reason != "" {
				return reason, err
			}
		}
		if rerr != nil {
			return c.readFailure(rerr)
		}
		if n == len(c.small) {
			if reason, err := c.echoBurst(); reason != "" {
				return reason, err
			}
		}
	}
}

// echoBurst borrows a buffer and echoes until a read comes back short,
// which means the socket's receive queue was drained; the buffer then goes
// back to the pool. It returns a reason when the connection should end.
func (c *conn) echoBurst() (reason string, err error) {
	s := c.server
	bp := s.buffers.Get().(*[]byte)
	defer s.buffers.Put(bp)
	buf := *bp
	for {
		if err := c.tcp.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout)); err != nil {
			return reasonRead, err
		}
		n, rerr := c.tcp.Read(buf)
		if n > 0 {
			if reason, err := c.write(buf[:n]); reason != "" {
				return reason, err
			}
		}
		if rerr != nil {
			return c.readFailure(rerr)
		}
		if n < len(buf) {
			return "", nil
		}
	}
}

// write echoes p, counting what was read and written. It returns a reason
// when the connection should end.
func (c *conn) write(p []byte) (reason string, err error) {
	s := c.server
	c.bytesIn += int64(len(p))
	s.metrics.bytesReceived.Add(float64(len(p)))
	if err := c.tcp.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout)); err != nil {
		return reasonWrite, err
	}
	n, err := c.tcp.Write(p)
	c.bytesOut += int64(n)
	s.metrics.bytesSent.Add(float64(n))
	switch {
	case err == nil:
		return "", nil
	case s.forced.Load():
		return reasonShutdown, nil
	default:
		return reasonWrite, err
	}
}

// readFailure classifies an error from reading or waiting to read.
func (c *conn) readFailure(err error) (string, error) {
	switch {
	case c.server.forced.Load():
		return reasonShutdown, nil
	case errors.Is(err, io.EOF):
		return reasonClientClose, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return reasonIdle, nil
	default:
		return reasonRead, err
	}
}

// interrupt makes a blocked read or write return at once; serve then sees
// that shutdown was forced and closes the connection.
func (c *conn) interrupt() {
	_ = c.tcp.SetDeadline(time.Now())
}

// closeGracefully sends FIN, then reads and discards until the client closes
// too (or lingerTimeout passes), so the client sees an orderly end of stream
// rather than a reset caused by bytes we never read.
func (c *conn) closeGracefully() {
	defer c.tcp.Close()
	if err := c.tcp.CloseWrite(); err != nil {
		return
	}
	if err := c.tcp.SetReadDeadline(time.Now().Add(lingerTimeout)); err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(c.tcp, 1<<20))
}
