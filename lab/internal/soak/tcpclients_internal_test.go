package soak

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/addrtest"
)

func TestEachAtOnce_CallsEachIndexOnceWithinTheLimit(t *testing.T) {
	var (
		mu                  sync.Mutex
		calls               [50]int
		running, mostAtOnce int
	)
	eachAtOnce(t.Context(), len(calls), 4, func(i int) {
		mu.Lock()
		calls[i]++
		running++
		mostAtOnce = max(mostAtOnce, running)
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		running--
		mu.Unlock()
	})
	for i, n := range calls {
		if n != 1 {
			t.Errorf("index %d called %d times", i, n)
		}
	}
	if mostAtOnce > 4 {
		t.Errorf("%d calls at once, want at most 4", mostAtOnce)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	eachAtOnce(ctx, 10, 4, func(int) { t.Error("called after the end") })
}

func TestDialAll(t *testing.T) {
	// The kernel completes the handshakes into the backlog: nothing needs
	// to accept them.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conns, failed := dialAll(t.Context(), ln.Addr().String(), 20)
	closeAll(conns)
	if len(conns) != 20 || failed != 0 {
		t.Errorf("dialAll: %d connections, %d failed; want 20, 0", len(conns), failed)
	}
	if conns, failed := dialAll(t.Context(), addrtest.ClosedTCP(t), 5); len(conns) != 0 || failed != 5 {
		t.Errorf("dialAll to a closed port: %d connections, %d failed; want 0, 5", len(conns), failed)
	}
}

func TestPingAll_CountsTheConnectionsThatEcho(t *testing.T) {
	var conns []net.Conn
	for i := range 10 {
		c, s := net.Pipe()
		t.Cleanup(func() { c.Close(); s.Close() })
		if i%3 == 0 {
			s.Close() // dead: the ping fails
		} else {
			go func() { _, _ = io.Copy(s, s) }()
		}
		conns = append(conns, c)
	}
	if alive := pingAll(t.Context(), conns); alive != 6 {
		t.Errorf("pingAll: %d alive, want 6", alive)
	}
}
