package node_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/node"
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
	wc.SetVersion(wire.Version2)
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

// version1Seed is a peer of protocol version 1 reduced to a seed of one
// file: on each connection it sends its hello at once and refuses a hello
// of a later version (an error, then close), as every version-1 node does;
// then it answers catalog, peers, manifest, have and piece requests.
type version1Seed struct {
	t       *testing.T
	ln      net.Listener
	id      content.ID
	man     content.Manifest
	data    []byte
	mu      sync.Mutex
	refused int // hellos of a later version
	served  int // version-1 connections past the handshake
}

func startVersion1Seed(t *testing.T, data []byte) *version1Seed {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	man, err := content.HashReader(bytes.NewReader(data), int64(len(data)), 16<<10)
	if err != nil {
		t.Fatal(err)
	}
	s := &version1Seed{t: t, ln: ln, id: man.ID(), man: man, data: data}
	acceptEach(t, ln, s.serve)
	return s
}

func (s *version1Seed) counts() (refused, served int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused, s.served
}

func (s *version1Seed) serve(c net.Conn) {
	wc := wire.NewConn(c, 5*time.Second) // speaks version 1 only
	own := &wire.Hello{NodeID: [16]byte{0xee}, ListenPort: uint16(s.ln.Addr().(*net.TCPAddr).Port)}
	_, _ = rand.Read(own.Nonce[:])
	if wc.Send(own) != nil {
		return
	}
	msg, err := wc.Receive(0)
	if errors.Is(err, wire.ErrVersion) {
		s.mu.Lock()
		s.refused++
		s.mu.Unlock()
		_ = wc.Send(&wire.Error{Code: wire.ErrorVersion, Message: err.Error()})
		return
	}
	theirs, ok := msg.(*wire.Hello)
	if !ok || wc.Send(&wire.Auth{MAC: node.TestMAC("", theirs.Nonce, own.NodeID, own.Nonce)}) != nil {
		return
	}
	if _, err := wc.Receive(0); err != nil {
		return
	}
	s.mu.Lock()
	s.served++
	s.mu.Unlock()
	for {
		msg, err := wc.Receive(time.Minute)
		if err != nil || wc.Send(s.answer(msg)) != nil {
			return
		}
	}
}

func (s *version1Seed) answer(msg wire.Message) wire.Message {
	id := [32]byte(s.id)
	switch m := msg.(type) {
	case *wire.GetCatalog:
		return &wire.Catalog{Files: []wire.CatalogEntry{{ID: id, Size: uint64(s.man.Size), PieceSize: uint32(s.man.PieceSize), Name: "old.bin"}}}
	case *wire.GetPeers:
		return &wire.Peers{}
	case *wire.GetManifest:
		return &wire.Manifest{ID: id, Size: uint64(s.man.Size), PieceSize: uint32(s.man.PieceSize), Name: "old.bin", Pieces: s.man.Pieces}
	case *wire.GetHave:
		all := content.NewBitfield(s.man.NumPieces())
		for i := range s.man.NumPieces() {
			all.Set(i)
		}
		return &wire.Have{ID: id, Pieces: uint32(s.man.NumPieces()), Bits: all}
	case *wire.GetPiece:
		off := s.man.PieceOffset(int(m.Index))
		return &wire.Piece{ID: id, Index: m.Index, Data: s.data[off : off+int64(s.man.PieceLen(int(m.Index)))]}
	}
	return &wire.Error{Code: wire.ErrorProtocol, Message: "not a request"}
}

// A node dialing a version-1 peer is refused its version-2 hello, dials
// again in version 1 and downloads by polling.
func TestNode_DialsAVersion1PeerInVersion1(t *testing.T) {
	data := make([]byte, 200<<10)
	_, _ = rand.Read(data)
	old := startVersion1Seed(t, data)
	n := startNode(t, "", map[string]string{"PEERS": old.ln.Addr().String()})
	n.waitPeer(old.ln.Addr().String(), wire.Version1)
	n.download(n.inSwarm("old.bin"), 20*time.Second)
	got, err := os.ReadFile(filepath.Join(n.dir, "old.bin"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("downloaded file differs from the version-1 seed's (%v)", err)
	}
	refused, served := old.counts()
	if refused == 0 || served == 0 {
		t.Fatalf("the version-1 seed refused %d hellos and served %d connections; want both", refused, served)
	}
	if got := counter(t, n, "netlab_peer_dials_version1_total"); got == 0 {
		t.Fatal("dials_version1_total is 0")
	}
}

// A version-1 peer dialing the node is answered in version 1 and polls as
// before: nothing comes unasked while the node verifies more pieces.
func TestNode_ServesAVersion1DialerWithoutAnnouncements(t *testing.T) {
	seed := startNode(t, "", map[string]string{"UPLOAD_RATE": "128KiB", "PIECE_SIZE": "16KiB"})
	writeRandomFile(t, filepath.Join(seed.dir, "slow.bin"), 512<<10) // 32 pieces, about 4 s
	n := startNode(t, "", map[string]string{"PEERS": seed.addr()})
	ref := n.inSwarm("slow.bin")
	id, _ := content.ParseID(ref)
	if code := n.call("POST", "/api/downloads", map[string]string{"ref": ref}, nil); code != 202 {
		t.Fatalf("POST /api/downloads = %d", code)
	}

	_, wc := dialWire(t, n) // a version-1 connection: handshake fails if the node answers in 2
	handshake(t, wc, &wire.Hello{NodeID: [16]byte{8}, ListenPort: 1})
	have := func() *wire.Have {
		t.Helper()
		if err := wc.Send(&wire.GetHave{ID: [32]byte(id)}); err != nil {
			t.Fatal(err)
		}
		m, err := wc.Receive(0)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := m.(*wire.Have)
		return h
	}
	var first *wire.Have
	poll.Until(t, "the download in progress", 10*time.Second, func() bool {
		first = have()
		return first != nil
	})
	before := content.Bitfield(bytes.Clone(first.Bits)).Count()
	if before == int(first.Pieces) {
		t.Fatal("the download finished before the test could watch it")
	}
	var st downloadStatus
	poll.Until(t, "more pieces verified", 20*time.Second, func() bool {
		if err := wc.Wait(100 * time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("a frame came unasked on a version-1 connection (or it failed): %v", err)
		}
		n.call("GET", "/api/downloads/"+ref, nil, &st)
		return st.Verified >= before+4
	})
	if later := have(); content.Bitfield(later.Bits).Count() < before+4 {
		t.Fatalf("have lists %d pieces, want at least %d", content.Bitfield(later.Bits).Count(), before+4)
	}
}
