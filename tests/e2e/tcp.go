package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// IOTimeout bounds every dial, read and write of the tests.
const IOTimeout = 30 * time.Second

// Dial connects to addr and closes the connection when t ends.
func Dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	conn, err := DialContext(t.Context(), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// DialContext connects to addr over TCP within IOTimeout.
func DialContext(ctx context.Context, addr string) (net.Conn, error) {
	conn, err := DialWithin(ctx, addr, IOTimeout)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return conn, nil
}

// DialWithin connects to addr over TCP within timeout. Loads and probes
// that must notice a closed listener quickly use it with a short timeout.
func DialWithin(ctx context.Context, addr string, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	return d.DialContext(ctx, "tcp", addr)
}

// IsClosedByPeer reports whether err means the peer closed or reset the
// connection, or refused it (as opposed to a timeout).
func IsClosedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		IsRefused(err)
}

// IsRefused reports whether err means a dial was refused: nothing listens
// on the address (any more), so nothing was sent.
func IsRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}
