package node_test

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/node"
	"github.com/netlab/netlab/services/peer/internal/wire"
	"github.com/netlab/netlab/services/platform/poll"
)

// Bad frames close that connection with a reason, and the node keeps
// serving everyone else.
func TestNode_BadFramesCloseOnlyThatConnection(t *testing.T) {
	a := startNode(t, t.TempDir(), nil)
	want := writeRandomFile(t, filepath.Join(a.dir, "keep.bin"), 300<<10)

	header := func(version, typ byte, length uint32) []byte {
		h := []byte{version, typ, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(h[2:], length)
		return h
	}
	tests := []struct {
		name   string
		frame  []byte
		reason string
	}{
		{"oversized length", header(wire.Version1, byte(wire.TypeHello), wire.MaxPayload+1), "too_large"},
		{"4 GiB length", header(wire.Version1, byte(wire.TypeHello), 0xffffffff), "too_large"},
		// A first frame may carry any later version (its hello says what
		// the dialer speaks), never 0.
		{"version 0", header(0, byte(wire.TypeHello), 0), "version"},
		{"unknown type", header(wire.Version1, 200, 0), "unknown_type"},
		{"truncated hello", append(header(wire.Version1, byte(wire.TypeHello), 3), 1, 2, 3), "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, wc := dialWire(t, a)
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			// The node waits for the dialer's hello: send the bad frame
			// instead.
			if _, err := c.Write(tt.frame); err != nil {
				t.Fatal(err)
			}
			// Whatever the node answers, it must then close the connection.
			for {
				msg, err := wc.Receive(0)
				if err != nil {
					if !errors.Is(err, io.EOF) && !isReset(err) {
						t.Fatalf("connection not closed by the node: %v", err)
					}
					break
				}
				if e, ok := msg.(*wire.Error); ok {
					t.Logf("node said: %s: %s", e.Code, e.Message)
				}
			}
			poll.Until(t, "frames_invalid_total{reason="+tt.reason+"}", 5*time.Second, func() bool {
				return testutil.ToFloat64(mustCounter(t, a.reg, "netlab_peer_frames_invalid_total", tt.reason)) > 0
			})
		})
	}

	// After all that, an honest node still gets the file.
	b := startNode(t, t.TempDir(), map[string]string{"PEERS": a.addr()})
	b.inSwarm("keep.bin")
	b.download("keep.bin", 20*time.Second)
	if fileHash(t, filepath.Join(b.dir, "keep.bin")) != want {
		t.Fatal("file differs after the bad connections")
	}
}

// dialWire connects to tn's peer port as a bare client, closed when the
// test ends: the connection, to write bytes as they are, and a wire.Conn
// over it.
func dialWire(t testing.TB, tn *testNode) (net.Conn, *wire.Conn) {
	t.Helper()
	c, err := net.Dial("tcp", tn.addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, wire.NewConn(c, 5*time.Second)
}

// handshake completes the handshake on wc as the open-swarm node own
// describes (its node id and listen port), in the latest version.
func handshake(t testing.TB, wc *wire.Conn, own *wire.Hello) {
	t.Helper()
	if _, err := node.GreetAsForTest(wc, own); err != nil {
		t.Fatalf("handshake: %v", err)
	}
}

// After the handshake, a bad frame is counted by its reason.
func TestNode_BadFrameAfterHandshakeCountedByReason(t *testing.T) {
	a := startNode(t, t.TempDir(), nil)
	b := startNode(t, t.TempDir(), map[string]string{"PEERS": a.addr()})
	_ = b
	own := &wire.Hello{NodeID: [16]byte{1, 2, 3}, Nonce: [16]byte{4, 5, 6}, ListenPort: 1}
	_, wc := dialWire(t, a)
	handshake(t, wc, own)
	// A piece is not a request.
	if err := wc.Send(&wire.Piece{ID: content.NewID(content.BLAKE3, content.Hash{1}), Data: []byte("unasked")}); err != nil {
		t.Fatal(err)
	}
	expectErrorFrame(t, wc, wire.ErrorProtocol, "answer to a piece sent as a request")
	if _, err := wc.Receive(0); err == nil {
		t.Fatal("connection still open after the protocol error")
	}
	waitInvalid(t, a, "unexpected", 1)
	// An oversized frame after the handshake.
	c2, wc2 := dialWire(t, a)
	handshake(t, wc2, own)
	big := []byte{wire.Version, byte(wire.TypeGetPiece), 0xff, 0xff, 0xff, 0xff}
	if _, err := c2.Write(big); err != nil {
		t.Fatal(err)
	}
	expectErrorFrame(t, wc2, wire.ErrorTooLarge, "answer to a 4 GiB frame")
	waitInvalid(t, a, "too_large", 1)
	// A frame of another version than the handshake settled on (4 here).
	c3, wc3 := dialWire(t, a)
	handshake(t, wc3, own)
	if _, err := c3.Write([]byte{wire.Version3, byte(wire.TypeGetCatalog), 0, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	expectErrorFrame(t, wc3, wire.ErrorVersion, "answer to a version-3 frame on a version-4 connection")
	waitInvalid(t, a, "version", 1)
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op)
}
