package node

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/services/peer/internal/config"
	"github.com/netlab/netlab/services/peer/internal/wire"
	"github.com/netlab/netlab/services/peer/internal/wire/wiretest"
)

// scriptedPeer is the other side of a handshake. In honest mode it is a
// node speaking protocol version version: as the acceptor (the node
// dialed it) it answers the node's hello with its own, in the lower of
// the two versions (a version-1 acceptor sends its version-1 hello at
// once); as the initiator it opens with its hello. Then it sends an Auth
// computed with its own secret over the node's nonce, then the rest of
// the script. Otherwise it sends the script as is — bytes fixed before
// the node chose its nonce, like a replay.
type scriptedPeer struct {
	wiretest.NopConn
	honest   bool
	acceptor bool
	version  uint8
	hello    wire.Hello
	secret   string
	script   []byte
	out      bytes.Buffer // what the node wrote
	in       bytes.Buffer // what is left to read
	stage    int
	nodeErr  error
}

// helloVersion is the version of the honest peer's hello; as the
// acceptor it needs the node's hello, written by then.
func (p *scriptedPeer) helloVersion() uint8 {
	if !p.acceptor || p.version == wire.Version1 {
		return p.version // an initiator, or an old acceptor, speaks at once
	}
	return p.laterVersion()
}

// laterVersion is the version of the honest peer's frames after its
// hello: the lower of its own and the node's hello's.
func (p *scriptedPeer) laterVersion() uint8 {
	_, v, err := readHello(p.out.Bytes())
	if err != nil {
		p.nodeErr = err
		return p.version
	}
	return min(v, p.version)
}

// frame encodes m for the honest peer in version v, which may be a
// version later than this package's (the layout of hello and auth is the
// same in every version).
func frame(v uint8, m wire.Message) []byte {
	b, err := wire.AppendFrameVersion(nil, min(v, wire.Version), m)
	if err != nil {
		return nil
	}
	b[0] = v
	return b
}

func (p *scriptedPeer) Read(b []byte) (int, error) {
	if p.in.Len() == 0 {
		switch {
		case !p.honest && p.stage == 0:
			p.in.Write(p.script)
		case p.honest && p.stage == 0:
			p.in.Write(frame(p.helloVersion(), &p.hello))
		case p.honest && p.stage == 1:
			// The node's Hello and Auth are written by now.
			h, _, err := readHello(p.out.Bytes())
			if err != nil {
				p.nodeErr = err
				return 0, err
			}
			p.in.Write(frame(p.laterVersion(), &wire.Auth{MAC: authMAC(p.secret, h.Nonce, p.hello.NodeID, p.hello.Nonce)}))
			p.in.Write(p.script)
		default:
			return 0, io.EOF
		}
		p.stage++
	}
	return p.in.Read(b)
}

func (p *scriptedPeer) Write(b []byte) (int, error) { return p.out.Write(b) }

// readHello decodes the first frame of stream, which must be a Hello, and
// returns it with its frame's version.
func readHello(stream []byte) (*wire.Hello, uint8, error) {
	typ, v, payload, err := wire.ReadFrameVersion(bytes.NewReader(stream), nil, wire.AnyVersion)
	if err != nil {
		return nil, v, err
	}
	m, err := wire.Decode(typ, payload)
	if err != nil {
		return nil, v, err
	}
	h, ok := m.(*wire.Hello)
	if !ok {
		return nil, v, errors.New("first frame is not a hello")
	}
	return h, v, nil
}

// FuzzHandshake: as the initiator the node always opens with its own
// Hello in the latest version; as the acceptor it answers an honest
// peer's hello in the lower of the two versions. An honest peer is
// accepted exactly when it is another node with the same secret (and,
// when the node dialed, speaks a version the node can go on in), its
// Hello comes back unchanged and the connection speaks the lower version;
// a scripted byte stream (a replayed handshake included) is never
// accepted, because the node's Auth check covers the nonce it just chose.
func FuzzHandshake(f *testing.F) {
	own := [16]byte{1, 2, 3}
	other := [16]byte{9, 8, 7}
	// A recorded handshake of a peer with the node's secret.
	rec := &scriptedPeer{honest: true, hello: wire.Hello{NodeID: other, ListenPort: 8001, Addr: "peer:8001"}, secret: "s3cret"}
	var replay []byte
	replay, _ = wire.AppendFrame(replay, &rec.hello)
	replay, _ = wire.AppendFrame(replay, &wire.Auth{MAC: authMAC("s3cret", [16]byte{}, other, [16]byte{})})
	f.Add(false, false, uint8(2), replay, other[:], []byte{}, uint16(8001), "peer:8001", "s3cret", "s3cret")
	f.Add(true, false, uint8(2), replay, other[:], []byte{}, uint16(8001), "peer:8001", "s3cret", "s3cret")
	f.Add(false, true, uint8(2), []byte{}, other[:], []byte{5}, uint16(8001), "peer:8001", "s3cret", "s3cret")
	f.Add(true, true, uint8(2), []byte{}, other[:], []byte{5}, uint16(8001), "peer:8001", "s3cret", "s3cret")
	f.Add(true, true, uint8(1), []byte{}, other[:], []byte{5}, uint16(8001), "peer:8001", "", "")
	f.Add(false, true, uint8(1), []byte{}, other[:], []byte{5}, uint16(0), "", "", "")
	f.Add(false, true, uint8(3), []byte{}, other[:], []byte{5}, uint16(8001), "", "s3cret", "wrong")
	f.Add(true, true, uint8(2), []byte{}, own[:], []byte{}, uint16(1), "x:1", "", "")
	f.Add(false, true, uint8(2), []byte{}, own[:], []byte{}, uint16(1), "x:1", "", "")
	errFrame, _ := wire.AppendFrame(nil, &wire.Error{Code: wire.ErrorAuth, Message: "no"})
	f.Add(true, false, uint8(2), append(append([]byte{}, replay[:len(replay)/2]...), errFrame...), other[:], []byte{}, uint16(0), "", "", "")
	f.Add(false, false, uint8(2), errFrame, other[:], []byte{}, uint16(0), "", "", "")
	f.Fuzz(func(t *testing.T, dialed, honest bool, version uint8, script, peerID, peerNonce []byte, port uint16, addr, secret, peerSecret string) {
		if len(addr) > wire.MaxNameLen || len(secret) > 1024 || len(peerSecret) > 1024 ||
			strings.ContainsRune(secret, 0) || strings.ContainsRune(peerSecret, 0) {
			return // PEER_SECRET is at most 1024 bytes without NUL (HMAC pads keys with zeros)
		}
		// Peers of versions 1 and 2, which authenticate with a MAC; the
		// version-3 exchange has its own tests (pake_internal_test.go).
		version = wire.Version1 + version%2
		p := &scriptedPeer{honest: honest, acceptor: dialed, version: version, secret: peerSecret, script: script,
			hello: wire.Hello{ListenPort: port, Addr: addr}}
		copy(p.hello.NodeID[:], peerID)
		copy(p.hello.Nonce[:], peerNonce)
		if _, err := wire.AppendFrame(nil, &p.hello); honest && err != nil {
			return // not a hello an honest peer can send
		}
		n := &Node{id: own, port: 8001, cfg: config.Config{DialTimeout: time.Second, Secret: secret}}
		c := wire.NewConn(p, time.Second)
		var got *wire.Hello
		var err error
		if dialed {
			got, err = n.greet(c, wire.Version)
		} else {
			got, err = n.answerHello(c)
		}
		checkHandshake(t, n, p, c, got, err)
	})
}

// checkHandshake checks FuzzHandshake's claims about one handshake.
func checkHandshake(t *testing.T, n *Node, p *scriptedPeer, c *wire.Conn, got *wire.Hello, err error) {
	t.Helper()
	h, v, herr := readHello(p.out.Bytes())
	refused := p.honest && n.cfg.Secret != "" && (p.hello.NodeID != n.id || !p.acceptor)
	if refused && !p.acceptor {
		// With a secret, a hello of version 1 or 2 is answered with
		// error(version), not a hello.
		if err == nil || !errors.Is(err, errOldVersion) {
			t.Fatalf("a node with a secret took a version-%d peer: %v", p.version, err)
		}
		return
	}
	switch {
	case p.acceptor && (herr != nil || v != wire.Version):
		t.Fatalf("the node did not open with its hello of version %d: %+v, %d, %v", wire.Version, h, v, herr)
	case p.honest && !p.acceptor && (herr != nil || v != min(p.version, wire.Version)):
		t.Fatalf("the node did not answer a hello of version %d in kind: %+v, %d, %v", p.version, h, v, herr)
	case herr == nil && (h.NodeID != n.id || h.ListenPort != 8001):
		t.Fatalf("the node's hello is not its own: %+v", h)
	}
	if p.nodeErr != nil {
		t.Fatal(p.nodeErr)
	}
	if !p.honest {
		if err == nil {
			t.Fatalf("a scripted stream was accepted as %+v", got)
		}
		return
	}
	self := p.hello.NodeID == n.id
	old := p.acceptor && p.version == wire.Version1 && !refused
	want := !self && !old && !refused && p.secret == n.cfg.Secret
	if (err == nil) != want {
		t.Fatalf("honest peer (same node %v, version %d, same secret %v): handshake error %v", self, p.version, p.secret == n.cfg.Secret, err)
	}
	switch {
	case self && !errors.Is(err, errSelf):
		t.Fatalf("connected to itself: %v", err)
	case !self && old && !errors.Is(err, errVersion1):
		t.Fatalf("a version-%d acceptor: %v, want errVersion1", p.version, err)
	case refused && !errors.Is(err, errOldVersion):
		t.Fatalf("a node with a secret and a version-%d acceptor: %v, want errOldVersion", p.version, err)
	case err == nil && *got != p.hello:
		t.Fatalf("handshake returned %+v; the peer sent %+v", got, p.hello)
	case err == nil && c.Version() != min(p.version, wire.Version):
		t.Fatalf("connection speaks version %d with a peer of version %d", c.Version(), p.version)
	}
}

// FuzzPeerAddress: the address a node records for a peer that said hello is
// empty (it cannot be dialed) or already in the normal form SeedAddr gives,
// so the same peer is never recorded twice under two spellings.
func FuzzPeerAddress(f *testing.F) {
	f.Add("", uint16(8001), []byte{10, 0, 0, 2}, uint16(40000))
	f.Add("peer:8001", uint16(0), []byte{10, 0, 0, 2}, uint16(40000))
	f.Add("peer:0080", uint16(0), []byte{127, 0, 0, 1}, uint16(1))
	f.Add("[::1]:8001", uint16(8001), []byte(net.ParseIP("::1")), uint16(1))
	f.Add("a]b:1", uint16(0), []byte{}, uint16(0))
	f.Add("", uint16(1), []byte(net.ParseIP("::ffff:10.0.0.1")), uint16(1))
	f.Fuzz(func(t *testing.T, addr string, port uint16, ip []byte, remotePort uint16) {
		a, _ := netip.AddrFromSlice(ip)
		remote := net.TCPAddrFromAddrPort(netip.AddrPortFrom(a, remotePort))
		got := peerAddress(&wire.Hello{ListenPort: port, Addr: addr}, remote)
		if got == "" {
			if port != 0 {
				t.Fatalf("peer at %v with listen port %d has no address", remote, port)
			}
			return
		}
		if norm, err := config.SeedAddr(got); err != nil || norm != got {
			t.Fatalf("peerAddress(%q, %d, %v) = %q; SeedAddr gives %q, %v", addr, port, remote, got, norm, err)
		}
	})
}
