package recovery_test

import (
	"math"
	"testing"

	"github.com/netlab/netlab/lab/internal/exp/recovery"
)

// Kurose & Ross's example shape: N·F / (u_s + Σ u_i) with every node at
// the same u. Three cut nodes lacking 12 MiB each, five nodes at 256
// KiB/s: 36 MiB / 1.25 MiB/s = 28.8 s, less the caps' quarter second of
// burst.
func TestCompletionBound_Capacity(t *testing.T) {
	if got := recovery.CompletionBound(36<<20, 5, 256<<10); math.Abs(got-28.55) > 1e-9 {
		t.Errorf("bound %v s, want 28.55", got)
	}
	if got := recovery.CompletionBound(1, 0, 1); !math.IsNaN(got) {
		t.Errorf("no nodes: %v, want NaN", got)
	}
}

func TestHeldAfter_FirstPollAtOrAfter(t *testing.T) {
	n := recovery.Node{Samples: []recovery.Sample{{T: 1, Bytes: 10}, {T: 2, Bytes: 20}, {T: 3, Bytes: 30}}}
	for at, want := range map[float64]float64{0.5: 10, 1: 10, 2.5: 30, 9: 30} {
		if got := recovery.HeldAfter(n, at); got != want {
			t.Errorf("held at %v: %v, want %v", at, got, want)
		}
	}
}
