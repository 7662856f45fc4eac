package web

import (
	"errors"
	"sync"
	"sync/atomic"
)

// Page is what a browser shows: the overview, the swarm, or a service's
// page (of all its replicas, or of one).
type Page struct {
	Kind    string // "overview", "swarm" or "service"
	Service string
	Replica string
}

func (p Page) key() string { return p.Kind + "\x00" + p.Service + "\x00" + p.Replica }

// Source builds a page's message: the JSON of a snapshot (everything the
// page shows, with history) or of an update (the newest values), and the
// page's shape; an update whose shape differs from the snapshot a browser
// holds cannot be applied to it.
type Source interface {
	Build(p Page, snapshot bool) (data []byte, shape string, err error)
}

// Hub sends every round's messages to the browsers watching each page.
// Each browser has a queue of clientQueue messages; one that falls that
// far behind is dropped (its stream ends, and the browser reconnects and
// starts again from a snapshot), so a slow browser holds no more memory
// than that and never slows the others.
type Hub struct {
	src        Source
	maxClients int

	mu      sync.Mutex
	clients map[string]map[*client]struct{} // by page key
	shapes  map[string]string               // the shape last sent, by page key
	n       int

	stats HubStats
}

// HubStats count what the hub did.
type HubStats struct {
	Rejected atomic.Int64 // streams refused: MaxClients were open
	Dropped  atomic.Int64 // streams ended because the browser fell behind
	Events   atomic.Int64 // messages queued
	Bytes    atomic.Int64 // bytes of the messages queued
}

// clientQueue is how many messages a browser may be behind.
const clientQueue = 8

type client struct {
	page Page
	ch   chan []byte // events; closed when the client is dropped
}

// ErrTooManyClients is Subscribe's answer when MaxClients streams are open.
var ErrTooManyClients = errors.New("too many dashboard streams open")

// NewHub returns a hub that builds pages from src and serves at most
// maxClients streams at once.
func NewHub(src Source, maxClients int) *Hub {
	return &Hub{src: src, maxClients: maxClients, clients: map[string]map[*client]struct{}{}, shapes: map[string]string{}}
}

// Stats are the hub's counts.
func (h *Hub) Stats() *HubStats { return &h.stats }

// Clients is the number of streams open.
func (h *Hub) Clients() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// Subscribe opens a stream of page: its first event, a snapshot, is
// queued already.
func (h *Hub) Subscribe(p Page) (*client, error) {
	h.mu.Lock()
	full := h.n >= h.maxClients
	if !full {
		h.n++
	}
	h.mu.Unlock()
	if full {
		h.stats.Rejected.Add(1)
		return nil, ErrTooManyClients
	}
	data, _, err := h.src.Build(p, true)
	if err != nil {
		h.mu.Lock()
		h.n--
		h.mu.Unlock()
		return nil, err
	}
	c := &client{page: p, ch: make(chan []byte, clientQueue)}
	c.ch <- h.count(event("snapshot", data))
	h.mu.Lock()
	defer h.mu.Unlock()
	k := p.key()
	if h.clients[k] == nil {
		h.clients[k] = map[*client]struct{}{}
	}
	h.clients[k][c] = struct{}{}
	return c, nil
}

// Unsubscribe closes a stream.
func (h *Hub) Unsubscribe(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := c.page.key()
	if _, ok := h.clients[k][c]; !ok {
		return // dropped already
	}
	h.remove(k, c)
	close(c.ch)
}

// remove forgets c; h.mu is held.
func (h *Hub) remove(k string, c *client) {
	delete(h.clients[k], c)
	h.n--
	if len(h.clients[k]) == 0 {
		delete(h.clients, k)
		delete(h.shapes, k)
	}
}

// Publish builds every watched page's message for the round just polled
// and queues it to its browsers: an update, or a snapshot when the page's
// shape changed.
func (h *Hub) Publish() {
	h.mu.Lock()
	pages := make(map[string]Page, len(h.clients))
	for k, cs := range h.clients {
		for c := range cs {
			pages[k] = c.page
			break
		}
	}
	h.mu.Unlock()
	for k, p := range pages {
		data, shape, err := h.src.Build(p, false)
		if err != nil {
			continue
		}
		h.mu.Lock()
		kind := "update"
		if prev, ok := h.shapes[k]; !ok || prev != shape {
			h.mu.Unlock()
			if data, shape, err = h.src.Build(p, true); err != nil {
				continue
			}
			h.mu.Lock()
			kind = "snapshot"
		}
		h.shapes[k] = shape
		h.send(k, event(kind, data))
		h.mu.Unlock()
	}
}

// send queues msg to every client of page k, dropping those whose queue
// is full; h.mu is held.
func (h *Hub) send(k string, msg []byte) {
	for c := range h.clients[k] {
		select {
		case c.ch <- msg:
			h.count(msg)
		default:
			h.stats.Dropped.Add(1)
			h.remove(k, c)
			close(c.ch)
		}
	}
}

func (h *Hub) count(msg []byte) []byte {
	h.stats.Events.Add(1)
	h.stats.Bytes.Add(int64(len(msg)))
	return msg
}

// event frames data as a server-sent event of type kind.
func event(kind string, data []byte) []byte {
	out := make([]byte, 0, len(data)+32)
	out = append(out, "event: "...)
	out = append(out, kind...)
	out = append(out, "\ndata: "...)
	out = append(out, data...)
	return append(out, "\n\n"...)
}
