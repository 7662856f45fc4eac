package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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
	d := net.Dialer{Timeout: IOTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return conn, nil
}

// ExpectEcho sends msg on conn and fails t unless exactly msg comes back.
func ExpectEcho(t testing.TB, conn net.Conn, msg []byte) {
	t.Helper()
	got, err := RoundTrip(conn, msg, time.Now().Add(IOTimeout))
	if err != nil {
		t.Fatalf("echo %q: %v", Abbrev(msg), err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo: sent %q, got %q", Abbrev(msg), Abbrev(got))
	}
}

// RoundTrip writes payload while reading len(payload) bytes back, so large
// payloads cannot deadlock on full socket buffers. It returns what was read.
func RoundTrip(conn net.Conn, payload []byte, deadline time.Time) ([]byte, error) {
	if err := conn.SetDeadline(deadline); err != nil {
		return nil, err
	}
	defer conn.SetDeadline(time.Time{}) //nolint:errcheck // best effort reset

	werr := make(chan error, 1)
	go func() {
		_, err := conn.Write(payload)
		werr <- err
	}()
	got := make([]byte, len(payload))
	n, rerr := io.ReadFull(conn, got)
	if err := <-werr; err != nil {
		return got[:n], fmt.Errorf("write: %w", err)
	}
	if rerr != nil {
		return got[:n], fmt.Errorf("read after %d of %d bytes: %w", n, len(payload), rerr)
	}
	return got, nil
}

// IsClosedByPeer reports whether err means the peer closed or reset the
// connection, or refused it (as opposed to a timeout).
func IsClosedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNREFUSED)
}

// HTTPGet returns the status code and body of GET url, within 5 seconds.
func HTTPGet(ctx context.Context, url string) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// Poll calls cond every interval until it returns nil or timeout passes; it
// returns cond's last error on timeout. It is the one way the tests wait for
// something to become true.
func Poll(ctx context.Context, timeout, interval time.Duration, cond func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("after %s: %w", timeout, err)
		case <-tick.C:
		}
	}
}

// FirstDiff returns the index of the first byte where got and want differ
// (including a length difference), or -1 if they are equal.
func FirstDiff(got, want []byte) int {
	if bytes.Equal(got, want) {
		return -1
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return i
		}
	}
	return min(len(got), len(want))
}

// Abbrev shortens long payloads in failure messages.
func Abbrev(b []byte) []byte {
	const limit = 64
	if len(b) <= limit {
		return b
	}
	return append(append([]byte(nil), b[:limit]...), fmt.Sprintf("...(%d bytes)", len(b))...)
}
