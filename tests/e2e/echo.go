package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

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
