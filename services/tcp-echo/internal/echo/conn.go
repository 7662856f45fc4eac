package echo

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// conn is one client connection and its counters.
type conn struct {
	server *Server
	tcp    *net.TCPConn
	id     uint64
	start  time.Time

	bytesIn, bytesOut int64
	peek              [1]byte // scratch space for waitReadable
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

// echo copies what the client sends back to it and returns why it stopped.
//
// Memory stays bounded by holding a BUFFER_SIZE buffer only while data
// flows: between bursts the connection waits for readability through the
// runtime poller without a buffer, so ten thousand idle clients cost ten
// thousand goroutine stacks and no echo buffers.
func (c *conn) echo() (reason string, err error) {
	s := c.server
	raw, err := c.tcp.SyscallConn()
	if err != nil {
		return reasonRead, err
	}
	for {
		if err := c.tcp.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout)); err != nil {
			return reasonRead, err
		}
		if err := c.waitReadable(raw); err != nil {
			return c.readFailure(err)
		}
		if reason, err := c.echoBurst(); reason != "" {
			return reason, err
		}
	}
}

// echoBurst borrows a buffer and echoes until a read comes back short,
// which means the socket's receive queue was drained. It returns a reason
// when the connection should end.
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
			c.bytesIn += int64(n)
			s.metrics.bytesReceived.Add(float64(n))
			if err := c.tcp.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout)); err != nil {
				return reasonWrite, err
			}
			w, werr := c.tcp.Write(buf[:n])
			c.bytesOut += int64(w)
			s.metrics.bytesSent.Add(float64(w))
			if werr != nil {
				if s.forced.Load() {
					return reasonShutdown, nil
				}
				return reasonWrite, werr
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

// waitReadable blocks until the socket has data, an end of stream or an
// error, or the read deadline passes, without reading anything: it peeks at
// one byte and, while there is none, parks on the runtime poller.
func (c *conn) waitReadable(raw syscall.RawConn) error {
	var peekErr error
	err := raw.Read(func(fd uintptr) bool {
		_, _, peekErr = syscall.Recvfrom(int(fd), c.peek[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return !errors.Is(peekErr, syscall.EAGAIN)
	})
	if err != nil {
		return err
	}
	// Any other error (a reset, say) is left for the Read that follows.
	return nil
}
