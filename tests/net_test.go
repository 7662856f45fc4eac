package tests_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ioTimeout bounds every dial, read and write of the tests.
const ioTimeout = 30 * time.Second

// dial connects to addr and closes the connection when t ends.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := netDial(t.Context(), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// netDial connects to addr within ioTimeout.
func netDial(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: ioTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return conn, nil
}

// expectEcho sends msg on conn and fails t unless exactly msg comes back.
func expectEcho(t *testing.T, conn net.Conn, msg []byte) {
	t.Helper()
	got, err := roundTrip(conn, msg, time.Now().Add(ioTimeout))
	if err != nil {
		t.Fatalf("echo %q: %v", abbrev(msg), err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo: sent %q, got %q", abbrev(msg), abbrev(got))
	}
}

// roundTrip writes payload while reading len(payload) bytes back, so large
// payloads cannot deadlock on full socket buffers. It returns what was read.
func roundTrip(conn net.Conn, payload []byte, deadline time.Time) ([]byte, error) {
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

// noEchoOnNewConn returns nil if a new connection to addr is refused, reset
// or closed without an echo, i.e. the server no longer accepts. Through
// Docker's userland proxy the dial itself succeeds and the proxy closes the
// connection when it cannot reach the container.
func noEchoOnNewConn(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil // refused
	}
	defer conn.Close()
	msg := []byte("are you there?")
	got, err := roundTrip(conn, msg, time.Now().Add(2*time.Second))
	switch {
	case err == nil && bytes.Equal(got, msg):
		return errors.New("a new connection was accepted and echoed")
	case err == nil:
		return fmt.Errorf("a new connection got %q", got)
	case isClosedByPeer(err):
		return nil
	default:
		return fmt.Errorf("new connection: %w", err)
	}
}

// isClosedByPeer reports whether err means the peer closed or reset the
// connection (as opposed to a timeout).
func isClosedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNREFUSED)
}

// httpGet returns the status code and body of GET url.
func httpGet(ctx context.Context, url string) (int, string, error) {
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

// metricValue sums the samples of metric in a Prometheus text exposition
// whose label set contains every one of labels (each written as in the
// exposition, e.g. `reason="rate_limited"`); with no labels, every sample
// counts. found is false if no sample matched.
func metricValue(exposition, metric string, labels ...string) (sum float64, found bool, err error) {
	sc := bufio.NewScanner(strings.NewReader(exposition))
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, metric)
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		var labelSet string
		if i := strings.LastIndexByte(rest, '}'); i >= 0 {
			labelSet, rest = rest[:i+1], rest[i+1:]
		}
		if !hasLabels(labelSet, labels) {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return 0, false, fmt.Errorf("malformed sample %q", line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return 0, false, fmt.Errorf("sample %q: %w", line, err)
		}
		sum += v
		found = true
	}
	return sum, found, sc.Err()
}

// hasLabels reports whether the label set "{a="x",b="y"}" contains every
// name="value" pair of want.
func hasLabels(labelSet string, want []string) bool {
	if len(want) == 0 {
		return true
	}
	inner := strings.TrimSuffix(strings.TrimPrefix(labelSet, "{"), "}")
	for _, w := range want {
		if !slices.Contains(strings.Split(inner, ","), w) {
			return false
		}
	}
	return true
}

// scrapeMetric fetches http://adminAddr/metrics and returns metricValue of
// it; a metric that is missing is an error.
func scrapeMetric(ctx context.Context, adminAddr, metric string, labels ...string) (float64, error) {
	code, body, err := httpGet(ctx, "http://"+adminAddr+"/metrics")
	if err != nil {
		return 0, err
	}
	if code != http.StatusOK {
		return 0, fmt.Errorf("GET /metrics = %d", code)
	}
	v, found, err := metricValue(body, metric, labels...)
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, fmt.Errorf("/metrics has no %s%v", metric, labels)
	}
	return v, nil
}

// abbrev shortens long payloads in failure messages.
func abbrev(b []byte) []byte {
	const limit = 64
	if len(b) <= limit {
		return b
	}
	return append(append([]byte(nil), b[:limit]...), fmt.Sprintf("...(%d bytes)", len(b))...)
}
