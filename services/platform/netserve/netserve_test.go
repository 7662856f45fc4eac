package netserve_test

import (
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/netlab/netlab/services/platform/netserve"
)

// scriptedListener fails Accept with the scripted errors in turn; a nil
// entry, and everything after the script, accepts from the real listener.
type scriptedListener struct {
	net.Listener
	mu     sync.Mutex
	script []error
}

func (l *scriptedListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	var err error
	if len(l.script) > 0 {
		err, l.script = l.script[0], l.script[1:]
	}
	l.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return l.Listener.Accept()
}

func acceptErr(errno syscall.Errno) error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", errno)}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func dial(t *testing.T, addr net.Addr) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// start runs a loop until the test ends and returns a channel of the
// connections it served (each with its release) and one of those it
// refused.
func start(t *testing.T, ln net.Listener, log *zap.Logger, maxConns int) (served chan servedConn, refused chan net.Conn, done chan struct{}) {
	t.Helper()
	served, refused, done = make(chan servedConn, 16), make(chan net.Conn, 16), make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	loop := netserve.New(ln, log, maxConns, func(c net.Conn) { c.Close(); refused <- c })
	go func() {
		defer close(done)
		loop.Run(ctx, func(c net.Conn, release func()) { served <- servedConn{c, release} })
	}()
	t.Cleanup(func() { cancel(); <-done })
	return served, refused, done
}

type servedConn struct {
	net.Conn
	release func()
}

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func TestLoop_BacksOffOnAcceptErrorsAndResetsAfterASuccess(t *testing.T) {
	t.Parallel()
	emfile, aborted := acceptErr(syscall.EMFILE), acceptErr(syscall.ECONNABORTED)
	ln := &scriptedListener{Listener: listen(t), script: []error{emfile, emfile, emfile, nil, aborted, nil}}
	core, logs := observer.New(zapcore.DebugLevel)
	served, _, _ := start(t, ln, zap.New(core), 4)

	for i := range 2 {
		c := dial(t, ln.Addr())
		s := receive(t, served, "a served connection")
		if s.RemoteAddr().String() != c.LocalAddr().String() {
			t.Errorf("connection %d: served %s, dialed from %s", i, s.RemoteAddr(), c.LocalAddr())
		}
		s.release()
	}
	var waits []time.Duration
	for _, e := range logs.FilterMessage("accept failed; retrying").All() {
		if e.Level != zapcore.WarnLevel {
			t.Errorf("accept failure logged at %s, want warn", e.Level)
		}
		d, _ := e.ContextMap()["backoff"].(time.Duration)
		waits = append(waits, d)
	}
	want := []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 5 * time.Millisecond}
	if !slices.Equal(waits, want) {
		t.Errorf("backoffs logged = %v, want %v (doubling, reset after a success)", waits, want)
	}
}

func TestLoop_RefusesOverTheLimitUntilASlotIsReleased(t *testing.T) {
	t.Parallel()
	ln := listen(t)
	core, logs := observer.New(zapcore.DebugLevel)
	served, refused, _ := start(t, ln, zap.New(core), 2)

	dial(t, ln.Addr())
	receive(t, served, "the first connection")
	dial(t, ln.Addr())
	second := receive(t, served, "the second connection")

	over := dial(t, ln.Addr())
	r := receive(t, refused, "a refused connection")
	if r.RemoteAddr().String() != over.LocalAddr().String() {
		t.Errorf("refused %s, want the third connection %s", r.RemoteAddr(), over.LocalAddr())
	}
	if n := logs.FilterMessage("connection refused: MAX_CONNS reached").FilterField(zap.Int("max_conns", 2)).Len(); n != 1 {
		t.Errorf("%d refusals logged with max_conns=2, want 1", n)
	}

	second.release()
	dial(t, ln.Addr())
	receive(t, served, "a connection after a slot was released")
	select {
	case c := <-refused:
		t.Errorf("%s refused with a slot free", c.RemoteAddr())
	default:
	}
}

// Not parallel, nor its subtests: a port closed here could be taken by
// a listener another test opens at that moment, and the dial below would
// reach it.
func TestLoop_Returns(t *testing.T) {
	tests := []struct {
		name   string
		script []error // accept errors before the real listener
		stop   func(cancel context.CancelFunc, ln net.Listener)
	}{
		{"when the listener is closed", nil, func(_ context.CancelFunc, ln net.Listener) { ln.Close() }},
		{"when ctx ends, closing the listener", nil, func(cancel context.CancelFunc, _ net.Listener) { cancel() }},
		{
			"when ctx ends during a backoff",
			slices.Repeat([]error{acceptErr(syscall.EMFILE)}, 100),
			func(cancel context.CancelFunc, _ net.Listener) { cancel() },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			real := listen(t)
			ln := &scriptedListener{Listener: real, script: tt.script}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			loop := netserve.New(ln, zap.NewNop(), 1, func(c net.Conn) { c.Close() })
			done := make(chan struct{})
			go func() {
				defer close(done)
				loop.Run(ctx, func(c net.Conn, release func()) { c.Close(); release() })
			}()
			// One connection first, so the loop is running when it stops.
			if tt.script == nil {
				c := dial(t, real.Addr())
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.Read(make([]byte, 1)); err == nil {
					t.Fatal("served connection not closed")
				}
			}
			tt.stop(cancel, real)
			receive(t, done, "Run to return")
			// A listener left open fails here after a second, not at the
			// test's timeout.
			_ = real.(*net.TCPListener).SetDeadline(time.Now().Add(time.Second))
			if _, err := real.Accept(); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("Accept after Run returned: %v, want net.ErrClosed", err)
			}
			if c, err := net.Dial("tcp", real.Addr().String()); err == nil {
				c.Close()
				t.Error("listener still accepts after Run returned")
			} else if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("dial after Run returned: %v, want connection refused", err)
			}
		})
	}
}

// Listen makes the metrics first, and opens no port when they fail.
func TestListen(t *testing.T) {
	errDup := errors.New("duplicate metrics collector registration attempted")
	metrics := func(err error) func(prometheus.Registerer) (string, error) {
		return func(prometheus.Registerer) (string, error) { return "m", err }
	}
	tests := []struct {
		name, addr, wantErr string
		metricsErr          error
	}{
		{name: "listens", addr: "127.0.0.1:0"},
		{name: "metrics fail", addr: "127.0.0.1:0", metricsErr: errDup, wantErr: "metrics: " + errDup.Error()},
		{name: "bad address", addr: "127.0.0.1", wantErr: "listen tcp: address 127.0.0.1: missing port in address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ln, err := netserve.Listen(tt.addr, prometheus.NewRegistry(), metrics(tt.metricsErr))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || ln != nil {
					t.Fatalf("Listen = %v, %v; want no listener and %q", ln, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			if m != "m" || ln.Addr().(*net.TCPAddr).Port == 0 {
				t.Errorf("metrics %q, listening on %s", m, ln.Addr())
			}
		})
	}
	// A port in use is named.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, _, err := netserve.Listen(ln.Addr().String(), prometheus.NewRegistry(), metrics(nil)); err == nil ||
		!strings.HasPrefix(err.Error(), "listen tcp: ") || !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("Listen on a port in use: %v", err)
	}
}
