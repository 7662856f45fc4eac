package shardmap_test

import (
	"sync"
	"testing"

	"github.com/netlab/netlab/services/udp-responder/internal/shardmap"
)

// fill puts keys 0..n-1 into shard key%shards, value key*10, from one
// goroutine per shard.
func fill(m *shardmap.Map[int, int], shards, n int) {
	var wg sync.WaitGroup
	for i := range shards {
		wg.Go(func() {
			s := m.Shard(i)
			for k := i; k < n; k += shards {
				s.Lock()
				s.M[k] = k * 10
				s.Unlock()
			}
		})
	}
	wg.Wait()
}

func TestMap_LenAndDeleteFunc(t *testing.T) {
	m := shardmap.New[int, int](4)
	if n := m.Len(); n != 0 {
		t.Fatalf("new map holds %d", n)
	}
	fill(m, 4, 100)
	if n := m.Len(); n != 100 {
		t.Fatalf("Len = %d, want 100", n)
	}
	// Keys below 30 go, whichever shard they are in; values are passed.
	removed := m.DeleteFunc(func(k, v int) bool {
		if v != k*10 {
			t.Errorf("entry %d holds %d", k, v)
		}
		return k < 30
	})
	if removed != 30 || m.Len() != 70 {
		t.Errorf("removed %d, %d left; want 30 and 70", removed, m.Len())
	}
	for i := range 4 {
		s := m.Shard(i)
		s.Lock()
		for k := range s.M {
			if k < 30 || k%4 != i {
				t.Errorf("shard %d holds %d", i, k)
			}
		}
		s.Unlock()
	}
}

func TestShard_DeleteFunc(t *testing.T) {
	m := shardmap.New[int, int](2)
	fill(m, 2, 10)
	s := m.Shard(1)
	s.Lock()
	removed := s.DeleteFunc(func(k, _ int) bool { return k > 4 })
	s.Unlock()
	// Shard 1 held 1, 3, 5, 7, 9; shard 0 is untouched.
	if removed != 3 || m.Len() != 7 {
		t.Errorf("removed %d, %d left; want 3 and 7", removed, m.Len())
	}
}
