package node_test

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/netlab/netlab/services/peer/internal/node"
	"github.com/netlab/netlab/services/peer/internal/wire"
)

// expectShutdown fails unless the next frame on wc is error(shutdown),
// followed by the end of the connection.
func expectShutdown(t *testing.T, wc *wire.Conn) {
	t.Helper()
	expectErrorFrame(t, wc, wire.ErrorShutdown, "at shutdown")
	if msg, err := wc.Receive(0); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("after error(shutdown): %v, %v; want the connection closed", msg, err)
	}
}

// A node that shuts down tells every authenticated connection it serves,
// idle ones too, in the clear and sealed.
func TestNode_ShutdownTellsIdleServedConnections(t *testing.T) {
	a := startNode(t, t.TempDir(), nil)
	_, open := dialWire(t, a)
	handshake(t, open, &wire.Hello{NodeID: [16]byte{1}, Nonce: [16]byte{2}, ListenPort: 1})
	askCatalog(t, open)

	b := startNode(t, t.TempDir(), map[string]string{"PEER_SECRET": guessSecret})
	_, sealed := dialWire(t, b)
	if _, err := node.GreetForTest(sealed, guessSecret, wire.RekeyLimits{}); err != nil {
		t.Fatal(err)
	}
	if !sealed.Encrypted() {
		t.Fatal("connection with a secret not sealed")
	}
	askCatalog(t, sealed)

	a.stop()
	b.stop()
	expectShutdown(t, open)
	expectShutdown(t, sealed)
}

// The connections a node dialed are told too.
func TestNode_ShutdownTellsPeersItDialed(t *testing.T) {
	told := make(chan *wire.Error, 1)
	addr := startAcceptor(t, func(c net.Conn) {
		wc := accepted(c, guessSecret)
		if wc == nil {
			return
		}
		// Answer the node's polls as a peer with nothing to share, until
		// it says something else.
		for {
			msg, err := wc.Receive(time.Minute)
			if err != nil {
				return
			}
			var answer wire.Message
			switch m := msg.(type) {
			case *wire.GetCatalogPage:
				answer = &wire.CatalogPage{}
			case *wire.GetPeers:
				answer = &wire.Peers{}
			case *wire.Error:
				note(told, m)
				return
			default:
				return
			}
			if wc.Send(answer) != nil {
				return
			}
		}
	})
	n := startNode(t, "", map[string]string{"PEERS": addr, "PEER_SECRET": guessSecret})
	n.waitPeer(addr, wire.Version)
	n.stop()
	awaitError(t, told, wire.ErrorShutdown, "error(shutdown) on the connection the node dialed")
}
