package node

import (
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/netlab/netlab/services/peer/internal/wire"
)

var (
	errSelf = errors.New("connected to itself")
	errAuth = errors.New("peer secret does not match")
	// errOldVersion: a node speaks protocol version 4 only, whose file ids
	// name their hash algorithm; the 32-byte SHA-256 ids of earlier
	// versions do not fit its messages.
	errOldVersion = fmt.Errorf("peer speaks a protocol version before %d", wire.MinVersion)
)

// greet runs the initiator's side of the handshake on c: its hello goes
// first, in a frame of the latest version, and the acceptor's hello says
// which version the connection speaks, which must be that one: an earlier
// one is refused with error(version). The whole handshake has one
// deadline, DIAL_TIMEOUT.
func (n *Node) greet(c *wire.Conn) (*wire.Hello, error) {
	c.LimitDeadlines(time.Now().Add(n.cfg.DialTimeout))
	defer c.LimitDeadlines(time.Time{})
	own, err := n.ownHello()
	if err != nil {
		return nil, err
	}
	c.SetVersion(wire.Version)
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
	case tv > wire.Version:
		_ = c.Send(&wire.Error{Code: wire.ErrorVersion, Message: fmt.Sprintf("hello of version %d answered in version %d", wire.Version, tv)})
		return nil, fmt.Errorf("peer answered a hello of version %d in version %d", wire.Version, tv)
	case tv < wire.MinVersion:
		c.SetVersion(tv)
		return nil, n.refuseOld(c, tv)
	}
	c.SetVersion(tv)
	return theirs, n.exchange(c, true, own, theirs)
}

// answerHello runs the acceptor's side of the handshake on c: it reads
// the initiator's hello first and answers in the lower of the two
// versions, which the connection speaks from then on. It refuses versions
// before MinVersion with error(version), in their version.
func (n *Node) answerHello(c *wire.Conn) (*wire.Hello, error) {
	c.LimitDeadlines(time.Now().Add(n.cfg.DialTimeout))
	defer c.LimitDeadlines(time.Time{})
	theirs, tv, err := receiveHello(c, n.cfg.DialTimeout)
	if err != nil {
		return nil, err
	}
	c.SetVersion(min(tv, wire.Version))
	if tv < wire.MinVersion {
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
	return theirs, n.exchange(c, false, own, theirs)
}

// refuseOld answers a peer of version v (before MinVersion) with
// error(version), saying which version it needs.
func (n *Node) refuseOld(c *wire.Conn, v uint8) error {
	_ = c.Send(&wire.Error{Code: wire.ErrorVersion, Message: fmt.Sprintf(
		"version %d refused: this node speaks protocol version %d only, whose file ids name their hash algorithm", v, wire.MinVersion)})
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
