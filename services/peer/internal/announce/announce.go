// Package announce routes the pieces a node verifies to the connections it
// serves whose peers asked which pieces of that file it holds (get_have),
// as announce messages (protocol version 2): a downloader then requests a
// new piece at once instead of at its next get_have. Pieces wait in a
// bounded queue per connection and leave coalesced, one message per file
// and up to wire.MaxAnnounce pieces each.
package announce

import (
	"bytes"
	"maps"
	"slices"
	"sync"

	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/wire"
)

// Hub holds every served connection's queue and the files each is
// subscribed to.
type Hub struct {
	maxFiles  int // files one connection may be subscribed to
	maxQueued int // pieces waiting on one connection

	mu   sync.Mutex
	subs map[content.ID]map[*Queue]struct{}
}

// New returns a hub whose queues take at most maxFiles subscriptions and
// hold at most maxQueued pieces each.
func New(maxFiles, maxQueued int) *Hub {
	return &Hub{maxFiles: maxFiles, maxQueued: maxQueued, subs: make(map[content.ID]map[*Queue]struct{})}
}

// Queue is one served connection's: the files its peer asked about and
// the pieces waiting to be announced to it. Its fields are guarded by the
// hub's mutex.
type Queue struct {
	hub     *Hub
	ready   chan struct{}
	files   map[content.ID]struct{}
	pending map[content.ID][]uint32
	queued  int
	closed  bool
}

// Queue returns a new, empty queue for one connection.
func (h *Hub) Queue() *Queue {
	return &Queue{hub: h, ready: make(chan struct{}, 1), files: make(map[content.ID]struct{}),
		pending: make(map[content.ID][]uint32)}
}

// Subscribe makes the pieces of id verified from now on go to q. It
// returns false, and subscribes nothing, when q is closed or already has
// the most files it may have.
func (q *Queue) Subscribe(id content.ID) bool {
	h := q.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := q.files[id]; ok {
		return true
	}
	if q.closed || len(q.files) >= h.maxFiles {
		return false
	}
	q.files[id] = struct{}{}
	if h.subs[id] == nil {
		h.subs[id] = make(map[*Queue]struct{})
	}
	h.subs[id][q] = struct{}{}
	return true
}

// Close unsubscribes q from every file and drops what it still holds.
func (q *Queue) Close() {
	h := q.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	for id := range q.files {
		h.unsubscribeLocked(q, id)
	}
	q.closed, q.pending, q.queued = true, nil, 0
}

func (h *Hub) unsubscribeLocked(q *Queue, id content.ID) {
	delete(q.files, id)
	delete(h.subs[id], q)
	if len(h.subs[id]) == 0 {
		delete(h.subs, id)
	}
}

// Ready receives when pieces are waiting in q.
func (q *Queue) Ready() <-chan struct{} { return q.ready }

// Take removes and returns the waiting pieces as announce messages: one
// per file (more for a file with over wire.MaxAnnounce pieces waiting),
// indexes in increasing order without repeats, files in id order.
func (q *Queue) Take() []wire.Announce {
	h := q.hub
	h.mu.Lock()
	pending := q.pending
	q.pending, q.queued = make(map[content.ID][]uint32), 0
	h.mu.Unlock()
	var out []wire.Announce
	ids := slices.SortedFunc(maps.Keys(pending), func(a, b content.ID) int { return bytes.Compare(a[:], b[:]) })
	for _, id := range ids {
		idx := slices.Compact(slices.Sorted(slices.Values(pending[id])))
		for chunk := range slices.Chunk(idx, wire.MaxAnnounce) {
			out = append(out, wire.Announce{ID: id, Indexes: chunk})
		}
	}
	return out
}

// Publish queues piece index of id for every connection subscribed to id.
// A queue that is full drops it (its peer learns of the piece from its
// next get_have). It returns how many queues took the piece and how many
// dropped it.
func (h *Hub) Publish(id content.ID, index int) (queued, dropped int) {
	if index < 0 || index >= wire.MaxPieces {
		return 0, 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for q := range h.subs[id] {
		if q.queued >= h.maxQueued {
			dropped++
			continue
		}
		q.pending[id] = append(q.pending[id], uint32(index))
		q.queued++
		queued++
		select {
		case q.ready <- struct{}{}:
		default:
		}
	}
	return queued, dropped
}

// Forget ends every subscription to id: the node has all of the file, so
// no piece of it will be verified again. Pieces already queued still go.
func (h *Hub) Forget(id content.ID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for q := range h.subs[id] {
		h.unsubscribeLocked(q, id)
	}
}
