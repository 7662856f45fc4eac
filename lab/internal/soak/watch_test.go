package soak_test

import (
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/soak"
)

func TestSeries(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := soak.Series{
		{At: t0, RSS: 30, Goroutines: 5, FDs: 9},
		{At: t0.Add(time.Second), RSS: 10, Goroutines: 50, FDs: 7},
		{At: t0.Add(2 * time.Second), RSS: 20, Goroutines: 6, FDs: 8},
	}
	if p := s.Peak(); p.RSS != 30 || p.Goroutines != 50 || p.FDs != 9 {
		t.Errorf("Peak = %+v", p)
	}
	if lo, hi := s.RSSRange(); lo != 10 || hi != 30 {
		t.Errorf("RSSRange = %d..%d, want 10..30", lo, hi)
	}
	if a := s.After(t0.Add(500 * time.Millisecond)); len(a) != 2 || a[0].RSS != 10 {
		t.Errorf("After = %+v", a)
	}
	if a := s.After(t0.Add(time.Hour)); a != nil {
		t.Errorf("After the end = %+v, want nil", a)
	}
}
