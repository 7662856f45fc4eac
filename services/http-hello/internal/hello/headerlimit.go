package hello

import (
	"bytes"
	"io"
	"net"

	"github.com/prometheus/client_golang/prometheus"
)

// headerTooLarge is the whole response net/http writes, on its own and
// before any handler runs, when a request's header block is over
// MAX_HEADER_BYTES (net/http's conn.serve, errTooLarge). A handler's
// response always carries a Date header, so it never equals this.
var headerTooLarge = []byte("HTTP/1.1 431 Request Header Fields Too Large\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n" +
	"431 Request Header Fields Too Large")

// headerLimitListener wraps accepted connections so the 431 answers that
// net/http sends itself are counted: no handler, and so no route metric,
// ever sees those requests.
type headerLimitListener struct {
	net.Listener
	refused prometheus.Counter
}

func (l *headerLimitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &headerLimitConn{Conn: c, refused: l.refused}, nil
}

type headerLimitConn struct {
	net.Conn
	refused prometheus.Counter
}

func (c *headerLimitConn) Write(p []byte) (int, error) {
	if len(p) == len(headerTooLarge) && bytes.Equal(p, headerTooLarge) {
		c.refused.Inc()
	}
	return c.Conn.Write(p)
}

// CloseWrite keeps net/http's orderly close (FIN, then a pause so the
// client reads the answer instead of a reset), which it only does for
// connections that have CloseWrite.
func (c *headerLimitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom keeps the kernel's fast paths (sendfile, splice) for response
// bodies copied from a reader.
func (c *headerLimitConn) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(c.Conn, r)
}
