package node

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/netlab/netlab/services/peer/internal/wire"
)

var (
	errSelf = errors.New("connected to itself")
	errAuth = errors.New("peer secret does not match")
	// errVersion1 is a version-1 acceptor's answer to a later version's
	// hello: dial again speaking 1.
	errVersion1 = errors.New("peer speaks protocol version 1 only")
	// errOldVersion: a node with a secret speaks version 3 or later only,
	// since the secret's MAC of versions 1 and 2 can be guessed offline.
	errOldVersion = errors.New("a node with a secret speaks protocol version 3 or later only")
)

// greet runs the initiator's side of the handshake on c, speaking
// version v: its hello goes first, in a frame of version v, and the
// acceptor's hello says which version the connection speaks. A version-1
// acceptor refuses a later version's hello, so when it answers in version
// 1 to a later one greet returns errVersion1 and the caller dials again
// speaking 1. The whole handshake has one deadline, DIAL_TIMEOUT.
func (n *Node) greet(c *wire.Conn, v uint8) (*wire.Hello, error) {
	c.LimitDeadlines(time.Now().Add(n.cfg.DialTimeout))
	defer c.LimitDeadlines(time.Time{})
	own, err := n.ownHello()
	if err != nil {
		return nil, err
	}
	c.SetVersion(v)
	if err := c.Send(own); err != nil {
		return nil, fmt.Errorf("send hello: %w", err)
	}
	// Until the acceptor's hello settles the version, an error frame goes
	// in version 1, which every version reads.
	c.SetVersion(wire.Version1)
	theirs, tv, err := receiveHello(c, n.cfg.DialTimeout)
	if err != nil {
		return nil, err
	}
	if theirs.NodeID == n.id {
		return nil, errSelf
	}
	switch {
	case tv > v:
		_ = c.Send(&wire.Error{Code: wire.ErrorVersion, Message: fmt.Sprintf("hello of version %d answered in version %d", v, tv)})
		return nil, fmt.Errorf("peer answered a hello of version %d in version %d", v, tv)
	case tv < wire.Version3 && n.cfg.Secret != "":
		c.SetVersion(tv)
		return nil, n.refuseOld(c, tv)
	case tv < v && tv == wire.Version1:
		return nil, errVersion1
	}
	c.SetVersion(tv)
	if tv < wire.Version3 {
		return n.authenticate(c, own, theirs)
	}
	return theirs, n.exchange(c, true, own, theirs)
}

// answerHello runs the acceptor's side of the handshake on c: it reads
// the initiator's hello first and answers in the lower of the two
// versions, which the connection speaks from then on. With a secret it
// refuses versions before 3 with error(version).
func (n *Node) answerHello(c *wire.Conn) (*wire.Hello, error) {
	c.LimitDeadlines(time.Now().Add(n.cfg.DialTimeout))
	defer c.LimitDeadlines(time.Time{})
	theirs, tv, err := receiveHello(c, n.cfg.DialTimeout)
	if err != nil {
		return nil, err
	}
	c.SetVersion(min(tv, wire.Version))
	if tv < wire.Version3 && n.cfg.Secret != "" {
		return nil, n.refuseOld(c, tv)
	}
	own, err := n.ownHello()
	if err != nil {
		return nil, err
	}
	if err := c.Send(own); err != nil {
		return nil, fmt.Errorf("send hello: %w", err)
	}
	// Checked after sending the hello, so a node that dialed itself sees
	// its own id too and never dials that address again.
	if theirs.NodeID == n.id {
		return nil, errSelf
	}
	if c.Version() < wire.Version3 {
		return n.authenticate(c, own, theirs)
	}
	return theirs, n.exchange(c, false, own, theirs)
}

// refuseOld answers a peer of version v (before 3) with error(version).
func (n *Node) refuseOld(c *wire.Conn, v uint8) error {
	_ = c.Send(&wire.Error{Code: wire.ErrorVersion, Message: fmt.Sprintf(
		"version %d refused: this swarm has a secret, which needs protocol version %d", v, wire.Version3)})
	return fmt.Errorf("%w: peer speaks version %d", errOldVersion, v)
}

func (n *Node) ownHello() (*wire.Hello, error) {
	own := &wire.Hello{NodeID: n.id, ListenPort: n.port, Addr: n.advertised()}
	if _, err := rand.Read(own.Nonce[:]); err != nil {
		return nil, err
	}
	return own, nil
}

// receiveHello reads the peer's hello, of any version, and that version.
func receiveHello(c *wire.Conn, timeout time.Duration) (*wire.Hello, uint8, error) {
	msg, v, err := c.ReceiveFirst(timeout)
	if err != nil {
		return nil, v, fmt.Errorf("read hello: %w", err)
	}
	if e, ok := msg.(*wire.Error); ok {
		return nil, v, newPeerError(e)
	}
	theirs, ok := msg.(*wire.Hello)
	if !ok {
		_ = c.Send(&wire.Error{Code: wire.ErrorProtocol, Message: "expected hello"})
		return nil, v, fmt.Errorf("%w: expected hello, got %s", errUnexpected, msg.Type())
	}
	h := *theirs
	return &h, v, nil
}

// receiveStep reads the next handshake frame, which must be a T: an
// error frame ends the handshake with the peer's reason, anything else is
// answered with error(protocol).
func receiveStep[T wire.Message](n *Node, c *wire.Conn, want wire.Type) (T, error) {
	var zero T
	msg, err := c.Receive(n.cfg.DialTimeout)
	if err != nil {
		return zero, fmt.Errorf("read %s: %w", want, err)
	}
	if e, ok := msg.(*wire.Error); ok {
		return zero, newPeerError(e)
	}
	m, ok := msg.(T)
	if !ok {
		_ = c.Send(&wire.Error{Code: wire.ErrorProtocol, Message: "expected " + want.String()})
		return zero, fmt.Errorf("%w: expected %s, got %s", errUnexpected, want, msg.Type())
	}
	return m, nil
}

// Version-1 and -2 handshake, kept for open swarms (no secret): each side
// proves the secret with a MAC over the other's nonce. Its weakness, an
// offline guess of the secret from one recorded MAC, is why a node with a
// secret refuses these versions.

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

// authenticate exchanges Auth with the other side of c (both sides run
// the same steps) and returns the peer's Hello. A peer whose MAC does not
// match this node's secret gets an auth error and is refused.
func (n *Node) authenticate(c *wire.Conn, own, theirs *wire.Hello) (*wire.Hello, error) {
	if err := c.Send(&wire.Auth{MAC: authMAC(n.cfg.Secret, theirs.Nonce, n.id, own.Nonce)}); err != nil {
		return nil, fmt.Errorf("send auth: %w", err)
	}
	auth, err := receiveStep[*wire.Auth](n, c, wire.TypeAuth)
	if err != nil {
		return nil, err
	}
	want := authMAC(n.cfg.Secret, own.Nonce, theirs.NodeID, theirs.Nonce)
	if !hmac.Equal(auth.MAC[:], want[:]) {
		_ = c.Send(&wire.Error{Code: wire.ErrorAuth, Message: "peer secret does not match"})
		return nil, errAuth
	}
	return theirs, nil
}
