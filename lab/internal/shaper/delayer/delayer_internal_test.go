package delayer

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/netlab/netlab/lab/internal/shaper"
)

// The Gilbert–Elliott chain loses, in the long run, π_bad·(1-h) + π_good·(1-k)
// with π_bad = p/(p+r), and in bursts: a loss is followed by another far
// more often than the average loss rate.
func TestGE_LossRateAndBursts(t *testing.T) {
	m := &shaper.GE{P: 5, R: 50, H1: 100, K1: 0}
	rng := rand.New(rand.NewPCG(1, 2))
	var g geState
	const n = 200_000
	lost, pairs, prev := 0, 0, false
	for range n {
		l := g.lose(m, rng)
		if l {
			lost++
			if prev {
				pairs++
			}
		}
		prev = l
	}
	want := 5.0 / 55.0
	got := float64(lost) / n
	if math.Abs(got-want) > 0.01 {
		t.Errorf("loss %.4f, want %.4f ± 0.01", got, want)
	}
	if after := float64(pairs) / float64(lost); after < 0.4 {
		t.Errorf("a loss follows a loss %.2f of the time, want about 1-r = 0.5 (bursts)", after)
	}
}

// corrupt flips exactly one bit, after the IP header.
func TestCorrupt_FlipsOneBitAfterTheHeader(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100 {
		pkt := make([]byte, 60)
		pkt[0] = 0x45 // IPv4, 20-byte header
		orig := append([]byte(nil), pkt...)
		if !corrupt(pkt, rng) {
			t.Fatal("not corrupted")
		}
		bits := 0
		for i := range pkt {
			d := pkt[i] ^ orig[i]
			if d != 0 && i < 20 {
				t.Fatalf("byte %d of the IP header changed", i)
			}
			for ; d != 0; d &= d - 1 {
				bits++
			}
		}
		if bits != 1 {
			t.Fatalf("%d bits flipped, want 1", bits)
		}
	}
}
