package node_test

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/wire"
	"github.com/netlab/netlab/services/platform/poll"
)

func counter(t testing.TB, tn *testNode, name string, labels ...string) float64 {
	t.Helper()
	return testutil.ToFloat64(mustCounter(t, tn.reg, name, labels...))
}

type peerStatus struct {
	Addr      string `json:"addr"`
	Connected bool   `json:"connected"`
	Version   int    `json:"version"`
}

// waitPeer waits until tn is connected to addr in protocol version v.
func (tn *testNode) waitPeer(addr string, v int) {
	tn.t.Helper()
	poll.Until(tn.t, "a connection to "+addr, 10*time.Second, func() bool {
		var peers []peerStatus
		tn.call("GET", "/api/peers", nil, &peers)
		for _, p := range peers {
			if p.Addr == addr && p.Connected && p.Version == v {
				return true
			}
		}
		return false
	})
}

// A chain seed → a → b, where b is connected to a alone and asks a for its
// have list once a second: the pieces a verifies reach b through
// announcements, which b requests before its next have.
func TestNode_AnnouncesVerifiedPiecesDownAChain(t *testing.T) {
	// 64 pieces at 256 KiB/s: a takes about 4 s, several have polls of b.
	seed := startNode(t, "", map[string]string{"UPLOAD_RATE": "256KiB", "PIECE_SIZE": "16KiB"})
	want := writeRandomFile(t, filepath.Join(seed.dir, "chain.bin"), 1<<20)
	a := startNode(t, "", map[string]string{"PEERS": seed.addr()})
	id := a.inSwarm("chain.bin")
	b := startNode(t, "", map[string]string{"PEERS": a.addr(), "MAX_PEERS": "1", "REFRESH_INTERVAL": "1h"})
	b.waitPeer(a.addr(), wire.Version)

	for _, tn := range []*testNode{a, b} {
		if code := tn.call("POST", "/api/downloads", map[string]string{"ref": id}, nil); code != 202 {
			t.Fatalf("POST /api/downloads = %d", code)
		}
	}
	st := b.waitDownload(id, 60*time.Second)
	if fileHash(t, filepath.Join(b.dir, "chain.bin")) != want {
		t.Fatal("b's file differs from the seed's")
	}
	if len(st.Sources) != 1 || st.Sources[a.addr()].Pieces == 0 {
		t.Fatalf("b's pieces came from %v, want from a (%s) alone", st.Sources, a.addr())
	}
	sent := counter(t, a, "netlab_peer_announced_pieces_sent_total")
	received := counter(t, b, "netlab_peer_announced_pieces_received_total")
	requested := counter(t, b, "netlab_peer_announced_requests_total")
	t.Logf("a announced %v pieces; b received %v announcements and requested %v pieces known from them alone", sent, received, requested)
	if sent == 0 || received == 0 {
		t.Fatalf("no announcements: a sent %v, b received %v", sent, received)
	}
	if requested == 0 {
		t.Fatal("b requested no piece on an announcement: it waited for its have polls")
	}
	if dropped := counter(t, a, "netlab_peer_announced_pieces_dropped_total"); dropped != 0 {
		t.Fatalf("a dropped %v announcements", dropped)
	}
}

// A node with SERVE_PIECES=false downloads, but sends no piece to anyone:
// a third node gets every piece from the seed although the quiet node holds
// the whole file.
func TestNode_ServePiecesOffUploadsNothing(t *testing.T) {
	seed := startNode(t, "", map[string]string{"UPLOAD_RATE": "1MiB"})
	want := writeRandomFile(t, filepath.Join(seed.dir, "f.bin"), 1<<20)
	quiet := startNode(t, "", map[string]string{"PEERS": seed.addr(), "SERVE_PIECES": "false"})
	quiet.download(quiet.inSwarm("f.bin"), 30*time.Second)
	if fileHash(t, filepath.Join(quiet.dir, "f.bin")) != want {
		t.Fatal("the quiet node's file differs from the seed's")
	}

	c := startNode(t, "", map[string]string{"PEERS": seed.addr() + "," + quiet.addr()})
	c.waitHolders(2)
	st := c.download("f.bin", 30*time.Second)
	if fileHash(t, filepath.Join(c.dir, "f.bin")) != want {
		t.Fatal("downloaded file differs from the seed's")
	}
	if _, ok := st.Sources[quiet.addr()]; ok || len(st.Sources) != 1 {
		t.Fatalf("pieces came from %v, want from the seed (%s) alone", st.Sources, seed.addr())
	}
	var s struct {
		ServePieces    bool  `json:"serve_pieces"`
		BytesUploaded  int64 `json:"bytes_uploaded"`
		PiecesUploaded int64 `json:"pieces_uploaded"`
	}
	quiet.call("GET", "/api/status", nil, &s)
	if s.ServePieces || s.BytesUploaded != 0 || s.PiecesUploaded != 0 {
		t.Fatalf("quiet node's status: %+v, want serving off and nothing uploaded", s)
	}
	if up := counter(t, quiet, "netlab_peer_bytes_uploaded_total"); up != 0 {
		t.Fatalf("bytes_uploaded_total = %v on a node that serves no pieces", up)
	}
	seed.call("GET", "/api/status", nil, &s)
	if !s.ServePieces || s.BytesUploaded < 2<<20 {
		t.Fatalf("seed's status: %+v, want both copies uploaded", s)
	}
}

// On the wire, a node that serves no pieces lists none in its have
// answers and rejects get_piece as not_serving; everything else works.
func TestNode_ServePiecesOffOnTheWire(t *testing.T) {
	n := startNode(t, "", map[string]string{"SERVE_PIECES": "false"})
	writeRandomFile(t, filepath.Join(n.dir, "x.bin"), 100<<10) // 2 pieces
	var files []struct{ ID string }
	poll.Until(t, "the file in the catalog", 5*time.Second, func() bool {
		n.call("GET", "/api/catalog", nil, &files)
		return len(files) == 1
	})
	id, _ := content.ParseID(files[0].ID)

	_, wc := dialWire(t, n)
	handshake(t, wc, &wire.Hello{NodeID: [16]byte{7}, ListenPort: 1})
	ask := func(req wire.Message) wire.Message {
		t.Helper()
		if err := wc.Send(req); err != nil {
			t.Fatal(err)
		}
		m, err := wc.Receive(0)
		if err != nil {
			t.Fatalf("answer to %s: %v", req.Type(), err)
		}
		return m
	}
	if m, ok := ask(&wire.GetManifest{ID: id}).(*wire.Manifest); !ok || len(m.Pieces) != 2 {
		t.Fatalf("manifest: %+v", m)
	}
	if h, ok := ask(&wire.GetHave{ID: id}).(*wire.Have); !ok || h.Pieces != 2 || h.Has(0) || h.Has(1) {
		t.Fatalf("have: %+v, want 2 pieces, none listed", h)
	}
	r, ok := ask(&wire.GetPiece{ID: id, Index: 0}).(*wire.Reject)
	if !ok || r.Code != wire.RejectNotServing {
		t.Fatalf("get_piece answered %+v, want a not_serving reject", r)
	}
	if c, ok := ask(&wire.GetCatalog{}).(*wire.Catalog); !ok || len(c.Files) != 1 {
		t.Fatalf("catalog after the reject: %+v", c)
	}
	if got := counter(t, n, "netlab_peer_requests_rejected_total", "not_serving"); got != 1 {
		t.Fatalf(`requests_rejected_total{code="not_serving"} = %v, want 1`, got)
	}
}

// A peer of an earlier protocol version dialing the node gets
// error(version), in its own version, instead of the node's hello: its
// 32-byte SHA-256 ids do not fit version 4's messages.
func TestNode_RefusesAnEarlierVersionsHello(t *testing.T) {
	n := startNode(t, "", nil)
	for _, v := range []uint8{wire.Version1, wire.Version2, wire.Version3} {
		c, _ := dialWire(t, n)
		hello, err := wire.AppendFrameVersion(nil, v, &wire.Hello{NodeID: [16]byte{9, v}, ListenPort: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(hello); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		typ, got, payload, err := wire.ReadFrameVersion(c, nil, wire.AnyVersion)
		if err != nil {
			t.Fatalf("version %d: %v", v, err)
		}
		m, err := wire.Decode(typ, payload)
		e, ok := m.(*wire.Error)
		if err != nil || !ok || e.Code != wire.ErrorVersion || got != v ||
			!strings.Contains(e.Message, fmt.Sprintf("version %d refused", v)) || !strings.Contains(e.Message, "protocol version 4 only") {
			t.Fatalf("a version-%d hello answered %+v in version %d (%v), want error(version) in version %d", v, m, got, err, v)
		}
	}
	// The node counts a refusal once the error frame is out: wait for it.
	poll.Until(t, `connections_rejected_total{reason="version"} = 3`, 5*time.Second, func() bool {
		return counter(t, n, "netlab_peer_connections_rejected_total", "version") == 3
	})
}

// A node dialing a peer that answers in an earlier version sends it
// error(version), in that version, and closes.
func TestNode_RefusesAnEarlierVersionsAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusals := make(chan *wire.Error, 16)
	acceptEach(t, ln, func(c net.Conn) {
		wc := wire.NewConn(c, 5*time.Second)
		if _, _, err := wc.ReceiveFirst(5 * time.Second); err != nil {
			return
		}
		wc.SetVersion(wire.Version3) // a version-3 acceptor answers in 3
		if wc.Send(&wire.Hello{NodeID: [16]byte{0xee}, ListenPort: 1}) != nil {
			return
		}
		if m, err := wc.Receive(0); err == nil {
			if e, ok := m.(*wire.Error); ok {
				refusals <- e
			}
		}
	})
	n := startNode(t, "", map[string]string{"PEERS": ln.Addr().String()})
	select {
	case e := <-refusals:
		if e.Code != wire.ErrorVersion || !strings.Contains(e.Message, "version 3 refused") {
			t.Fatalf("the version-3 peer got %+v, want error(version)", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the node did not refuse a version-3 acceptor with error(version)")
	}
	// Counted as the accepting side counts a bad frame's version.
	deadline := time.Now().Add(5 * time.Second)
	for counter(t, n, "netlab_peer_frames_invalid_total", "version") < 1 {
		if time.Now().After(deadline) {
			t.Fatal(`frames_invalid_total{reason="version"} stayed 0 after a version-3 acceptor was refused`)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
