package responder

import (
	"net/netip"
	"testing"
	"time"
)

// Runs are forgotten ttl after their last datagram, and no sooner.
func TestRunTable_Expires(t *testing.T) {
	tab := newRunTable(64, time.Minute)
	src := netip.MustParseAddr("10.0.0.1")
	t0 := time.Unix(1000, 0)
	tab.record(src, 1, false, t0.UnixNano())
	tab.record(src, 2, false, t0.UnixNano())
	tab.record(src, 2, false, t0.Add(30*time.Second).UnixNano())
	if n := tab.sweep(t0.Add(59 * time.Second)); n != 0 {
		t.Fatalf("swept %d runs before their time", n)
	}
	if n := tab.sweep(t0.Add(61 * time.Second)); n != 1 || tab.len() != 1 || tab.expired.Load() != 1 {
		t.Fatalf("swept %d, %d left, expired %d; want run 1 gone", n, tab.len(), tab.expired.Load())
	}
	if c := tab.record(src, 1, true, t0.UnixNano()); !c.unknown {
		t.Errorf("query for an expired run: %+v, want unknown", c)
	}
	if c := tab.record(src, 2, true, t0.UnixNano()); c.count != 2 || c.unknown {
		t.Errorf("query for a live run: %+v, want count 2", c)
	}
	// An IPv4-mapped source is the same source.
	if c := tab.record(netip.MustParseAddr("::ffff:10.0.0.1"), 2, false, t0.UnixNano()); c.count != 3 {
		t.Errorf("mapped address: %+v, want count 3", c)
	}
}

func TestRunTable_RecordAllocatesNothingForAKnownRun(t *testing.T) {
	tab := newRunTable(64, time.Minute)
	src := netip.MustParseAddr("10.0.0.1")
	tab.record(src, 1, false, 1)
	if allocs := testing.AllocsPerRun(1000, func() { tab.record(src, 1, false, 2) }); allocs != 0 {
		t.Fatalf("%v allocations per request of a known run", allocs)
	}
}
