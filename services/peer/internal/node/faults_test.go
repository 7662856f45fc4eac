package node_test

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/services/peer/internal/node"
	"github.com/netlab/netlab/services/peer/internal/wire"
	"github.com/netlab/netlab/services/platform/poll"
)

// An error frame in the handshake ends it like one after: the node
// closes without answering and counts it by its code, not as a refusal.
func TestNode_ErrorFrameInTheHandshakeCountedByCode(t *testing.T) {
	a := startNode(t, t.TempDir(), nil)
	// Instead of the hello.
	_, first := dialWire(t, a)
	first.SetVersion(wire.Version)
	if err := first.Send(&wire.Error{Code: wire.ErrorBusy, Message: "busy"}); err != nil {
		t.Fatal(err)
	}
	// Instead of the pake, after the hellos.
	_, later := dialWire(t, a)
	later.SetVersion(wire.Version)
	if err := later.Send(&wire.Hello{NodeID: [16]byte{1}, Nonce: [16]byte{2}, ListenPort: 1}); err != nil {
		t.Fatal(err)
	}
	if msg, err := later.Receive(0); err != nil {
		t.Fatalf("the node's hello: %v, %v", msg, err)
	}
	if err := later.Send(&wire.Error{Code: wire.ErrorAuth, Message: "no"}); err != nil {
		t.Fatal(err)
	}
	for _, wc := range []*wire.Conn{first, later} {
		if msg, err := wc.Receive(0); !errors.Is(err, io.EOF) {
			t.Fatalf("after an error frame: %v, %v; want the connection closed without a frame", msg, err)
		}
	}
	poll.Until(t, "errors_received_total{code=busy} and {code=auth}", 5*time.Second, func() bool {
		return counter(t, a, "netlab_peer_errors_received_total", "busy") == 1 &&
			counter(t, a, "netlab_peer_errors_received_total", "auth") == 1
	})
	if got := counter(t, a, "netlab_peer_connections_rejected_total"); got != 0 {
		t.Errorf("connections_rejected_total = %v, want 0: the peer closed, the node refused nothing", got)
	}
	if got := counter(t, a, "netlab_peer_frames_invalid_total"); got != 0 {
		t.Errorf("frames_invalid_total = %v, want 0", got)
	}
}

// startAcceptor listens for the node under test to dial it and runs
// script on each connection; it returns the address to give the node.
func startAcceptor(t *testing.T, script func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	acceptEach(t, ln, script)
	return ln.Addr().String()
}

// acceptEach runs script on each connection ln accepts, until the test
// ends.
func acceptEach(t *testing.T, ln net.Listener, script func(c net.Conn)) {
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				script(c)
			})
		}
	})
}

// accepted runs the acceptor's handshake on c with secret and returns the
// connection, or nil when the handshake failed.
func accepted(c net.Conn, secret string) *wire.Conn {
	wc := wire.NewConn(c, 5*time.Second)
	if _, err := node.AnswerForTest(wc, secret); err != nil {
		return nil
	}
	return wc
}

// note sends v on ch unless ch is full: a node dials again and again, a
// test needs to hear once.
func note[T any](ch chan T, v T) {
	select {
	case ch <- v:
	default:
	}
}

// The dialing side counts the error frames it receives by their code, in
// the handshake and after it, like the side that accepts.
func TestNode_DialerCountsErrorFramesByCode(t *testing.T) {
	inHandshake := startAcceptor(t, func(c net.Conn) {
		wc := wire.NewConn(c, 5*time.Second)
		if _, v, err := wc.ReceiveFirst(0); err == nil {
			wc.SetVersion(v)
			_ = wc.Send(&wire.Error{Code: wire.ErrorBusy, Message: "too many connections"})
		}
	})
	afterIt := startAcceptor(t, func(c net.Conn) {
		if wc := accepted(c, ""); wc != nil {
			if _, err := wc.Receive(0); err == nil {
				_ = wc.Send(&wire.Error{Code: wire.ErrorShutdown, Message: "node shutting down"})
			}
		}
	})
	n := startNode(t, "", map[string]string{"PEERS": inHandshake + "," + afterIt})
	poll.Until(t, "errors_received_total{code=busy} and {code=shutdown}", 10*time.Second, func() bool {
		return counter(t, n, "netlab_peer_errors_received_total", "busy") >= 1 &&
			counter(t, n, "netlab_peer_errors_received_total", "shutdown") >= 1
	})
	if got := counter(t, n, "netlab_peer_frames_invalid_total"); got != 0 {
		t.Errorf("frames_invalid_total = %v, want 0", got)
	}
}

// A sealed answer altered on the way closes the dialer's connection,
// counted as tampered, and the dialer tells the peer why, as the side
// that accepts does.
func TestNode_DialerCountsTamperedFrames(t *testing.T) {
	told := make(chan *wire.Error, 1)
	addr := startAcceptor(t, func(c net.Conn) {
		fc := &flipConn{Conn: c}
		wc := accepted(fc, guessSecret)
		if wc == nil {
			return
		}
		if _, err := wc.Receive(0); err != nil {
			return
		}
		fc.armed.Store(true)
		if err := wc.Send(&wire.CatalogPage{}); err != nil {
			return
		}
		if msg, err := wc.Receive(0); err == nil {
			if e, ok := msg.(*wire.Error); ok {
				note(told, e)
			}
		}
	})
	n := startNode(t, "", map[string]string{"PEERS": addr, "PEER_SECRET": guessSecret})
	poll.Until(t, "frames_invalid_total{reason=tampered}", 10*time.Second, func() bool {
		return counter(t, n, "netlab_peer_frames_invalid_total", "tampered") >= 1
	})
	awaitError(t, told, wire.ErrorProtocol, "the dialer to tell the peer about the tampered frame")
}

// A bad first answer to the dialer's hello is counted by its reason, and
// the dialer says why in a version-1 frame: the version is not settled
// before the acceptor's hello, and every version reads version 1.
func TestNode_DialerCountsABadFirstFrame(t *testing.T) {
	told := make(chan *wire.Error, 1)
	addr := startAcceptor(t, func(c net.Conn) {
		wc := wire.NewConn(c, 5*time.Second)
		if _, _, err := wc.ReceiveFirst(0); err != nil {
			return
		}
		// A hello of 3 bytes: malformed.
		if _, err := c.Write([]byte{wire.Version, byte(wire.TypeHello), 0, 0, 0, 3, 1, 2, 3}); err != nil {
			return
		}
		msg, v, err := wc.ReceiveFirst(0)
		if e, ok := msg.(*wire.Error); err == nil && ok && v == wire.Version1 {
			note(told, e)
		}
	})
	n := startNode(t, "", map[string]string{"PEERS": addr})
	poll.Until(t, "frames_invalid_total{reason=malformed}", 10*time.Second, func() bool {
		return counter(t, n, "netlab_peer_frames_invalid_total", "malformed") >= 1
	})
	awaitError(t, told, wire.ErrorProtocol, "a version-1 error(protocol) for the malformed hello")
}

// awaitError fails unless the first error frame the acceptor reports on
// told has code, within 10 s; what says what was awaited.
func awaitError(t *testing.T, told <-chan *wire.Error, code wire.ErrorCode, what string) {
	t.Helper()
	select {
	case e := <-told:
		if e.Code != code {
			t.Fatalf("waiting for %s: got %s: %s, want %s", what, e.Code, e.Message, code)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}
