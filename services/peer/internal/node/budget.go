package node

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Reasons, in connections_rejected_total, for refusing a connection before
// its handshake.
const (
	reasonHandshakes          = "handshakes"
	reasonHandshakesPerSource = "handshakes_per_source"
)

// errUnexpected: a valid frame the handshake does not allow there.
var errUnexpected = errors.New("unexpected frame")

// handshakeBudget bounds the served connections still in the handshake:
// all of them (MAX_HANDSHAKES) and those from one IP address
// (MAX_HANDSHAKES_PER_SOURCE). They hold no MAX_CONNS slot, so peers that
// authenticated are never refused because of connections that did not.
type handshakeBudget struct {
	mu        sync.Mutex
	max       int
	perSource int
	total     int
	bySource  map[netip.Addr]int // only sources with a handshake under way
}

func newHandshakeBudget(max, perSource int) *handshakeBudget {
	return &handshakeBudget{max: max, perSource: perSource, bySource: make(map[netip.Addr]int)}
}

// take reserves a handshake for a connection from remote; release gives it
// back. When the budget is spent, reason says which limit was hit.
func (b *handshakeBudget) take(remote net.Addr) (release func(), reason string) {
	src := sourceOf(remote)
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.total >= b.max:
		return nil, reasonHandshakes
	case b.bySource[src] >= b.perSource:
		return nil, reasonHandshakesPerSource
	}
	b.total++
	b.bySource[src]++
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.total--
			if b.bySource[src]--; b.bySource[src] == 0 {
				delete(b.bySource, src)
			}
		})
	}, ""
}

// sourceOf is the IP address a connection comes from (IPv4 in IPv6 seen as
// IPv4), or the zero address when it has none.
func sourceOf(remote net.Addr) netip.Addr {
	if tcp, ok := remote.(*net.TCPAddr); ok {
		return tcp.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// refusalLog logs refused connections at info, at most one line a
// second: a flood must not flood the log too. Each line says how many
// refusals went unlogged since the one before.
type refusalLog struct {
	log      *zap.Logger
	mu       sync.Mutex
	last     time.Time
	unlogged int
}

func (r *refusalLog) refused(remote net.Addr, reason string, fields ...zap.Field) {
	r.mu.Lock()
	now := time.Now()
	if now.Sub(r.last) < time.Second {
		r.unlogged++
		r.mu.Unlock()
		return
	}
	r.last, fields = now, append(fields, zap.Int("unlogged_before", r.unlogged))
	r.unlogged = 0
	r.mu.Unlock()
	r.log.Info("connection refused: busy", append([]zap.Field{zap.Stringer("remote", remote), zap.String("reason", reason)}, fields...)...)
}
