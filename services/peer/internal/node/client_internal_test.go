package node

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/picker"
	"github.com/netlab/netlab/services/peer/internal/wire"
)

// pipePeer returns a peerConn whose other end the test plays,
// and the announcements the connection passed on.
func pipePeer(t *testing.T, onAnnounce func(*wire.Announce) error) (*peerConn, *wire.Conn) {
	t.Helper()
	a, b := net.Pipe()
	wc, other := wire.NewConn(a, 2*time.Second), wire.NewConn(b, 2*time.Second)
	wc.SetVersion(wire.Version)
	other.SetVersion(wire.Version)
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	pc := &peerConn{
		addr: "peer:1", wc: wc, idleWait: 20 * time.Millisecond, metrics: m,
		onAnnounce: func(_ string, m *wire.Announce) error { return onAnnounce(m) },
		pending:    make(chan *call, 4), closed: make(chan struct{}),
	}
	go pc.readLoop()
	t.Cleanup(func() { pc.close(errors.New("test over")); other.Close() })
	return pc, other
}

// Announcements come whenever the peer sends them, before an answer or
// while nothing is asked, and never take an answer's place.
func TestPeerConn_ReadsAnnouncementsBetweenAnswers(t *testing.T) {
	announced := make(chan []uint32, 4)
	pc, other := pipePeer(t, func(m *wire.Announce) error {
		announced <- m.Indexes
		return nil
	})
	go func() {
		_ = other.Send(&wire.Announce{ID: content.NewID(content.BLAKE3, content.Hash{1}), Indexes: []uint32{1}}) // nothing asked yet
		if _, err := other.Receive(0); err != nil {
			return
		}
		_ = other.Send(&wire.Announce{ID: content.NewID(content.BLAKE3, content.Hash{1}), Indexes: []uint32{2, 3}})
		_ = other.Send(&wire.Peers{Addrs: []string{"x:1"}})
	}()
	if got := <-announced; !reflect.DeepEqual(got, []uint32{1}) {
		t.Fatalf("announced %v while nothing was asked, want [1]", got)
	}
	r := pc.do(context.Background(), &wire.GetPeers{})
	if m, ok := r.msg.(*wire.Peers); r.err != nil || !ok || len(m.Addrs) != 1 {
		t.Fatalf("answer = %+v, %v; want the peers", r.msg, r.err)
	}
	if got := <-announced; !reflect.DeepEqual(got, []uint32{2, 3}) {
		t.Fatalf("announced %v before the answer, want [2 3]", got)
	}
}

func TestPeerConn_ClosesOnAnUnaskedAnswerOrABadAnnouncement(t *testing.T) {
	for _, tt := range []struct {
		name       string
		msg        wire.Message
		unexpected float64 // counted in frames_invalid_total, as the accepting side does
	}{
		{"answer nobody asked for", &wire.Peers{}, 1},
		{"announcement the download refuses", &wire.Announce{ID: content.NewID(content.BLAKE3, content.Hash{1}), Indexes: []uint32{9}}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pc, other := pipePeer(t, func(*wire.Announce) error { return errors.New("no such piece") })
			go func() { _ = other.Send(tt.msg) }()
			// The node tells the peer why before it closes.
			m, err := other.Receive(0)
			if e, ok := m.(*wire.Error); err != nil || !ok || e.Code != wire.ErrorProtocol {
				t.Fatalf("peer got %+v, %v; want a protocol error", m, err)
			}
			select {
			case <-pc.closed:
			case <-time.After(2 * time.Second):
				t.Fatal("connection still open")
			}
			if got := testutil.ToFloat64(pc.metrics.framesInvalid.WithLabelValues("unexpected")); got != tt.unexpected {
				t.Errorf(`frames_invalid_total{reason="unexpected"} = %v, want %v`, got, tt.unexpected)
			}
		})
	}
}

func testDownload(np int) *download {
	dl := &download{
		d:        &downloads{},
		manifest: content.Manifest{PieceSize: 16 << 10, Size: int64(np) * 16 << 10, Pieces: make([]content.Hash, np)},
		picker:   picker.New(np, nil),
		holders:  make(map[string]content.Bitfield), fresh: make(map[string]content.Bitfield),
		kicks: make(map[string]chan struct{}),
	}
	return dl
}

// Announced pieces count as held by the peer at once, wake its worker, and
// survive a have answer built before they were verified.
func TestDownload_Announced(t *testing.T) {
	dl := testDownload(10)
	if err := dl.announced("a", []uint32{3, 10}); err == nil {
		t.Fatal("an index past the piece count was taken")
	}
	if err := dl.announced("a", []uint32{1}); err != nil { // before the worker's first have
		t.Fatal(err)
	}
	kick := make(chan struct{}, 1)
	dl.kicks["a"] = kick
	dl.holders["a"] = content.NewBitfield(10)
	dl.holders["a"].Set(0)
	if err := dl.announced("a", []uint32{4, 5}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-kick:
	default:
		t.Fatal("the worker was not woken")
	}
	for _, i := range []int{0, 4, 5} {
		if !dl.holders["a"].Has(i) {
			t.Fatalf("piece %d not held by the peer after its announcement", i)
		}
	}
	if got, ok := dl.picker.Pick("a", dl.holders["a"]); !ok || (got != 0 && got != 4 && got != 5) {
		t.Fatalf("Pick = %d, %v", got, ok)
	}
	// What a have answer built before pieces 1, 4 and 5 were verified
	// lists, merged as refreshHave merges it.
	have := content.NewBitfield(10)
	have.Set(0)
	have.Set(4)
	dl.mergeFreshLocked("a", have)
	fresh := dl.fresh["a"]
	for _, i := range []int{0, 1, 4, 5} {
		if !have.Has(i) {
			t.Fatalf("piece %d lost by the merge", i)
		}
	}
	if fresh.Has(4) || !fresh.Has(1) || !fresh.Has(5) {
		t.Fatal("pieces the have lists are still marked as known from announcements alone")
	}

	noManifest := &download{}
	if err := noManifest.announced("a", []uint32{99}); err != nil {
		t.Fatalf("a download still finding its manifest: %v", err)
	}
}

// A manifest page naming the asked digest under another hash algorithm
// is another file: the connection ends with a protocol error rather than
// the download taking hashes it would verify with the wrong function.
func TestPeerConn_ManifestOfAnotherAlgorithmRefused(t *testing.T) {
	pc, other := pipePeer(t, func(*wire.Announce) error { return nil })
	asked := content.NewID(content.BLAKE3, content.Hash{7})
	go func() {
		m, err := other.Receive(0)
		if err != nil {
			return
		}
		req := m.(*wire.GetManifestPage)
		same := content.NewID(content.SHA256, req.ID.Digest())
		_ = other.Send(&wire.ManifestPage{ID: same, Size: 1, PieceSize: 16 << 10, Name: "x", Pieces: 1, Hashes: [][32]byte{{1}}})
		_, _ = other.Receive(0) // the node's error
	}()
	if _, err := pc.manifest(context.Background(), asked); err == nil || !strings.Contains(err.Error(), "does not continue") {
		t.Fatalf("manifest = %v, want the page of the other algorithm refused", err)
	}
	select {
	case <-pc.closed:
	case <-time.After(2 * time.Second):
		t.Fatal("connection still open")
	}
}
