// Package ratelimit keeps a token bucket per source address in a table of
// bounded size, so a flood from one source is cut to its rate while every
// other source keeps its own allowance.
package ratelimit

import (
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/netlab/netlab/services/udp-responder/internal/shardmap"
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
	buckets   *shardmap.Map[netip.Addr, bucket]
}

type shard = shardmap.Shard[netip.Addr, bucket]

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
		buckets:  shardmap.New[netip.Addr, bucket](shardCount),
	}
	t.fullAfter = int64(t.burst / t.perNano)
	return t
}

// Allow takes one token from addr's bucket and reports whether there was
// one. A new address starts with a full bucket.
func (t *Table) Allow(addr netip.Addr) bool {
	now := t.now()
	s := t.buckets.Shard(shardOf(addr))
	s.Lock()
	defer s.Unlock()
	b, ok := s.M[addr]
	if !ok {
		if len(s.M) >= t.perShard {
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
	s.M[addr] = b
	return allowed
}

// makeRoom frees space in a full shard. Buckets that have had time to refill
// are forgotten first: a new bucket would be identical, so nothing is lost.
// If every bucket is still in use, one is evicted (that source starts over
// with a full bucket), which keeps the table bounded under a flood of
// spoofed sources.
func (t *Table) makeRoom(s *shard, now int64) {
	s.DeleteFunc(func(_ netip.Addr, b bucket) bool { return t.refilled(b, now) })
	if len(s.M) < t.perShard {
		return
	}
	for a := range s.M { // map order is random: a random victim
		delete(s.M, a)
		t.evictions.Add(1)
		return
	}
}

// Sweep forgets every bucket that has refilled (a new one would be the
// same), so entries of sources that went quiet expire. It returns how many
// it removed.
func (t *Table) Sweep() int {
	now := t.now()
	return t.buckets.DeleteFunc(func(_ netip.Addr, b bucket) bool { return t.refilled(b, now) })
}

// refilled reports whether b has had time to fill up again by now.
func (t *Table) refilled(b bucket, now int64) bool { return now-b.last >= t.fullAfter }

// Len is the number of addresses tracked.
func (t *Table) Len() int { return t.buckets.Len() }

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
