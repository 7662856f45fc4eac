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
// node speaking an earlier protocol version, 1 to 3: as the acceptor (the
// node dialed it) it answers the node's hello with its own, in the lower
// of the two versions (a version-1 acceptor sends its hello at once); as
// the initiator it opens with its hello. Otherwise it sends the script as
// is, a byte stream fixed before the node chose its nonce, like a replay.
type scriptedPeer struct {
	wiretest.NopConn
	honest   bool
	acceptor bool
	version  uint8
	hello    wire.Hello
	script   []byte
	out      bytes.Buffer // what the node wrote
	in       bytes.Buffer // what is left to read
	stage    int
}

// frame encodes m for the honest peer in version v (the layout of hello
// is the same in every version).
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
		case p.stage > 0:
			return 0, io.EOF
		case p.honest:
			p.in.Write(frame(p.version, &p.hello))
		default:
			p.in.Write(p.script)
		}
		p.stage++
	}
	return p.in.Read(b)
}

func (p *scriptedPeer) Write(b []byte) (int, error) { return p.out.Write(b) }

type written struct {
	version uint8
	msg     wire.Message
}

// readFrames decodes every frame of stream (frames of any version from 1
// on, in version 4's layouts: the node sends hello and error only here).
func readFrames(stream []byte) ([]written, error) {
	r := bytes.NewReader(stream)
	var out []written
	for r.Len() > 0 {
		typ, v, payload, err := wire.ReadFrameVersion(r, nil, wire.AnyVersion)
		if err != nil {
			return out, err
		}
		m, err := wire.Decode(typ, payload)
		if err != nil {
			return out, err
		}
		out = append(out, written{v, m})
	}
	return out, nil
}

// FuzzHandshake: as the initiator the node always opens with its own
// hello in the latest version. A node of version 4 speaks to nodes of
// version 4 only: an honest peer of an earlier version is refused with
// error(version), in that peer's version, as the initiator after the
// peer's hello (unless the peer is the node itself) and as the acceptor
// instead of the node's hello. A scripted byte stream (a replayed
// handshake included) is never accepted.
func FuzzHandshake(f *testing.F) {
	own := [16]byte{1, 2, 3}
	other := [16]byte{9, 8, 7}
	rec := wire.Hello{NodeID: other, ListenPort: 8001, Addr: "peer:8001"}
	replay, _ := wire.AppendFrameVersion(nil, wire.Version, &rec)
	replay, _ = wire.AppendFrameVersion(replay, wire.Version, &wire.Auth{})
	f.Add(false, false, uint8(2), replay, other[:], []byte{}, uint16(8001), "peer:8001", "s3cret", "s3cret")
	f.Add(true, false, uint8(2), replay, other[:], []byte{}, uint16(8001), "peer:8001", "s3cret", "s3cret")
	f.Add(false, true, uint8(2), []byte{}, other[:], []byte{5}, uint16(8001), "peer:8001", "s3cret", "s3cret")
	f.Add(true, true, uint8(2), []byte{}, other[:], []byte{5}, uint16(8001), "peer:8001", "s3cret", "s3cret")
	f.Add(true, true, uint8(1), []byte{}, other[:], []byte{5}, uint16(8001), "peer:8001", "", "")
	f.Add(false, true, uint8(1), []byte{}, other[:], []byte{5}, uint16(0), "", "", "")
	f.Add(false, true, uint8(3), []byte{}, other[:], []byte{5}, uint16(8001), "", "s3cret", "wrong")
	f.Add(true, true, uint8(3), []byte{}, other[:], []byte{5}, uint16(8001), "", "", "")
	f.Add(true, true, uint8(2), []byte{}, own[:], []byte{}, uint16(1), "x:1", "", "")
	f.Add(false, true, uint8(2), []byte{}, own[:], []byte{}, uint16(1), "x:1", "", "")
	errFrame, _ := wire.AppendFrame(nil, &wire.Error{Code: wire.ErrorAuth, Message: "no"})
	f.Add(true, false, uint8(2), append(append([]byte{}, replay[:len(replay)/2]...), errFrame...), other[:], []byte{}, uint16(0), "", "", "")
	f.Add(false, false, uint8(2), errFrame, other[:], []byte{}, uint16(0), "", "", "")
	f.Fuzz(func(t *testing.T, dialed, honest bool, version uint8, script, peerID, peerNonce []byte, port uint16, addr, secret, _ string) {
		if len(addr) > wire.MaxNameLen || len(secret) > 1024 || strings.ContainsRune(secret, 0) {
			return // PEER_SECRET is at most 1024 bytes without NUL
		}
		// Peers of versions 1 to 3; version 4's exchange has its own
		// tests (pake_internal_test.go).
		version = wire.Version1 + version%3
		p := &scriptedPeer{honest: honest, acceptor: dialed, version: version, script: script,
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
			got, err = n.greet(c)
		} else {
			got, err = n.answerHello(c)
		}
		checkHandshake(t, n, p, got, err)
	})
}

// checkHandshake checks FuzzHandshake's claims about one handshake.
func checkHandshake(t *testing.T, n *Node, p *scriptedPeer, got *wire.Hello, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("a peer of version %d (honest %v) was accepted as %+v", p.version, p.honest, got)
	}
	frames, ferr := readFrames(p.out.Bytes())
	if p.acceptor {
		if len(frames) == 0 {
			t.Fatalf("the node did not open with its hello: %v", ferr)
		}
		h, ok := frames[0].msg.(*wire.Hello)
		if !ok || frames[0].version != wire.Version || h.NodeID != n.id || h.ListenPort != 8001 {
			t.Fatalf("the node did not open with its own hello of version %d: %+v", wire.Version, frames[0])
		}
		frames = frames[1:]
	}
	if !p.honest {
		return
	}
	if p.acceptor && p.hello.NodeID == n.id {
		if !errors.Is(err, errSelf) || len(frames) != 0 {
			t.Fatalf("connected to itself: %v, then sent %+v", err, frames)
		}
		return
	}
	if !errors.Is(err, errOldVersion) {
		t.Fatalf("a peer of version %d: %v, want errOldVersion", p.version, err)
	}
	if len(frames) != 1 {
		t.Fatalf("after a version-%d hello the node sent %d frames (%v), want error(version)", p.version, len(frames), ferr)
	}
	e, ok := frames[0].msg.(*wire.Error)
	if !ok || e.Code != wire.ErrorVersion || frames[0].version != p.version || !strings.Contains(e.Message, "protocol version 4") {
		t.Fatalf("a peer of version %d got %+v in version %d, want error(version) in its version", p.version, frames[0].msg, frames[0].version)
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
