// Package ratelimit keeps a token bucket per source address in a table of
// bounded size, so a flood from one source is cut to its rate while every
// other source keeps its own allowance.
package ratelimit

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// shardCount spreads the table over independent locks so that sockets
// serving different sources rarely contend.
const shardCount = 64

// Table is a set of token buckets keyed by address. It is safe for
// concurrent use.
type Table struct {
	perNano   float64 // tokens added per nanosecond
	burst     float64 // bucket capacity
	fullAfter int64   // nanoseconds an empty bucket needs to refill
	perShard  int
	now       func() int64
	evictions atomic.Uint64
	shards    [shardCount]shard
}

type shard struct {
	mu      sync.Mutex
	buckets map[netip.Addr]bucket
	_       [40]byte // keep neighbouring shards' locks off one cache line
}

type bucket struct {
	tokens float64
	last   int64 // when tokens was computed, in Table.now units
}

// New returns a table allowing rate tokens per second per address with a
// burst of burst, tracking at most size addresses.
func New(rate float64, burst, size int) *Table {
	start := time.Now()
	return NewWithClock(rate, burst, size, func() int64 { return int64(time.Since(start)) })
}

// NewWithClock is New with a clock returning monotonic nanoseconds, for
// tests.
func NewWithClock(rate float64, burst, size int, now func() int64) *Table {
	t := &Table{
		perNano:  rate / 1e9,
		burst:    float64(burst),
		perShard: max(1, size/shardCount),
		now:      now,
	}
	t.fullAfter = int64(t.burst / t.perNano)
	for i := range t.shards {
		t.shards[i].buckets = make(map[netip.Addr]bucket)
	}
	return t
}

// Allow takes one token from addr's bucket and reports whether there was
// one. A new address starts with a full bucket.
func (t *Table) Allow(addr netip.Addr) bool {
	now := t.now()
	s := &t.shards[shardOf(addr)]
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[addr]
	if !ok {
		if len(s.buckets) >= t.perShard {
			t.makeRoom(s, now)
		}
		b = bucket{tokens: t.burst, last: now}
	} else {
		b.tokens = min(t.burst, b.tokens+float64(now-b.last)*t.perNano)
		b.last = now
	}
	allowed := b.tokens >= 1
	if allowed {
		b.tokens--
	}
	s.buckets[addr] = b
	return allowed
}

// makeRoom frees space in a full shard. Buckets that have had time to refill
// are forgotten first: a new bucket would be identical, so nothing is lost.
// If every bucket is still in use, one is evicted (that source starts over
// with a full bucket), which keeps the table bounded under a flood of
// spoofed sources.
func (t *Table) makeRoom(s *shard, now int64) {
	for a, b := range s.buckets {
		if now-b.last >= t.fullAfter {
			delete(s.buckets, a)
		}
	}
	if len(s.buckets) < t.perShard {
		return
	}
	for a := range s.buckets { // map order is random: a random victim
		delete(s.buckets, a)
		t.evictions.Add(1)
		return
	}
}

// Sweep forgets every bucket that has refilled (a new one would be the
// same), so entries of sources that went quiet expire. It returns how many
// it removed.
func (t *Table) Sweep() int {
	now := t.now()
	removed := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for a, b := range s.buckets {
			if now-b.last >= t.fullAfter {
				delete(s.buckets, a)
				removed++
			}
		}
		s.mu.Unlock()
	}
	return removed
}

// Len is the number of addresses tracked.
func (t *Table) Len() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += len(s.buckets)
		s.mu.Unlock()
	}
	return n
}

// Evictions counts buckets dropped while still in use because the table was
// full.
func (t *Table) Evictions() uint64 { return t.evictions.Load() }

func shardOf(a netip.Addr) int {
	b := a.As16()
	// FNV-1a over the last 8 bytes: the part of the address that varies.
	h := uint32(2166136261)
	for _, c := range b[8:] {
		h ^= uint32(c)
		h *= 16777619
	}
	return int(h % shardCount)
}
