package responder

import (
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/netlab/netlab/services/udp-responder/internal/shardmap"
)

// runShards spreads the run table over locks, so that sockets serving
// different runs do not wait for one another.
const runShards = 16

// runTable counts the version 2 requests of each probe run: the figure a
// client needs to tell upstream from downstream loss. A run is a source
// address and a run id: the address keeps a forged run id from another
// host from moving someone else's count. The table is bounded: at most
// size runs at once, size/16 per shard (a new run beyond that is answered
// but not counted, and the reply says so, rather than evicting a run in
// progress), each forgotten ttl after its last datagram. A new run costs
// one map entry; a request of a known run allocates nothing.
type runTable struct {
	perShard int
	ttl      time.Duration
	runs     *shardmap.Map[runKey, runState]

	refused, expired atomic.Int64
}

type runKey struct {
	src netip.Addr
	id  uint64
}

type runState struct {
	count    uint64
	lastSeen int64 // Unix nanoseconds
}

func newRunTable(size int, ttl time.Duration) *runTable {
	return &runTable{perShard: max(1, (size+runShards-1)/runShards), ttl: ttl,
		runs: shardmap.New[runKey, runState](runShards)}
}

// runCount is what the table says of one request.
type runCount struct {
	count      uint64
	notCounted bool // the table is full: the run is not tracked
	unknown    bool // a query for a run the table does not hold
}

// record counts a request of run id from src at now (Unix ns), or answers
// a count query (which is not counted).
func (t *runTable) record(src netip.Addr, id uint64, query bool, now int64) runCount {
	k := runKey{src.Unmap(), id}
	sh := t.runs.Shard(int(id % runShards))
	sh.Lock()
	defer sh.Unlock()
	st, ok := sh.M[k]
	switch {
	case !ok && query:
		return runCount{unknown: true}
	case !ok && len(sh.M) >= t.perShard:
		t.refused.Add(1)
		return runCount{notCounted: true}
	}
	if !query {
		st.count++
	}
	st.lastSeen = now
	sh.M[k] = st
	return runCount{count: st.count}
}

// sweep forgets the runs not seen for ttl before now and returns how many.
func (t *runTable) sweep(now time.Time) int {
	cutoff := now.Add(-t.ttl).UnixNano()
	n := t.runs.DeleteFunc(func(_ runKey, st runState) bool { return st.lastSeen < cutoff })
	t.expired.Add(int64(n))
	return n
}

// len is the number of runs tracked now.
func (t *runTable) len() int { return t.runs.Len() }
