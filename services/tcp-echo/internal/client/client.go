// Package client is the tcp-echo client: a single echo (what the Python
// tutorial client does), a series of RTT probes on one connection, and a bulk
// transfer that verifies every echoed byte. It uses only the standard library.
package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/neterr"
)

// Defaults and limits of the client.
const (
	AddrEnv         = "TCP_ECHO_ADDR"   // environment variable with the default address
	DefaultAddr     = "127.0.0.1:65432" // used when neither a flag nor AddrEnv is set
	DefaultMessage  = "Hello, world"    // what the tutorial client sends
	DefaultTimeout  = 5 * time.Second
	DefaultInterval = time.Second

	MaxMessageSize = 1 << 20    // 1 MiB
	MaxCount       = 10_000_000 // probes in one run
	MaxBulkSize    = 64 << 30   // 64 GiB
)

// inlineWriteMax is the largest message written before reading on the same
// goroutine; larger ones are written concurrently so that full TCP buffers
// on both sides cannot deadlock the exchange.
const inlineWriteMax = 16 << 10

// Client talks to one tcp-echo server. The zero Timeout means DefaultTimeout.
// A Client holds no connection between calls and is safe for concurrent use.
type Client struct {
	Addr    string        // host:port of the server
	Timeout time.Duration // bounds dialing and each read/write wait
}

func (c *Client) timeout() time.Duration { return clientcli.OrDefault(c.Timeout, DefaultTimeout) }

// EchoResult is the outcome of one Echo.
type EchoResult struct {
	Addr     string
	Sent     []byte
	Received []byte // what came back (a prefix of it on error)
	RTT      time.Duration
}

// Echo connects, sends msg, reads len(msg) bytes back, checks them and
// closes the connection. Errors are *DialError, *TimeoutError,
// *MismatchError, *ShortEchoError, the context's error, or an I/O error.
func (c *Client) Echo(ctx context.Context, msg []byte) (EchoResult, error) {
	res := EchoResult{Addr: c.Addr, Sent: msg}
	if err := clientcli.CheckMessage(msg, MaxMessageSize); err != nil {
		return res, err
	}
	conn, err := c.dial(ctx)
	if err != nil {
		return res, err
	}
	defer conn.close()
	buf := make([]byte, len(msg))
	rtt, n, err := c.exchange(conn, msg, buf)
	res.Received = buf[:n]
	if err != nil {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		return res, err
	}
	res.RTT = rtt
	return res, nil
}

// conn is a connection that is closed when the context of its dial ends.
type conn struct {
	net.Conn
	stop func() bool
}

func (c *conn) close() {
	c.stop()
	_ = c.Conn.Close()
}

func (c *Client) dial(ctx context.Context) (*conn, error) {
	d := net.Dialer{Timeout: c.timeout()}
	nc, err := d.DialContext(ctx, "tcp", c.Addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &DialError{Addr: c.Addr, Timeout: c.timeout(), Err: err}
	}
	return &conn{Conn: nc, stop: context.AfterFunc(ctx, func() { _ = nc.Close() })}, nil
}

// exchange sends msg and reads its echo into buf (len(buf) >= len(msg)),
// all within one timeout. It returns the round-trip time and how many bytes
// of buf hold echoed data.
func (c *Client) exchange(nc net.Conn, msg, buf []byte) (time.Duration, int, error) {
	t := c.timeout()
	start := time.Now()
	if err := nc.SetDeadline(start.Add(t)); err != nil {
		return 0, 0, &neterr.OpError{Op: "send", Err: err}
	}
	var werrc chan error
	if len(msg) <= inlineWriteMax {
		if _, err := nc.Write(msg); err != nil {
			return 0, 0, writeError(err, t)
		}
	} else {
		werrc = make(chan error, 1)
		go func() {
			_, err := nc.Write(msg)
			werrc <- err
		}()
	}
	n, err := readEcho(nc, msg, buf, t)
	rtt := time.Since(start)
	if werrc != nil {
		if err != nil {
			_ = nc.SetWriteDeadline(time.Unix(1, 0)) // unblock the writer now
		}
		if werr := <-werrc; werr != nil && err == nil {
			err = writeError(werr, t)
		}
	}
	return rtt, n, err
}

func readEcho(nc net.Conn, msg, buf []byte, t time.Duration) (int, error) {
	got := 0
	for got < len(msg) {
		n, err := nc.Read(buf[got:len(msg)])
		if n > 0 {
			if !bytes.Equal(buf[got:got+n], msg[got:got+n]) {
				i := got + firstDiff(buf[got:got+n], msg[got:got+n])
				return got + n, &MismatchError{
					Offset:   int64(i),
					Sent:     msg,
					Received: bytes.Clone(buf[:got+n]),
				}
			}
			got += n
		}
		if err != nil && got < len(msg) {
			return got, readError(err, t, int64(got), int64(len(msg)), false)
		}
	}
	return got, nil
}

func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// DialError reports that the server could not be reached.
type DialError struct {
	Addr    string
	Timeout time.Duration
	Err     error
}

func (e *DialError) Error() string {
	if neterr.IsTimeout(e.Err) {
		return fmt.Sprintf("cannot reach %s: timed out after %s", e.Addr, e.Timeout)
	}
	return fmt.Sprintf("cannot reach %s: %s", e.Addr, neterr.Reason(e.Err))
}

func (e *DialError) Unwrap() error { return e.Err }

// TimeoutError reports that a read or write made no progress within the
// timeout.
type TimeoutError struct {
	After time.Duration
	Op    string // "waiting for echo" or "sending"
	// Done and Total, when Total > 0, say how far a bulk transfer got.
	Done, Total int64
}

func (e *TimeoutError) Error() string {
	s := fmt.Sprintf("timed out after %s %s", e.After, e.Op)
	if e.Total > 0 {
		s += fmt.Sprintf(" (%d of %d bytes echoed)", e.Done, e.Total)
	}
	return s
}

// Timeout reports true, like net.Error.
func (e *TimeoutError) Timeout() bool { return true }

func (e *TimeoutError) Unwrap() error { return os.ErrDeadlineExceeded }

// MismatchError reports that an echoed byte differs from the sent one.
type MismatchError struct {
	Offset   int64  // position of the first differing byte in the stream
	At       int64  // position of Sent[0] and Received[0] in the stream
	Sent     []byte // sent bytes from At (for a message: all of it)
	Received []byte // received bytes from At, up to and past Offset
}

// maxQuoted is the longest message quoted whole in a MismatchError.
const maxQuoted = 64

func (e *MismatchError) Error() string {
	if e.At == 0 && len(e.Sent) <= maxQuoted && len(e.Received) <= maxQuoted {
		return fmt.Sprintf("echo mismatch: sent %q, received %q", e.Sent, e.Received)
	}
	i := e.Offset - e.At
	if i >= 0 && i < int64(len(e.Sent)) && i < int64(len(e.Received)) {
		return fmt.Sprintf("echo mismatch at offset %d: sent 0x%02x, received 0x%02x", e.Offset, e.Sent[i], e.Received[i])
	}
	return fmt.Sprintf("echo mismatch at offset %d", e.Offset)
}

// ShortEchoError reports that the server closed the connection before
// echoing everything.
type ShortEchoError struct {
	Echoed, Sent int64
}

func (e *ShortEchoError) Error() string {
	return fmt.Sprintf("server closed the connection after echoing %d of %d bytes", e.Echoed, e.Sent)
}

func readError(err error, t time.Duration, done, total int64, progress bool) error {
	switch {
	case errors.Is(err, io.EOF):
		return &ShortEchoError{Echoed: done, Sent: total}
	case neterr.IsTimeout(err):
		te := &TimeoutError{After: t, Op: "waiting for echo"}
		if progress {
			te.Done, te.Total = done, total
		}
		return te
	}
	return &neterr.OpError{Op: "receive", Err: err}
}

func writeError(err error, t time.Duration) error {
	if neterr.IsTimeout(err) {
		return &TimeoutError{After: t, Op: "sending"}
	}
	return &neterr.OpError{Op: "send", Err: err}
}
