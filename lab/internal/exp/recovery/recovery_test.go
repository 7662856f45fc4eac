package recovery_test

import (
	"math"
	"testing"

	"github.com/netlab/netlab/lab/internal/exp/recovery"
)

// series is a node polled every 0.5 s from 0 to 32 s: rate(t) bytes per
// second of which across(t) come from across the cut.
func series(rate, across func(t float64) float64) []recovery.Sample {
	var out []recovery.Sample
	var b, a float64
	for i := 0; i <= 64; i++ {
		t := float64(i) / 2
		if i > 0 {
			b += rate(t) / 2
			a += across(t) / 2
		}
		out = append(out, recovery.Sample{T: t, Bytes: b, Across: a})
	}
	return out
}

// tl: the cut is set from 9 to 10 s, the heal runs from 20 to 21 s.
var tl = recovery.Timeline{Start: 0, PartitionBegin: 9, Partition: 10, HealBegin: 20, Heal: 21}

func TestAnalyze_StallAndRecovery(t *testing.T) {
	// Until 10.5 s everything flows (a piece on its way lands just after
	// the cut); then the node trades with its side until 14 s and
	// stalls; new bytes from across come at 22.5 s; done at 30 s.
	rate := func(t float64) float64 {
		switch {
		case t <= 10.5:
			return 100
		case t <= 14:
			return 50
		case t < 22.5:
			return 0
		}
		return 200
	}
	across := func(t float64) float64 {
		if t <= 10.5 || t >= 22.5 {
			return rate(t)
		}
		return 0
	}
	o := recovery.Analyze(tl, recovery.Node{Label: "peer-2", Cut: true, Samples: series(rate, across), Complete: 30}, 1)
	if o.AcrossDuring != 0 {
		t.Errorf("across the cut while it held: %v bytes, want 0 (the piece at 10.5 s is within the grace)", o.AcrossDuring)
	}
	if o.StalledAtHeal != 6 {
		t.Errorf("stalled at the heal: %v s, want 6 (no progress from 14 s to 20 s)", o.StalledAtHeal)
	}
	if o.Resume != 1.5 {
		t.Errorf("resume: %v s after the heal, want 1.5 (new bytes at 22.5 s, heal done at 21 s)", o.Resume)
	}
	if o.Complete != 9 {
		t.Errorf("complete: %v s after the heal, want 9", o.Complete)
	}
}

func TestAnalyze_ALeakAcrossTheCutIsCounted(t *testing.T) {
	flow := func(t float64) float64 { return 100 }
	leak := func(t float64) float64 {
		if t > 15 && t <= 16 { // 100 B/s for a second across a cut that should hold
			return 100
		}
		if t <= 10.5 || t >= 22.5 {
			return 100
		}
		return 0
	}
	o := recovery.Analyze(tl, recovery.Node{Samples: series(flow, leak), Complete: math.NaN()}, 1)
	if o.AcrossDuring != 100 {
		t.Errorf("across the cut while it held: %v bytes, want 100", o.AcrossDuring)
	}
	if o.StalledAtHeal != 0 {
		t.Errorf("a node that kept progressing stalled %v s", o.StalledAtHeal)
	}
	if !math.IsNaN(o.Complete) {
		t.Errorf("complete %v, want NaN for a download that did not complete", o.Complete)
	}
}

func TestAnalyze_NoResumeAndEarlyResume(t *testing.T) {
	none := func(t float64) float64 {
		if t <= 10 {
			return 100
		}
		return 0
	}
	if o := recovery.Analyze(tl, recovery.Node{Samples: series(none, none)}, 1); !math.IsNaN(o.Resume) || o.StalledAtHeal != 10 {
		t.Errorf("nothing after the cut: resume %v (want NaN), stalled %v (want 10)", o.Resume, o.StalledAtHeal)
	}
	// Bytes from across at 20.5 s, while the heal was still running:
	// the first rules were gone; that is no wait at all.
	early := func(t float64) float64 {
		if t <= 10 || t >= 20.5 {
			return 100
		}
		return 0
	}
	if o := recovery.Analyze(tl, recovery.Node{Samples: series(early, early)}, 1); o.Resume != 0 {
		t.Errorf("new bytes before the heal was done: resume %v, want 0", o.Resume)
	}
}

func TestBackoff_TheNodesSchedule(t *testing.T) {
	for f, want := range map[int]float64{0: 1, 1: 2, 2: 4, 3: 8, 5: 32, 6: 60, 7: 60, 20: 60} {
		if got := recovery.Backoff(f); got != want {
			t.Errorf("Backoff(%d) = %v s, want %v", f, got, want)
		}
	}
}

func TestRecoveryBound_ByHand(t *testing.T) {
	// The quick spec's nodes: DIAL_TIMEOUT 1 s, REFRESH_INTERVAL 1 s,
	// 64 KiB pieces, 256 KiB/s, 4 downloaders, polled every 0.5 s: the
	// first piece takes at most 4 × (64 + 64) KiB / 256 KiB/s = 2 s.
	base := recovery.Params{Refresh: 1, Dial: 1, PieceSize: 64 << 10, UploadRate: 256 << 10, Downloaders: 4, Interval: 0.5}
	cases := []struct {
		partition float64
		failures  int
		backoff   float64
	}{
		// Dropped at 0 (failure 1); dials begin at 1 s, then 1 + 1 + 2 =
		// 4 s, then 4 + 1 + 4 = 9 s, 9 + 1 + 8 = 18 s, 18 + 1 + 16 = 35 s.
		{0.5, 1, 2},  // no dial yet: the drop's failure only
		{3.9, 2, 4},  // the dial at 1 s
		{6, 3, 8},    // dials at 1 and 4 s
		{22, 5, 32},  // dials at 1, 4, 9 and 18 s
		{600, 0, 60}, // the cap (failures checked below)
	}
	for _, c := range cases {
		p := base
		p.Partition = c.partition
		b := recovery.RecoveryBound(p)
		if c.failures > 0 && b.Failures != c.failures || b.Backoff != c.backoff {
			t.Errorf("partition %v s: %d failures, backoff %v s; want %d, %v", c.partition, b.Failures, b.Backoff, c.failures, c.backoff)
		}
		if b.Piece != 2 {
			t.Errorf("first piece %v s, want 2", b.Piece)
		}
		if want := 1 + c.backoff + 1 + 1 + 2 + 0.5; b.Total != want {
			t.Errorf("partition %v s: bound %v s, want %v", c.partition, b.Total, want)
		}
	}
}

func TestRecoveryBound_GrowsWithThePartition(t *testing.T) {
	p := recovery.Params{Refresh: 3, Dial: 3, PieceSize: 1 << 20, UploadRate: 1 << 20, Downloaders: 2, Interval: 1}
	last := 0.0
	for l := 0.0; l < 900; l += 0.25 {
		p.Partition = l
		b := recovery.RecoveryBound(p)
		if b.Total < last {
			t.Fatalf("partition %v s: bound %v s, below %v s for a shorter one", l, b.Total, last)
		}
		last = b.Total
	}
	// REFRESH_INTERVAL 3 s: the download picks a new peer up within 1 s.
	if want := 3 + 60 + 3 + 1 + 2*(1<<20+64<<10)/float64(1<<20) + 1; last != want {
		t.Errorf("a long partition: bound %v s, want %v (the 1 min backoff cap)", last, want)
	}
}

func TestAnalyze_ProgressFromItsOwnSide(t *testing.T) {
	// The node gets the rest from a node of its side that recovered
	// first: progress at 22 s, nothing from across at all.
	rate := func(t float64) float64 {
		if t <= 10 || t >= 22 {
			return 100
		}
		return 0
	}
	across := func(t float64) float64 {
		if t <= 10 {
			return 100
		}
		return 0
	}
	o := recovery.Analyze(tl, recovery.Node{Cut: true, Samples: series(rate, across)}, 1)
	if o.Resume != 1 || !math.IsNaN(o.ResumeAcross) {
		t.Errorf("progress %v s after the heal (want 1), from across %v (want NaN)", o.Resume, o.ResumeAcross)
	}
}
