package udpclient_test

import (
	"slices"
	"testing"
	"time"

	"github.com/netlab/netlab/services/udp-responder/internal/udpclient"
)

// TestReorder_RFC4737 checks the reordering count and extents against
// arrival sequences worked out by hand from RFC 4737 (section 3.3: a packet
// is reordered when its sequence number is below NextExp, the highest
// received so far plus one; section 4.2.2: its extent is how many arrivals
// back the earliest higher sequence number came). Probes 0..count-1 are
// all sent; the ones missing from the arrivals are lost.
func TestReorder_RFC4737(t *testing.T) {
	tests := []struct {
		name        string
		count       int
		arrivals    []uint64
		extents     []uint64 // per arrival, 0 in order
		duplicates  int      // arrivals that repeat an earlier one
		wantLost    int64
		wantReorder int64
		wantMax     int64
	}{
		{name: "in order", count: 5, arrivals: []uint64{0, 1, 2, 3, 4},
			extents: []uint64{0, 0, 0, 0, 0}},
		{name: "losses alone never count", count: 10, arrivals: []uint64{0, 2, 3, 6, 9},
			extents: []uint64{0, 0, 0, 0, 0}, wantLost: 5},
		{name: "first probes lost", count: 6, arrivals: []uint64{3, 4, 5},
			extents: []uint64{0, 0, 0}, wantLost: 3},
		{name: "one swapped pair", count: 4, arrivals: []uint64{0, 2, 1, 3},
			extents: []uint64{0, 0, 1, 0}, wantReorder: 1, wantMax: 1},
		{name: "one late by four", count: 10, arrivals: []uint64{0, 1, 2, 4, 5, 6, 7, 3, 8, 9},
			extents: []uint64{0, 0, 0, 0, 0, 0, 0, 4, 0, 0}, wantReorder: 1, wantMax: 4},
		{name: "last first", count: 4, arrivals: []uint64{3, 0, 1, 2},
			extents: []uint64{0, 1, 2, 3}, wantReorder: 3, wantMax: 3},
		{name: "reordered and lost", count: 6, arrivals: []uint64{0, 3, 1, 5},
			extents: []uint64{0, 0, 1, 0}, wantLost: 2, wantReorder: 1, wantMax: 1},
		// 2 then 1 both arrive after 3: each is reordered, and each
		// counts its extent back to 3.
		{name: "two late in reverse", count: 5, arrivals: []uint64{0, 3, 4, 2, 1},
			extents: []uint64{0, 0, 0, 2, 3}, wantReorder: 2, wantMax: 3},
		// 5 is below NextExp, which 6 raised to 7, and leaves it there: 7
		// is in order. 1..4 are lost, not reordered.
		{name: "a reordered packet does not lower NextExp", count: 8, arrivals: []uint64{0, 6, 5, 7},
			extents: []uint64{0, 0, 1, 0}, wantLost: 4, wantReorder: 1, wantMax: 1},
		{name: "duplicates are counted apart", count: 4, arrivals: []uint64{0, 1, 1, 3, 0, 2},
			extents: []uint64{0, 0, 0, 1}, duplicates: 2, wantReorder: 1, wantMax: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := udpclient.NewRecorder(tt.count, 1)
			for seq := range tt.count {
				rec.Sent(uint64(seq), time.Duration(seq)*time.Microsecond)
			}
			var unique []uint64
			dups := 0
			for i, seq := range tt.arrivals {
				out := rec.Reply(0, seq, time.Duration(100+i)*time.Microsecond)
				switch {
				case slices.Contains(unique, seq):
					dups++
					if out != udpclient.Duplicate {
						t.Errorf("arrival %d (seq %d, a repeat): %v, want duplicate", i, seq, out)
					}
					continue
				case out == udpclient.Duplicate:
					t.Errorf("arrival %d (seq %d): duplicate, but it is new", i, seq)
				}
				unique = append(unique, seq)
			}
			extents, reordered, maxExtent := udpclient.ReorderExtents(unique)
			if !slices.Equal(extents, tt.extents) || reordered != tt.wantReorder || int64(maxExtent) != tt.wantMax {
				t.Errorf("extents %v (%d reordered, max %d), want %v (%d, max %d)",
					extents, reordered, maxExtent, tt.extents, tt.wantReorder, tt.wantMax)
			}
			s := rec.Stats()
			if s.Reordered != tt.wantReorder || s.ReorderExtentMax != tt.wantMax || s.Lost != tt.wantLost ||
				s.Duplicated != int64(tt.duplicates) || dups != tt.duplicates {
				t.Errorf("stats: %d reordered (max extent %d), %d lost, %d duplicated; want %d (%d), %d, %d",
					s.Reordered, s.ReorderExtentMax, s.Lost, s.Duplicated, tt.wantReorder, tt.wantMax, tt.wantLost, tt.duplicates)
			}
		})
	}
}
