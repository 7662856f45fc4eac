package node_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"

	"github.com/netlab/netlab/services/peer/internal/cpace"
	"github.com/netlab/netlab/services/peer/internal/node"
	"github.com/netlab/netlab/services/peer/internal/wire"
)

// The offline attack on a swarm's secret: record what a node sends in a
// handshake, then test candidate secrets against it at leisure, with no
// further contact. A short secret falls to a dictionary when the record
// holds anything a candidate can be checked against.

const (
	guessAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	guessSecret   = "k7q" // one of 36³ = 46,656 candidates
)

// candidates yields every string of n characters of guessAlphabet.
func candidates(n int) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		idx := make([]int, n)
		buf := make([]byte, n)
		for {
			for i, j := range idx {
				buf[i] = guessAlphabet[j]
			}
			if !yield(string(buf)) {
				return
			}
			i := n - 1
			for ; i >= 0; i-- {
				if idx[i]++; idx[i] < len(guessAlphabet) {
					break
				}
				idx[i] = 0
			}
			if i < 0 {
				return
			}
		}
	}
}

// legacyMAC is the auth MAC of protocol versions 1 and 2, which nodes no
// longer speak (docs/peer-protocol.md, The MAC of versions 1 and 2): kept
// here to show why.
func legacyMAC(secret string, theirNonce, ownID, ownNonce [16]byte) [32]byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("netlab-peer-auth-v1"))
	m.Write(theirNonce[:])
	m.Write(ownID[:])
	m.Write(ownNonce[:])
	return [32]byte(m.Sum(nil))
}

// The MAC example of docs/peer-protocol.md: A's mac in an open swarm.
func TestLegacyMAC_DocumentExample(t *testing.T) {
	var na, nb [16]byte
	for i := range 16 {
		na[i], nb[i] = 0xa0+byte(i), 0xb0+byte(i)
	}
	got := legacyMAC("", nb, [16]byte(bytes.Repeat([]byte{0x11}, 16)), na)
	if want := "f0bfa83082742aa24033deae7f2d06808c350a9eb997db703926a354f1c1881b"; hex.EncodeToString(got[:]) != want {
		t.Fatalf("mac = %x, want %s", got, want)
	}
}

// legacyMatches returns the candidates consistent with a version-2 auth
// frame: the acceptor's MAC over the initiator's nonce and its own id and
// nonce, all of which the initiator sees.
func legacyMatches(mac [32]byte, initiatorNonce [16]byte, acceptor *wire.Hello) []string {
	var out []string
	for c := range candidates(len(guessSecret)) {
		if legacyMAC(c, initiatorNonce, acceptor.NodeID, acceptor.Nonce) == mac {
			out = append(out, c)
		}
	}
	return out
}

// The scheme of versions 1 and 2, which a node with a secret no longer
// speaks: one recorded MAC singles out the secret.
func TestLegacyMAC_SecretGuessedOffline(t *testing.T) {
	var in, an [16]byte
	_, _ = rand.Read(in[:])
	_, _ = rand.Read(an[:])
	acceptor := &wire.Hello{NodeID: [16]byte{7}, Nonce: an}
	mac := legacyMAC(guessSecret, in, acceptor.NodeID, acceptor.Nonce)
	if got := legacyMatches(mac, in, acceptor); len(got) != 1 || got[0] != guessSecret {
		t.Fatalf("offline guess over one version-2 MAC found %v, want [%s]", got, guessSecret)
	}
}

// receiveAll reads frames until the node closes the connection.
func receiveAll(t *testing.T, wc *wire.Conn) []wire.Message {
	t.Helper()
	var out []wire.Message
	for {
		m, err := wc.Receive(0)
		if errors.Is(err, io.EOF) || isReset(err) {
			return out
		}
		if err != nil {
			t.Fatalf("after %d frames: %v", len(out), err)
		}
		out = append(out, m)
	}
}

// An attacker who connects to a node with a secret, speaking version 2,
// gets error(version) and nothing to guess with (before version 3 the
// node answered with a hello and its MAC, and the guess succeeded).
func TestNode_OldVersionGetsNothingToGuessWith(t *testing.T) {
	tn := startNode(t, t.TempDir(), map[string]string{"PEER_SECRET": guessSecret})
	_, wc := dialWire(t, tn)
	wc.SetVersion(wire.Version2)
	own := &wire.Hello{NodeID: [16]byte{1}, Nonce: [16]byte{2}}
	if err := wc.Send(own); err != nil {
		t.Fatal(err)
	}
	frames := receiveAll(t, wc)
	for i, m := range frames {
		if i+1 < len(frames) {
			if h, ok := m.(*wire.Hello); ok {
				if a, ok := frames[i+1].(*wire.Auth); ok {
					if got := legacyMatches(a.MAC, own.Nonce, h); len(got) > 0 {
						t.Fatalf("secret guessed offline from the node's version-2 handshake: %v", got)
					}
				}
			}
		}
	}
	if len(frames) != 1 {
		t.Fatalf("the node sent %d frames to a version-2 hello, want one error", len(frames))
	}
	if e, ok := frames[0].(*wire.Error); !ok || e.Code != wire.ErrorVersion {
		t.Fatalf("the node answered a version-2 hello with %#v, want error(version)", frames[0])
	}
}

// attackV3 plays an initiator without the secret, guessing guess: it
// returns the node's hello and every frame the node sent after it.
func attackV3(t *testing.T, tn *testNode, guess string) (own, theirs *wire.Hello, party *cpace.Party, frames []wire.Message) {
	t.Helper()
	_, wc := dialWire(t, tn)
	wc.SetVersion(wire.Version)
	own = &wire.Hello{NodeID: [16]byte{1}}
	_, _ = rand.Read(own.Nonce[:])
	if err := wc.Send(own); err != nil {
		t.Fatal(err)
	}
	m, err := wc.Receive(0)
	if err != nil {
		t.Fatal(err)
	}
	theirs, ok := m.(*wire.Hello)
	if !ok {
		t.Fatalf("the node's first frame is %#v, want a hello", m)
	}
	ci, sid := node.TestPakeInputs(own, theirs)
	y, err := cpace.RandomScalar(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if party, err = cpace.Start(y, []byte(guess), ci, sid); err != nil {
		t.Fatal(err)
	}
	if err := wc.Send(&wire.Pake{Element: party.Share()}); err != nil {
		t.Fatal(err)
	}
	m, err = wc.Receive(0)
	if err != nil {
		t.Fatal(err)
	}
	frames = append(frames, m)
	if p, ok := m.(*wire.Pake); ok {
		isk, err := party.Finish(p.Element, true)
		if err != nil {
			t.Fatal(err)
		}
		ki, _, err := node.ConfirmKeysForTest(isk)
		if err != nil {
			t.Fatal(err)
		}
		if err := wc.Send(&wire.Auth{MAC: node.TestConfirmation(ki, party.Share(), p.Element)}); err != nil {
			t.Fatal(err)
		}
	}
	return own, theirs, party, append(frames, receiveAll(t, wc)...)
}

// The version-3 acceptor sends nothing that depends on the key before
// the initiator's confirmation checked out: an attacker who guessed wrong
// gets its pake share (a random group element for any secret) and
// error(auth), so no candidate can be tested against the record, and it
// has spent its one guess on the connection.
func TestNode_NothingToGuessOfflineAfterAWrongGuess(t *testing.T) {
	tn := startNode(t, t.TempDir(), map[string]string{"PEER_SECRET": guessSecret})
	_, _, party, frames := attackV3(t, tn, "aaa")
	if len(frames) != 2 {
		t.Fatalf("the node sent %d frames after its hello, want pake and error: %#v", len(frames), frames)
	}
	p, ok := frames[0].(*wire.Pake)
	if !ok {
		t.Fatalf("first frame after the hello is %#v, want pake", frames[0])
	}
	if e, ok := frames[1].(*wire.Error); !ok || e.Code != wire.ErrorAuth {
		t.Fatalf("the node answered a wrong confirmation with %#v, want error(auth)", frames[1])
	}
	// What the record allows to check: only the node's share, which the
	// attacker's own scalar meets in a key for its one guess. No auth
	// frame of the node is there to compare a candidate's key with.
	if _, err := party.Finish(p.Element, true); err != nil {
		t.Fatalf("the node's share is not a valid element: %v", err)
	}
	for _, m := range frames {
		if _, ok := m.(*wire.Auth); ok {
			t.Fatal("the node sent its key confirmation to an initiator that did not confirm")
		}
	}
	// The right guess, by contrast, gets through: the exchange works.
	_, _, _, frames = attackV3(t, tn, guessSecret)
	if len(frames) < 2 {
		t.Fatalf("with the secret: %#v", frames)
	}
	if _, ok := frames[1].(*wire.Auth); !ok {
		t.Fatalf("with the secret the node's second frame is %#v, want its auth", frames[1])
	}
}
