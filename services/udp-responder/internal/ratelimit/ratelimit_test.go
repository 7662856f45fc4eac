package ratelimit_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/netlab/netlab/services/udp-responder/internal/ratelimit"
)

// fakeClock is a manual monotonic clock.
type fakeClock struct{ now int64 }

func (c *fakeClock) read() int64             { return c.now }
func (c *fakeClock) advance(d time.Duration) { c.now += int64(d) }

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func allowed(t *ratelimit.Table, a netip.Addr, n int) int {
	got := 0
	for range n {
		if t.Allow(a) {
			got++
		}
	}
	return got
}

func TestTable_AllowsBurstThenRate(t *testing.T) {
	clock := &fakeClock{}
	tbl := ratelimit.NewWithClock(100, 10, 1024, clock.read)
	a := addr("192.0.2.1")
	if got := allowed(tbl, a, 15); got != 10 {
		t.Fatalf("first burst: %d allowed, want 10", got)
	}
	clock.advance(100 * time.Millisecond) // 10 tokens at 100/s
	if got := allowed(tbl, a, 15); got != 10 {
		t.Fatalf("after 100ms: %d allowed, want 10", got)
	}
	clock.advance(time.Hour) // refills only up to the burst
	if got := allowed(tbl, a, 15); got != 10 {
		t.Fatalf("after an hour: %d allowed, want the burst of 10", got)
	}
}

func TestTable_SourcesAreIndependent(t *testing.T) {
	clock := &fakeClock{}
	tbl := ratelimit.NewWithClock(1, 5, 1024, clock.read)
	flooder, quiet := addr("192.0.2.1"), addr("2001:db8::7")
	allowed(tbl, flooder, 1000)
	if tbl.Allow(flooder) {
		t.Fatal("flooder still allowed after exhausting its bucket")
	}
	if got := allowed(tbl, quiet, 5); got != 5 {
		t.Fatalf("quiet source: %d of 5 allowed while another source floods", got)
	}
}

func TestTable_StaysBoundedUnderManySources(t *testing.T) {
	clock := &fakeClock{}
	const size = 640
	tbl := ratelimit.NewWithClock(1000, 10, size, clock.read)
	for i := range 100_000 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if !tbl.Allow(a) {
			t.Fatalf("new source %v refused", a)
		}
	}
	if n := tbl.Len(); n > size {
		t.Fatalf("table holds %d sources, limit %d", n, size)
	}
	if tbl.Evictions() == 0 {
		t.Fatal("no evictions counted although sources never went idle")
	}
}

func TestTable_ForgetsRefilledBucketsBeforeEvicting(t *testing.T) {
	clock := &fakeClock{}
	const size = 64 // one bucket per shard
	tbl := ratelimit.NewWithClock(1000, 10, size, clock.read)
	for i := range 1000 {
		tbl.Allow(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
	}
	before := tbl.Evictions()
	clock.advance(time.Second) // every bucket has refilled
	for i := range 1000 {
		tbl.Allow(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}))
		clock.advance(time.Second)
	}
	if got := tbl.Evictions() - before; got != 0 {
		t.Fatalf("%d evictions although every old bucket had refilled", got)
	}
}

func BenchmarkTable_Allow(b *testing.B) {
	tbl := ratelimit.New(1e9, 1e6, 65536)
	a := addr("192.0.2.1")
	b.ReportAllocs()
	for range b.N {
		tbl.Allow(a)
	}
}

func TestTable_SweepExpiresQuietSources(t *testing.T) {
	clock := &fakeClock{}
	tbl := ratelimit.NewWithClock(10, 10, 1024, clock.read) // refills in 1s
	quiet, busy := addr("192.0.2.1"), addr("192.0.2.2")
	tbl.Allow(quiet)
	clock.advance(600 * time.Millisecond)
	allowed(tbl, busy, 10)
	clock.advance(600 * time.Millisecond) // quiet refilled; busy has not
	if got := tbl.Sweep(); got != 1 {
		t.Fatalf("Sweep removed %d, want 1 (the quiet source)", got)
	}
	if tbl.Len() != 1 {
		t.Fatalf("table holds %d sources after the sweep, want 1", tbl.Len())
	}
	// The busy source kept its partly refilled bucket (6 of 10 tokens).
	if got := allowed(tbl, busy, 10); got != 6 {
		t.Fatalf("busy source got %d of 10 after the sweep, want 6: its state was lost", got)
	}
}
