package node

import (
	"crypto/rand"
	"time"

	"github.com/netlab/netlab/services/peer/internal/config"
	"github.com/netlab/netlab/services/peer/internal/cpace"
	"github.com/netlab/netlab/services/peer/internal/wire"
)

// TestPakeInputs, TestConfirmation expose the version-3 handshake's
// computations to tests that play a peer, or an attacker, by hand.
var (
	TestPakeInputs   = pakeInputs
	TestConfirmation = confirmation
)

// ConfirmKeysForTest returns the MAC keys of the initiator's and the
// acceptor's auth frames for an ISK.
func ConfirmKeysForTest(isk [cpace.ISKSize]byte) (initiator, acceptor [32]byte, err error) {
	k, err := deriveKeys(isk)
	return k.confirmI, k.confirmA, err
}

// GreetForTest runs the initiator's side of the handshake on c as a node
// with secret would, in the latest version, with rekey limits lim (the
// default when zero).
func GreetForTest(c *wire.Conn, secret string, lim wire.RekeyLimits) (*wire.Hello, error) {
	n := &Node{cfg: config.Config{DialTimeout: 5 * time.Second, Secret: secret}, rekey: lim}
	if _, err := rand.Read(n.id[:]); err != nil {
		return nil, err
	}
	return n.greet(c)
}

// GreetAsForTest runs the initiator's side of the handshake on c as an
// open-swarm node with own's node id and listen port would.
func GreetAsForTest(c *wire.Conn, own *wire.Hello) (*wire.Hello, error) {
	n := &Node{id: own.NodeID, port: own.ListenPort, cfg: config.Config{DialTimeout: 5 * time.Second}}
	return n.greet(c)
}

// AnswerForTest runs the acceptor's side of the handshake on c as a node
// with secret would, so a test can play a peer that a node dials.
func AnswerForTest(c *wire.Conn, secret string) (*wire.Hello, error) {
	n := &Node{cfg: config.Config{DialTimeout: 5 * time.Second, Secret: secret}}
	if _, err := rand.Read(n.id[:]); err != nil {
		return nil, err
	}
	return n.answerHello(c)
}
