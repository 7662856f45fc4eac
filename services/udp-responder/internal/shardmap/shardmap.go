// Package shardmap is a map split over shards, each behind a lock of its
// own, so that goroutines working on different keys rarely wait for one
// another. The caller picks a key's shard (a hash of the part of the key
// that varies) and bounds each shard's size; the responder's per-source
// rate limiter and its probe-run table are built on it.
package shardmap

import "sync"

// Map is a map over a fixed number of shards. It is safe for concurrent
// use as long as a shard's entries are used only while it is locked.
type Map[K comparable, V any] struct {
	shards []Shard[K, V]
}

// Shard is one part of a Map: lock it, then use M.
type Shard[K comparable, V any] struct {
	sync.Mutex
	M map[K]V
	_ [40]byte // keep neighbouring shards' locks off one cache line
}

// New returns an empty map of n shards (n > 0).
func New[K comparable, V any](n int) *Map[K, V] {
	m := &Map[K, V]{shards: make([]Shard[K, V], n)}
	for i := range m.shards {
		m.shards[i].M = make(map[K]V)
	}
	return m
}

// Shard returns shard i, 0 <= i < the number of shards.
func (m *Map[K, V]) Shard(i int) *Shard[K, V] { return &m.shards[i] }

// Len is the number of entries in every shard.
func (m *Map[K, V]) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.Lock()
		n += len(s.M)
		s.Unlock()
	}
	return n
}

// DeleteFunc removes, shard by shard, every entry for which del reports
// true, and returns how many it removed.
func (m *Map[K, V]) DeleteFunc(del func(K, V) bool) int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.Lock()
		n += s.DeleteFunc(del)
		s.Unlock()
	}
	return n
}

// DeleteFunc removes the entries of s, which the caller has locked, for
// which del reports true, and returns how many it removed.
func (s *Shard[K, V]) DeleteFunc(del func(K, V) bool) int {
	n := 0
	for k, v := range s.M {
		if del(k, v) {
			delete(s.M, k)
			n++
		}
	}
	return n
}
