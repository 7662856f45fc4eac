package announce_test

import (
	"reflect"
	"sync"
	"testing"

	"github.com/netlab/netlab/services/peer/internal/announce"
	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/wire"
)

var (
	fileA = content.NewID(content.BLAKE3, content.Hash{0xa})
	fileB = content.NewID(content.BLAKE3, content.Hash{0xb})
)

func ready(q *announce.Queue) bool {
	select {
	case <-q.Ready():
		return true
	default:
		return false
	}
}

func TestQueue_GetsThePiecesOfItsFilesCoalesced(t *testing.T) {
	h := announce.New(4, 100)
	q, other := h.Queue(), h.Queue()
	h.Publish(fileA, 1) // before anyone asked: nobody gets it
	if !q.Subscribe(fileA) || !q.Subscribe(fileB) || !other.Subscribe(fileB) {
		t.Fatal("Subscribe refused under the limit")
	}
	if ready(q) {
		t.Fatal("ready before any piece was published")
	}
	for _, p := range []struct {
		id content.ID
		i  int
	}{{fileB, 7}, {fileA, 9}, {fileA, 2}, {fileA, 9}, {fileB, 3}} {
		h.Publish(p.id, p.i)
	}
	if !ready(q) || !ready(other) {
		t.Fatal("not ready after pieces were published")
	}
	want := []wire.Announce{
		{ID: fileA, Indexes: []uint32{2, 9}},
		{ID: fileB, Indexes: []uint32{3, 7}},
	}
	if got := q.Take(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Take = %+v, want %+v", got, want)
	}
	if got := other.Take(); !reflect.DeepEqual(got, want[1:]) {
		t.Fatalf("the other queue took %+v, want only file B's pieces", got)
	}
	if got := q.Take(); len(got) != 0 {
		t.Fatalf("second Take = %+v, want nothing", got)
	}
	for _, a := range want {
		if _, err := wire.AppendFrameVersion(nil, wire.Version2, a); err != nil {
			t.Fatalf("an announce from Take is not valid on the wire: %v", err)
		}
	}
}

func TestQueue_Limits(t *testing.T) {
	h := announce.New(2, 3)
	q := h.Queue()
	if !q.Subscribe(fileA) || !q.Subscribe(fileB) {
		t.Fatal("Subscribe refused under the limit")
	}
	if q.Subscribe(content.NewID(content.BLAKE3, content.Hash{0xc})) {
		t.Fatal("a third file subscribed with a limit of 2")
	}
	if !q.Subscribe(fileA) {
		t.Fatal("subscribing again to a file refused at the limit")
	}
	queued, dropped := 0, 0
	for i := range 5 {
		qn, dn := h.Publish(fileA, i)
		queued, dropped = queued+qn, dropped+dn
	}
	if queued != 3 || dropped != 2 {
		t.Fatalf("queued %d, dropped %d; want 3 and 2 with room for 3", queued, dropped)
	}
	if got := q.Take(); len(got) != 1 || len(got[0].Indexes) != 3 {
		t.Fatalf("Take = %+v", got)
	}
	if qn, _ := h.Publish(fileA, 4); qn != 1 {
		t.Fatal("the queue has no room after Take emptied it")
	}
	if qn, _ := h.Publish(fileA, wire.MaxPieces); qn != 0 {
		t.Fatal("an index over MaxPieces was queued")
	}
}

func TestQueue_SplitsAtMaxAnnounce(t *testing.T) {
	h := announce.New(1, 3*wire.MaxAnnounce)
	q := h.Queue()
	q.Subscribe(fileA)
	for i := range wire.MaxAnnounce + 5 {
		h.Publish(fileA, i)
	}
	got := q.Take()
	if len(got) != 2 || len(got[0].Indexes) != wire.MaxAnnounce || len(got[1].Indexes) != 5 ||
		got[1].Indexes[0] != wire.MaxAnnounce {
		t.Fatalf("Take gave %d messages", len(got))
	}
}

func TestQueue_CloseAndForget(t *testing.T) {
	h := announce.New(4, 100)
	q, r := h.Queue(), h.Queue()
	q.Subscribe(fileA)
	r.Subscribe(fileA)
	r.Subscribe(fileB)
	h.Publish(fileA, 1)
	h.Forget(fileA)
	if qn, _ := h.Publish(fileA, 2); qn != 0 {
		t.Fatal("a piece of a forgotten file was queued")
	}
	if got := q.Take(); len(got) != 1 || !reflect.DeepEqual(got[0].Indexes, []uint32{1}) {
		t.Fatalf("pieces queued before Forget: %+v", got)
	}
	r.Close()
	if qn, _ := h.Publish(fileB, 1); qn != 0 {
		t.Fatal("a closed queue took a piece")
	}
	if r.Subscribe(fileB) {
		t.Fatal("a closed queue subscribed")
	}
	if got := r.Take(); len(got) != 0 {
		t.Fatalf("a closed queue held %+v", got)
	}
}

func TestHub_Concurrent(t *testing.T) {
	h := announce.New(8, 1<<16)
	var wg sync.WaitGroup
	got := make([]map[uint32]bool, 4)
	var subscribed sync.WaitGroup
	subscribed.Add(len(got))
	done := make(chan struct{})
	for k := range got {
		got[k] = make(map[uint32]bool)
		wg.Go(func() {
			q := h.Queue()
			defer q.Close()
			q.Subscribe(fileA)
			subscribed.Done()
			for {
				select {
				case <-q.Ready():
				case <-done:
					for _, a := range q.Take() {
						for _, i := range a.Indexes {
							got[k][i] = true
						}
					}
					return
				}
				for _, a := range q.Take() {
					for _, i := range a.Indexes {
						got[k][i] = true
					}
				}
			}
		})
	}
	subscribed.Wait()
	var pub sync.WaitGroup
	for p := range 4 {
		pub.Go(func() {
			for i := p; i < 2000; i += 4 {
				h.Publish(fileA, i)
			}
		})
	}
	pub.Wait()
	close(done)
	wg.Wait()
	for k, g := range got {
		if len(g) != 2000 {
			t.Fatalf("queue %d got %d pieces, want 2000", k, len(g))
		}
	}
}
