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

// scriptedPeer is the other side of a handshake. In honest mode it sends a
// well-formed Hello, then an Auth computed with its own secret over the
// node's nonce, then the rest of the script; otherwise it sends the script
// as is — bytes fixed before the node chose its nonce, like a replay.
type scriptedPeer struct {
	wiretest.NopConn
	honest  bool
	hello   wire.Hello
	secret  string
	script  []byte
	out     bytes.Buffer // what the node wrote
	in      bytes.Buffer // what is left to read
	stage   int
	nodeErr error
}

func (p *scriptedPeer) Read(b []byte) (int, error) {
	if p.in.Len() == 0 {
		switch {
		case !p.honest && p.stage == 0:
			p.in.Write(p.script)
		case p.honest && p.stage == 0:
			frame, err := wire.AppendFrame(nil, &p.hello)
			if err != nil {
				return 0, err
			}
			p.in.Write(frame)
		case p.honest && p.stage == 1:
			// The node's Hello and Auth are written by now.
			h, err := readHello(p.out.Bytes())
			if err != nil {
				p.nodeErr = err
				return 0, err
			}
			frame, _ := wire.AppendFrame(nil, &wire.Auth{MAC: authMAC(p.secret, h.Nonce, p.hello.NodeID, p.hello.Nonce)})
			p.in.Write(frame)
			p.in.Write(p.script)
		default:
			return 0, io.EOF
		}
		p.stage++
	}
	return p.in.Read(b)
}

func (p *scriptedPeer) Write(b []byte) (int, error) { return p.out.Write(b) }

// readHello decodes the first frame of stream, which must be a Hello.
func readHello(stream []byte) (*wire.Hello, error) {
	typ, payload, err := wire.ReadFrame(bytes.NewReader(stream), nil)
	if err != nil {
		return nil, err
	}
	m, err := wire.Decode(typ, payload)
	if err != nil {
		return nil, err
	}
	h, ok := m.(*wire.Hello)
	if !ok {
		return nil, errors.New("first frame is not a hello")
	}
	return h, nil
}

// FuzzHandshake: the node always opens with its own Hello; an honest peer
// is accepted exactly when it is another node with the same secret, and its
// Hello comes back unchanged; a scripted byte stream (a replayed handshake
// included) is never accepted, because the node's Auth check covers the
// nonce it just chose.
func FuzzHandshake(f *testing.F) {
	own := [16]byte{1, 2, 3}
	other := [16]byte{9, 8, 7}
	// A recorded handshake of a peer with the node's secret.
	rec := &scriptedPeer{honest: true, hello: wire.Hello{NodeID: other, ListenPort: 8001, Addr: "peer:8001"}, secret: "s3cret"}
	var replay []byte
	replay, _ = wire.AppendFrame(replay, &rec.hello)
	replay, _ = wire.AppendFrame(replay, &wire.Auth{MAC: authMAC("s3cret", [16]byte{}, other, [16]byte{})})
	f.Add(false, replay, other[:], []byte{}, uint16(8001), "peer:8001", "s3cret", "s3cret")
	f.Add(true, []byte{}, other[:], []byte{5}, uint16(8001), "peer:8001", "s3cret", "s3cret")
	f.Add(true, []byte{}, other[:], []byte{5}, uint16(0), "", "", "")
	f.Add(true, []byte{}, other[:], []byte{5}, uint16(8001), "", "s3cret", "wrong")
	f.Add(true, []byte{}, own[:], []byte{}, uint16(1), "x:1", "", "")
	errFrame, _ := wire.AppendFrame(nil, &wire.Error{Code: wire.ErrorAuth, Message: "no"})
	f.Add(false, append(append([]byte{}, replay[:len(replay)/2]...), errFrame...), other[:], []byte{}, uint16(0), "", "", "")
	f.Add(false, errFrame, other[:], []byte{}, uint16(0), "", "", "")
	f.Fuzz(func(t *testing.T, honest bool, script, peerID, peerNonce []byte, port uint16, addr, secret, peerSecret string) {
		if len(addr) > wire.MaxNameLen || len(secret) > 1024 || len(peerSecret) > 1024 ||
			strings.ContainsRune(secret, 0) || strings.ContainsRune(peerSecret, 0) {
			return // PEER_SECRET is at most 1024 bytes without NUL (HMAC pads keys with zeros)
		}
		p := &scriptedPeer{honest: honest, secret: peerSecret, script: script,
			hello: wire.Hello{ListenPort: port, Addr: addr}}
		copy(p.hello.NodeID[:], peerID)
		copy(p.hello.Nonce[:], peerNonce)
		if _, err := wire.AppendFrame(nil, &p.hello); honest && err != nil {
			return // not a hello an honest peer can send
		}
		n := &Node{id: own, port: 8001, cfg: config.Config{DialTimeout: time.Second, Secret: secret}}
		got, err := n.handshake(wire.NewConn(p, time.Second))

		h, herr := readHello(p.out.Bytes())
		if herr != nil || h.NodeID != own || h.ListenPort != 8001 {
			t.Fatalf("the node did not open with its hello: %+v, %v", h, herr)
		}
		if p.nodeErr != nil {
			t.Fatal(p.nodeErr)
		}
		if !honest {
			if err == nil {
				t.Fatalf("a scripted stream was accepted as %+v", got)
			}
			return
		}
		want := p.hello.NodeID != own && peerSecret == secret
		if (err == nil) != want {
			t.Fatalf("honest peer (same node %v, same secret %v): handshake error %v", p.hello.NodeID == own, peerSecret == secret, err)
		}
		if err == nil && *got != p.hello {
			t.Fatalf("handshake returned %+v; the peer sent %+v", got, p.hello)
		}
		if p.hello.NodeID == own && !errors.Is(err, errSelf) {
			t.Fatalf("connected to itself: %v", err)
		}
	})
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
