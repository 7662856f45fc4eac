// Package udpclient is the udp-responder client: a single request and
// reply (what the Python tutorial client does, with retries since UDP loses
// datagrams), the tutorial's "exit", probe runs that measure loss,
// reordering, duplication, corruption, round-trip time and jitter with the
// numbered datagrams of package probe, and closed-loop load runs (Load)
// with the same datagrams. It uses only the standard library.
package udpclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/netlab/netlab/services/udp-responder/probe"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/neterr"
)

// Defaults and limits of the client.
const (
	AddrEnv        = "UDP_SERVER_ADDR" // environment variable with the default address
	DefaultAddr    = "127.0.0.1:12345" // used when neither a flag nor AddrEnv is set
	DefaultMessage = "Hello, server!"  // what the tutorial client sends
	DefaultTimeout = 2 * time.Second
	DefaultTries   = 3

	DefaultRate        = 1000               // probes per second, for the command line
	DefaultSize        = probe.HeaderSizeV2 // probe datagram size in bytes: the smallest version 2 probe
	DefaultConnections = 1                  // sockets of a probe or load run

	MaxMessageSize   = probe.MaxSize // the largest UDP payload over IPv4
	MaxTries         = 100
	MaxCount         = 10_000_000            // probes in one run
	MinProbeDuration = 10 * time.Millisecond // --duration of a probe run
	MaxProbeDuration = 24 * time.Hour
	MaxRate          = 10_000_000 // probes per second
	MaxConnections   = 256        // sockets in one run
)

// socketBuffer is the receive and send buffer asked for on every socket;
// the kernel caps it (net.core.rmem_max), which is fine.
const socketBuffer = 4 << 20

// Client talks to one udp-responder. Zero fields mean their defaults.
// A Client holds no socket between calls and is safe for concurrent use.
type Client struct {
	Addr string // host:port of the server
	// Timeout is how long Send waits for a reply to each try, and how long
	// Probe waits for the last replies after its last send.
	Timeout time.Duration
	Tries   int // how many times Send sends before giving up
}

func (c *Client) timeout() time.Duration { return clientcli.OrDefault(c.Timeout, DefaultTimeout) }

func (c *Client) tries() int { return clientcli.OrDefault(c.Tries, DefaultTries) }

// Reply is the outcome of Send.
type Reply struct {
	Addr     string
	Sent     []byte
	Received []byte
	RTT      time.Duration // from the send of the try that was answered
	Tries    int           // sends made, the answered one included
}

// Send sends msg and waits up to Timeout for a reply; if none comes it sends
// again, up to Tries times in all. Any datagram from the server is the
// reply. Errors are *DialError, *NoReplyError, the context's error, or an
// I/O error.
func (c *Client) Send(ctx context.Context, msg []byte) (Reply, error) {
	res := Reply{Addr: c.Addr, Sent: msg}
	conn, err := c.dialFor(ctx, msg)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	// A canceled context unblocks the read at once.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	buf := make([]byte, probe.MaxSize+1)
	refused := false
	for try := 1; try <= c.tries(); try++ {
		start := time.Now()
		if err := conn.SetReadDeadline(start.Add(c.timeout())); err != nil {
			return res, &neterr.OpError{Op: "receive", Err: err}
		}
		if ctx.Err() != nil { // checked after setting the deadline: see AfterFunc
			return res, ctx.Err()
		}
		n, err := writeDatagram(conn, msg)
		refused = refused || n > 0
		if err != nil {
			return res, &neterr.OpError{Op: "send", Err: err}
		}
		res.Tries = try
		for {
			n, err := conn.Read(buf)
			if err == nil {
				res.RTT = time.Since(start)
				res.Received = append([]byte(nil), buf[:n]...)
				return res, nil
			}
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			if isRefused(err) {
				// An ICMP port unreachable: nothing listens there now. Keep
				// waiting out this try; the server may be starting.
				refused = true
				continue
			}
			if neterr.IsTimeout(err) {
				break
			}
			return res, &neterr.OpError{Op: "receive", Err: err}
		}
	}
	return res, &NoReplyError{Addr: c.Addr, Tries: res.Tries, Timeout: c.timeout(), Refused: refused}
}

// Exit sends the tutorial's "exit" with the server's shutdown token
// ("exit TOKEN") and waits for nothing: the server sends no reply.
func (c *Client) Exit(ctx context.Context, token string) error {
	msg := []byte("exit " + token)
	conn, err := c.dialFor(ctx, msg)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := writeDatagram(conn, msg); err != nil {
		return &neterr.OpError{Op: "send", Err: err}
	}
	return nil
}

// dialFor checks msg, then dials the socket to send it on.
func (c *Client) dialFor(ctx context.Context, msg []byte) (*net.UDPConn, error) {
	if err := clientcli.CheckMessage(msg, MaxMessageSize); err != nil {
		return nil, err
	}
	return c.dial(ctx)
}

// dial resolves c.Addr and returns a socket connected to it: the kernel then
// delivers only datagrams from the server, and reports ICMP errors.
func (c *Client) dial(ctx context.Context) (*net.UDPConn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "udp", c.Addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &DialError{Addr: c.Addr, Err: err}
	}
	conn := nc.(*net.UDPConn)
	_ = conn.SetReadBuffer(socketBuffer)
	_ = conn.SetWriteBuffer(socketBuffer)
	return conn, nil
}

// writeDatagram writes b as one datagram. On Linux an ICMP port unreachable
// for an earlier datagram makes the next write fail with ECONNREFUSED
// without sending; reporting clears it, so the write is tried again. It
// returns how many such errors it saw.
func writeDatagram(conn *net.UDPConn, b []byte) (refused int, err error) {
	for range 3 {
		if _, err = conn.Write(b); err == nil || !isRefused(err) {
			return refused, err
		}
		refused++
	}
	return refused, err
}

// DialError reports that the server address could not be resolved or used.
type DialError struct {
	Addr string
	Err  error
}

func (e *DialError) Error() string {
	var dns *net.DNSError
	if errors.As(e.Err, &dns) {
		return fmt.Sprintf("cannot resolve %s: %s", e.Addr, neterr.Reason(e.Err))
	}
	return fmt.Sprintf("cannot reach %s: %s", e.Addr, neterr.Reason(e.Err))
}

func (e *DialError) Unwrap() error { return e.Err }

// NoReplyError reports that Send got no reply to any of its tries.
type NoReplyError struct {
	Addr    string
	Tries   int
	Timeout time.Duration // per try
	Refused bool          // an ICMP port unreachable came back
}

func (e *NoReplyError) Error() string {
	tries := "tries"
	if e.Tries == 1 {
		tries = "try"
	}
	s := fmt.Sprintf("no reply from %s after %d %s (%s each)", e.Addr, e.Tries, tries, e.Timeout)
	if e.Refused {
		s += ": connection refused (nothing listening on that port?)"
	}
	return s
}

func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
