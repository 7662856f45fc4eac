package echo_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/lifecycle/lifecycletest"
	"github.com/netlab/netlab/services/platform/poll"
	"github.com/netlab/netlab/services/platform/promset/promsettest"
	"github.com/netlab/netlab/services/tcp-echo/internal/config"
	"github.com/netlab/netlab/services/tcp-echo/internal/echo"
	"github.com/netlab/netlab/services/tcp-echo/internal/echo/echotest"
)

// running is a server under test.
type running struct {
	*lifecycletest.Started[*echo.Server]
}

func start(tb testing.TB, cfg config.Config) *running {
	tb.Helper()
	return &running{echotest.Start(tb, cfg)}
}

func (r *running) dial(tb testing.TB) *net.TCPConn {
	tb.Helper()
	c, err := net.Dial("tcp", r.Server.Addr().String())
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// served dials the server and has msg echoed once: an echo proves the
// connection was accepted and holds a slot.
func (r *running) served(tb testing.TB, msg string) *net.TCPConn {
	tb.Helper()
	c := r.dial(tb)
	if got := roundTrip(tb, c, []byte(msg)); string(got) != msg {
		tb.Fatalf("echo of %q = %q", msg, got)
	}
	return c
}

// roundTrip writes payload and reads the same number of bytes back,
// writing concurrently so large payloads cannot deadlock on full buffers.
func roundTrip(tb testing.TB, c net.Conn, payload []byte) []byte {
	tb.Helper()
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		tb.Fatal(err)
	}
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(payload)
		werr <- err
	}()
	got := make([]byte, len(payload))
	if _, err := io.ReadFull(c, got); err != nil {
		tb.Fatalf("read echo: %v", err)
	}
	if err := <-werr; err != nil {
		tb.Fatalf("write: %v", err)
	}
	return got
}

// inParallel runs client(0) to client(n-1) at once, each on its own
// goroutine, and reports every error they return.
func inParallel(t *testing.T, n int, client func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			if err := client(i); err != nil {
				errs <- fmt.Errorf("client %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// echoes writes msg on c and fails unless exactly msg comes back: for
// clients on goroutines, which cannot call t.Fatal.
func echoes(c net.Conn, msg []byte) error {
	if _, err := c.Write(msg); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if !bytes.Equal(got, msg) {
		return fmt.Errorf("got %q, not its own bytes", got)
	}
	return nil
}

// expectClosed fails unless the server closes c cleanly within 5 s: a read
// gets EOF, and no data.
func expectClosed(t *testing.T, c net.Conn, what string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("%s: read %d bytes, %v; want EOF", what, n, err)
	}
}

func randomBytes(tb testing.TB, n int) []byte {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestServer_EchoesPayload(t *testing.T) {
	r := start(t, echotest.Config())
	tests := []struct {
		name    string
		payload []byte
	}{
		{"tutorial greeting", []byte("Hello, world")},
		{"one byte", []byte{0}},
		{"exactly one buffer", randomBytes(t, 32<<10)},
		{"one MiB", randomBytes(t, 1<<20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := r.dial(t)
			if got := roundTrip(t, c, tt.payload); !bytes.Equal(got, tt.payload) {
				t.Fatalf("echo differs from what was sent (%d bytes)", len(tt.payload))
			}
		})
	}
}

func TestServer_EchoesManyMessagesOnOneConnection(t *testing.T) {
	r := start(t, echotest.Config())
	c := r.dial(t)
	for i := range 100 {
		msg := fmt.Appendf(nil, "message %d", i)
		if got := roundTrip(t, c, msg); !bytes.Equal(got, msg) {
			t.Fatalf("message %d: got %q", i, got)
		}
	}
}

func TestServer_ServesConcurrentClientsTheirOwnBytes(t *testing.T) {
	r := start(t, echotest.Config())
	inParallel(t, 300, func(i int) error {
		c, err := net.Dial("tcp", r.Server.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		return echoes(c, bytes.Repeat(fmt.Appendf(nil, "client-%04d;", i), 100))
	})
}

// Thousands of clients hold connections open at the same time, and each
// gets exactly its own bytes back.
func TestServer_ServesThousandsOfOpenConnections(t *testing.T) {
	const clients = 2000
	// Both ends live in this process: two descriptors per connection.
	var limit syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit); err == nil && limit.Cur < 2*clients+100 {
		t.Skipf("open-files limit %d is too low for %d connections", limit.Cur, clients)
	}
	cfg := echotest.Config()
	cfg.MaxConns = clients
	r := start(t, cfg)
	conns := make([]net.Conn, clients)
	for i := range conns {
		conns[i] = r.dial(t)
	}
	poll.Until(t, "every connection to be served", 5*time.Second, func() bool {
		return promsettest.Value(t, r.Registry, "netlab_tcp_echo_connections_active") == clients
	})
	inParallel(t, clients, func(i int) error {
		_ = conns[i].SetDeadline(time.Now().Add(20 * time.Second))
		return echoes(conns[i], fmt.Appendf(nil, "client %d of %d", i, clients))
	})
}

func TestServer_CountsConnectionsAndBytes(t *testing.T) {
	r := start(t, echotest.Config())
	c := r.served(t, "Hello, world")
	if got := promsettest.Value(t, r.Registry, "netlab_tcp_echo_connections_active"); got != 1 {
		t.Errorf("active = %v, want 1", got)
	}
	c.Close()
	poll.Until(t, "connection to be closed", 5*time.Second, func() bool {
		return promsettest.Value(t, r.Registry, "netlab_tcp_echo_connections_closed_total", "client_close") == 1
	})
	for name, want := range map[string]float64{
		"netlab_tcp_echo_connections_accepted_total": 1,
		"netlab_tcp_echo_connections_active":         0,
		"netlab_tcp_echo_bytes_received_total":       12,
		"netlab_tcp_echo_bytes_sent_total":           12,
	} {
		if got := promsettest.Value(t, r.Registry, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

func TestServer_RefusesConnectionsBeyondMaxConns(t *testing.T) {
	cfg := echotest.Config()
	cfg.MaxConns = 2
	r := start(t, cfg)
	first, second := r.served(t, "one"), r.served(t, "two")

	expectClosed(t, r.dial(t), "connection beyond MAX_CONNS")
	if got := promsettest.Value(t, r.Registry, "netlab_tcp_echo_connections_rejected_total", "max_conns"); got != 1 {
		t.Errorf("rejected = %v, want 1", got)
	}
	// Existing clients are unaffected, and a freed slot is reused.
	roundTrip(t, first, []byte("still here"))
	second.Close()
	poll.Until(t, "slot to be freed", 5*time.Second, func() bool {
		return promsettest.Value(t, r.Registry, "netlab_tcp_echo_connections_active") == 1
	})
	roundTrip(t, r.dial(t), []byte("new client"))
}

func TestServer_ClosesIdleConnections(t *testing.T) {
	cfg := echotest.Config()
	cfg.IdleTimeout = 200 * time.Millisecond
	r := start(t, cfg)
	c := r.served(t, "hi")
	expectClosed(t, c, "idle connection")
	poll.Until(t, "idle close to be counted", 5*time.Second, func() bool {
		return promsettest.Value(t, r.Registry, "netlab_tcp_echo_connections_closed_total", "idle_timeout") == 1
	})
}

func TestServer_DrainsOpenConnectionsOnShutdown(t *testing.T) {
	r := start(t, echotest.Config())
	c := r.served(t, "before")

	r.Stop()
	// New connections are refused once the listener is closed...
	poll.Until(t, "listener to close", 5*time.Second, func() bool {
		nc, err := net.DialTimeout("tcp", r.Server.Addr().String(), time.Second)
		if err == nil {
			nc.Close()
		}
		return err != nil
	})
	// ...while the open one is still echoed.
	if got := roundTrip(t, c, []byte("during drain")); string(got) != "during drain" {
		t.Fatalf("echo during drain = %q", got)
	}
	select {
	case <-r.Done():
		t.Fatalf("Serve returned (%v) while a connection was open", r.Wait(0))
	default:
	}
	// The client finishing ends the drain well before SHUTDOWN_TIMEOUT.
	c.Close()
	if err := r.Wait(4 * time.Second); err != nil {
		t.Fatalf("after the last client closed: %v", err)
	}
}

func TestServer_ClosesCleanlyWhenShutdownTimeoutPasses(t *testing.T) {
	cfg := echotest.Config()
	cfg.ShutdownTimeout = 300 * time.Millisecond
	r := start(t, cfg)
	c := r.served(t, "hello")

	r.Stop()
	expectClosed(t, c, "read after shutdown timeout")
	if err := r.Wait(5 * time.Second); err != nil {
		t.Fatalf("after the shutdown timeout: %v", err)
	}
	if got := promsettest.Value(t, r.Registry, "netlab_tcp_echo_connections_closed_total", "shutdown"); got != 1 {
		t.Errorf("closed{shutdown} = %v, want 1", got)
	}
}

func TestServer_IdleConnectionsHoldNoEchoBuffer(t *testing.T) {
	cfg := echotest.Config()
	cfg.BufferSize = 1 << 20 // 1 MiB each, so holding them would be obvious
	r := start(t, cfg)
	const conns = 100
	before := heapInUse()
	for range conns {
		roundTrip(t, r.dial(t), []byte("x"))
	}
	grown := heapInUse() - before
	// Holding a buffer per idle connection would be ≥ 100 MiB.
	if limit := uint64(conns * cfg.BufferSize / 4); grown > limit {
		t.Fatalf("heap grew %d MiB for %d idle connections; echo buffers are being held", grown>>20, conns)
	}
}

func heapInUse() uint64 {
	// Two collections empty sync.Pool's primary and victim caches.
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func TestNew_FailsOnBusyAddress(t *testing.T) {
	r := start(t, echotest.Config())
	cfg := echotest.Config()
	cfg.ListenAddr = r.Server.Addr().String()
	if _, _, err := lifecycletest.Build(echo.New, cfg); err == nil {
		t.Fatal("New on an address in use: want an error")
	}
}
