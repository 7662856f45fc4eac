package node

import (
	"bytes"
	"encoding/hex"
	"net"
	"testing"
	"time"

	"github.com/netlab/netlab/services/peer/internal/config"
	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/cpace"
	"github.com/netlab/netlab/services/peer/internal/wire"
)

// handshakePair runs the handshake between two nodes over a pipe and
// returns both ends.
func handshakePair(t *testing.T, secretI, secretA string, lim wire.RekeyLimits) (ci, ca *wire.Conn, errI, errA error) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	ni := &Node{id: [16]byte{1}, port: 8001, cfg: config.Config{DialTimeout: 5 * time.Second, Secret: secretI}, rekey: lim}
	na := &Node{id: [16]byte{2}, port: 8001, cfg: config.Config{DialTimeout: 5 * time.Second, Secret: secretA}, rekey: lim}
	ci, ca = wire.NewConn(a, 5*time.Second), wire.NewConn(b, 5*time.Second)
	done := make(chan error, 1)
	go func() {
		_, err := na.answerHello(ca)
		if err != nil {
			ca.Close()
		}
		done <- err
	}()
	_, errI = ni.greet(ci)
	if errI != nil {
		ci.Close()
	}
	return ci, ca, errI, <-done
}

func TestExchange_SameSecretSealsDifferentSecretsRefuse(t *testing.T) {
	for _, tc := range []struct {
		name, si, sa string
		ok, sealed   bool
	}{
		{"same secret", "s3cret", "s3cret", true, true},
		{"open swarm", "", "", true, false},
		{"different secrets", "s3cret", "s3creT", false, false},
		{"only the initiator has one", "s3cret", "", false, false},
		{"only the acceptor has one", "", "s3cret", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ci, ca, errI, errA := handshakePair(t, tc.si, tc.sa, wire.RekeyLimits{})
			if (errI == nil) != tc.ok || (errA == nil) != tc.ok {
				t.Fatalf("initiator %v, acceptor %v; want success %v", errI, errA, tc.ok)
			}
			if !tc.ok {
				return
			}
			if ci.Encrypted() != tc.sealed || ca.Encrypted() != tc.sealed || ci.Version() != wire.Version {
				t.Fatalf("sealed %v/%v version %d; want sealed %v, version 3", ci.Encrypted(), ca.Encrypted(), ci.Version(), tc.sealed)
			}
		})
	}
}

// With small limits on both sides a session goes through many keys in
// both directions and stays in step.
func TestExchange_SessionRekeys(t *testing.T) {
	lim := wire.RekeyLimits{Frames: 2, Bytes: 300}
	ci, ca, errI, errA := handshakePair(t, "s3cret", "s3cret", lim)
	if errI != nil || errA != nil {
		t.Fatal(errI, errA)
	}
	done := make(chan error, 1)
	go func() {
		for range 20 {
			m, err := ca.Receive(0)
			if err != nil {
				done <- err
				return
			}
			p := m.(*wire.GetPiece)
			if err := ca.Send(&wire.Piece{ID: p.ID, Index: p.Index, Data: bytes.Repeat([]byte{byte(p.Index)}, 100)}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := range uint32(20) {
		if err := ci.Send(&wire.GetPiece{ID: content.NewID(content.BLAKE3, content.Hash{1}), Index: i}); err != nil {
			t.Fatal(err)
		}
		m, err := ci.Receive(0)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		if p, ok := m.(*wire.Piece); !ok || p.Index != i || p.Data[99] != byte(i) {
			t.Fatalf("answer %d: %#v", i, m)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	sentI, recvI := ci.Rekeys()
	sentA, recvA := ca.Rekeys()
	if sentI != recvA || sentA != recvI || sentI < 9 || sentA < 9 {
		t.Fatalf("rekeys: initiator sent %d received %d, acceptor sent %d received %d", sentI, recvI, sentA, recvA)
	}
}

// The handshake example of docs/peer-protocol.md, with fixed randomness.
func TestExchange_DocumentVector(t *testing.T) {
	hi := &wire.Hello{NodeID: [16]byte(bytes.Repeat([]byte{0x11}, 16)), ListenPort: 8001, Addr: "a:8001"}
	ha := &wire.Hello{NodeID: [16]byte(bytes.Repeat([]byte{0x22}, 16)), ListenPort: 8001, Addr: "b:8001"}
	for i := range 16 {
		hi.Nonce[i], ha.Nonce[i] = 0xa0+byte(i), 0xb0+byte(i)
	}
	var ya, yb [32]byte // the scalars 7 and 11 (little-endian)
	ya[0], yb[0] = 0x07, 0x0b
	ci, sid := pakeInputs(hi, ha)
	pi, err := cpace.Start(ya, []byte("netlab"), ci, sid)
	if err != nil {
		t.Fatal(err)
	}
	pa, err := cpace.Start(yb, []byte("netlab"), ci, sid)
	if err != nil {
		t.Fatal(err)
	}
	isk, err := pi.Finish(pa.Share(), true)
	if err != nil {
		t.Fatal(err)
	}
	k, err := deriveKeys(isk)
	if err != nil {
		t.Fatal(err)
	}
	shareI, shareA := pi.Share(), pa.Share()
	got := map[string][]byte{
		"ci": ci, "sid": sid, "Ya": shareI[:], "Yb": shareA[:], "ISK": isk[:],
		"auth initiator": mac(confirmation(k.confirmI, shareI, shareA)),
		"auth acceptor":  mac(confirmation(k.confirmA, shareI, shareA)),
		"key initiator":  k.trafficI[:], "key acceptor": k.trafficA[:],
	}
	for name, want := range documentVector {
		if hex.EncodeToString(got[name]) != want {
			t.Errorf("%s = %x\nwant %s", name, got[name], want)
		}
	}
}

func mac(m [32]byte) []byte { return m[:] }

var documentVector = map[string]string{
	"ci":             "0e6e65746c61622d706565722d76332911111111111111111111111111111111a0a1a2a3a4a5a6a7a8a9aaabacadaeaf1f4106613a383030312922222222222222222222222222222222b0b1b2b3b4b5b6b7b8b9babbbcbdbebf1f4106623a38303031",
	"sid":            "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf",
	"Ya":             "4e1be59fceda9c72f7dcd64c887cfcafe81ec71b847890dc5480aca19641584b",
	"Yb":             "fa4ec881cc855844bdf3643c0a42eae8f13da51ce93d376281efd700e9a55029",
	"ISK":            "67c550c130693111cc5dde479543aca68284ee2503f0e6bfae2c8f73e561e8663cb5c655aecc6f9f05458677e0acc6138f8ff9833d2f42630fda43225af56d0e",
	"auth initiator": "a9763d99da70a334846fcbdb45b6834c993478ecbce89c6933d8dcc3e5833a1f",
	"auth acceptor":  "e44bfd198172575301db2b493dff1d6dccf2e5e742e5876fc5f661875bac380e",
	"key initiator":  "79ffe1c5080febb840d52f343867e2dc9a818b6396200d48b0cc27fbe076ca8e",
	"key acceptor":   "3b85a4d5158144dbeebeab81681982291f0535d74394508883190b09e77ca400",
}
