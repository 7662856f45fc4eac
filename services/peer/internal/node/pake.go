package node

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/netlab/netlab/services/peer/internal/cpace"
	"github.com/netlab/netlab/services/peer/internal/wire"
)

// The version-3 handshake (docs/peer-protocol.md, Handshake): after the
// hellos, CPace with the secret as password, then key confirmation; with
// a secret, every later frame is sealed with keys from the exchange.

const (
	pakeCI   = "netlab-peer-v3" // first part of CPace's channel identifier
	hkdfSalt = "netlab-peer-v3" // HKDF-Extract's salt over the ISK
	confirmI = "confirm initiator"
	confirmA = "confirm acceptor"
	trafficI = "traffic initiator" // initiator → acceptor
	trafficA = "traffic acceptor"  // acceptor → initiator
)

// sessionKeys are what one run of the exchange gives both sides.
type sessionKeys struct {
	confirmI, confirmA [32]byte // MAC keys of the two auth frames
	trafficI, trafficA [32]byte // AES-256-GCM keys, one per direction
}

// pakeInputs returns CPace's channel identifier, binding both hellos as
// sent, and session id, the two nonces.
func pakeInputs(initiator, acceptor *wire.Hello) (ci, sid []byte) {
	hi, ha := initiator.AppendPayload(nil), acceptor.AppendPayload(nil)
	ci = cpace.LVCat([]byte(pakeCI), hi, ha)
	sid = append(initiator.Nonce[:], acceptor.Nonce[:]...)
	return ci, sid
}

// deriveKeys expands the ISK into the confirmation and traffic keys:
// HKDF-SHA256 with salt "netlab-peer-v3" and one label per key.
func deriveKeys(isk [cpace.ISKSize]byte) (sessionKeys, error) {
	prk, err := hkdf.Extract(sha256.New, isk[:], []byte(hkdfSalt))
	if err != nil {
		return sessionKeys{}, err
	}
	var k sessionKeys
	for _, o := range []struct {
		label string
		out   *[32]byte
	}{{confirmI, &k.confirmI}, {confirmA, &k.confirmA}, {trafficI, &k.trafficI}, {trafficA, &k.trafficA}} {
		b, err := hkdf.Expand(sha256.New, prk, o.label, 32)
		if err != nil {
			return sessionKeys{}, err
		}
		*o.out = [32]byte(b)
	}
	return k, nil
}

// confirmation is an auth frame's MAC: HMAC-SHA256 over both shares,
// initiator's first.
func confirmation(key [32]byte, ya, yb [cpace.ElementSize]byte) [32]byte {
	m := hmac.New(sha256.New, key[:])
	m.Write(ya[:])
	m.Write(yb[:])
	return [32]byte(m.Sum(nil))
}

// exchange runs CPace and the key confirmation on c after the hellos.
// The initiator sends its pake first and confirms first; the acceptor
// sends nothing that depends on the key before the initiator's
// confirmation checked out. With a secret, c is sealed afterwards.
func (n *Node) exchange(c *wire.Conn, initiator bool, own, theirs *wire.Hello) error {
	hi, ha := own, theirs
	if !initiator {
		hi, ha = theirs, own
	}
	ci, sid := pakeInputs(hi, ha)
	y, err := cpace.RandomScalar(rand.Reader)
	if err != nil {
		return err
	}
	party, err := cpace.Start(y, []byte(n.cfg.Secret), ci, sid)
	if err != nil {
		return err
	}
	if initiator {
		if err := c.Send(&wire.Pake{Element: party.Share()}); err != nil {
			return fmt.Errorf("send pake: %w", err)
		}
	}
	peer, err := receiveStep[*wire.Pake](n, c, wire.TypePake)
	if err != nil {
		return err
	}
	if !initiator {
		if err := c.Send(&wire.Pake{Element: party.Share()}); err != nil {
			return fmt.Errorf("send pake: %w", err)
		}
	}
	isk, err := party.Finish(peer.Element, initiator)
	if err != nil {
		_ = c.Send(&wire.Error{Code: wire.ErrorProtocol, Message: "invalid pake element"})
		return fmt.Errorf("%w: %w", wire.ErrInvalidMessage, err)
	}
	keys, err := deriveKeys(isk)
	if err != nil {
		return err
	}
	ya, yb := party.Share(), peer.Element
	if !initiator {
		ya, yb = yb, ya
	}
	if err := n.confirm(c, initiator, keys, ya, yb); err != nil {
		return err
	}
	if n.cfg.Secret == "" {
		return nil // an open swarm: frames stay in the clear
	}
	k := wire.Keys{Send: keys.trafficI, Receive: keys.trafficA}
	if !initiator {
		k = wire.Keys{Send: keys.trafficA, Receive: keys.trafficI}
	}
	lim := n.rekey
	if lim == (wire.RekeyLimits{}) {
		lim = wire.DefaultRekey
	}
	return c.Encrypt(k, lim)
}

// confirm exchanges the auth frames: the initiator's first, then the
// acceptor's once it checked the initiator's.
func (n *Node) confirm(c *wire.Conn, initiator bool, keys sessionKeys, ya, yb [cpace.ElementSize]byte) error {
	mine, theirs := keys.confirmI, keys.confirmA
	if !initiator {
		mine, theirs = theirs, mine
	}
	send := func() error {
		if err := c.Send(&wire.Auth{MAC: confirmation(mine, ya, yb)}); err != nil {
			return fmt.Errorf("send auth: %w", err)
		}
		return nil
	}
	if initiator {
		if err := send(); err != nil {
			return err
		}
	}
	auth, err := receiveStep[*wire.Auth](n, c, wire.TypeAuth)
	if err != nil {
		return err
	}
	if want := confirmation(theirs, ya, yb); !hmac.Equal(auth.MAC[:], want[:]) {
		_ = c.Send(&wire.Error{Code: wire.ErrorAuth, Message: "key confirmation failed: the secrets differ"})
		return errAuth
	}
	if !initiator {
		return send()
	}
	return nil
}
