package node

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/netlab/netlab/services/peer/internal/wire"
)

var (
	errSelf = errors.New("connected to itself")
	errAuth = errors.New("peer secret does not match")
)

const authLabel = "netlab-peer-auth-v1"

// authMAC proves knowledge of the secret for one handshake: it binds the
// other side's fresh nonce (no replay) and the sender's own identity.
func authMAC(secret string, theirNonce, ownID, ownNonce [16]byte) [32]byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(authLabel))
	m.Write(theirNonce[:])
	m.Write(ownID[:])
	m.Write(ownNonce[:])
	var out [32]byte
	copy(out[:], m.Sum(nil))
	return out
}

// handshake exchanges Hello and Auth with the other side of c (both sides
// run the same steps) and returns the peer's Hello. A peer whose MAC does
// not match this node's secret gets an auth error and is refused.
func (n *Node) handshake(c *wire.Conn) (*wire.Hello, error) {
	own := &wire.Hello{NodeID: n.id, ListenPort: n.port, Addr: n.advertised()}
	if _, err := rand.Read(own.Nonce[:]); err != nil {
		return nil, err
	}
	if err := c.Send(own); err != nil {
		return nil, fmt.Errorf("send hello: %w", err)
	}
	msg, err := c.Receive(n.cfg.DialTimeout)
	if err != nil {
		return nil, fmt.Errorf("read hello: %w", err)
	}
	theirs, ok := msg.(*wire.Hello)
	if !ok {
		_ = c.Send(&wire.Error{Code: wire.ErrorProtocol, Message: "expected hello"})
		return nil, fmt.Errorf("expected hello, got %s", msg.Type())
	}
	if theirs.NodeID == n.id {
		return nil, errSelf
	}
	if err := c.Send(&wire.Auth{MAC: authMAC(n.cfg.Secret, theirs.Nonce, n.id, own.Nonce)}); err != nil {
		return nil, fmt.Errorf("send auth: %w", err)
	}
	msg, err = c.Receive(n.cfg.DialTimeout)
	if err != nil {
		return nil, fmt.Errorf("read auth: %w", err)
	}
	if e, ok := msg.(*wire.Error); ok {
		return nil, fmt.Errorf("peer refused: %s: %s", e.Code, e.Message)
	}
	auth, ok := msg.(*wire.Auth)
	if !ok {
		_ = c.Send(&wire.Error{Code: wire.ErrorProtocol, Message: "expected auth"})
		return nil, fmt.Errorf("expected auth, got %s", msg.Type())
	}
	want := authMAC(n.cfg.Secret, own.Nonce, theirs.NodeID, theirs.Nonce)
	if !hmac.Equal(auth.MAC[:], want[:]) {
		_ = c.Send(&wire.Error{Code: wire.ErrorAuth, Message: "peer secret does not match"})
		return nil, errAuth
	}
	h := *theirs
	return &h, nil
}
