package filedist_test

import (
	"math"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/internal/exp/filedist"
)

// The book's Fig. 2.23: F/u = 1 hour, us = 10u, downloads not the limit.
func book(n int) filedist.Params {
	const u = 1.0
	return filedist.Params{F: 3600 * u, Us: 10 * u, U: u, N: n}
}

func TestBounds_BookFigure(t *testing.T) {
	tests := []struct {
		n            int
		cs, p2p      float64 // hours
		csT, p2pTerm filedist.Term
	}{
		{1, 0.1, 1.0 / 11, filedist.TermServerAll, filedist.TermServerOnce},
		{10, 1, 0.5, filedist.TermServerAll, filedist.TermAggregate},
		{30, 3, 0.75, filedist.TermServerAll, filedist.TermAggregate},
	}
	for _, tt := range tests {
		cs, csT := filedist.ClientServer(book(tt.n))
		p2p, p2pT := filedist.PeerToPeer(book(tt.n))
		if math.Abs(cs/3600-tt.cs) > 1e-9 || csT != tt.csT {
			t.Errorf("N=%d: D_cs = %v h (%s), want %v h (%s)", tt.n, cs/3600, csT, tt.cs, tt.csT)
		}
		// At N=1 the server's one copy (F/us = 0.1 h) is above NF/(us+u).
		want := tt.p2p
		if tt.n == 1 {
			want = 0.1
		}
		if math.Abs(p2p/3600-want) > 1e-9 || p2pT != tt.p2pTerm {
			t.Errorf("N=%d: D_P2P = %v h (%s), want %v h (%s)", tt.n, p2p/3600, p2pT, want, tt.p2pTerm)
		}
	}
}

func TestBounds_P2PBelowClientServerAndUnderOneHour(t *testing.T) {
	for n := 1; n <= 1000; n++ {
		cs, _ := filedist.ClientServer(book(n))
		p2p, _ := filedist.PeerToPeer(book(n))
		if p2p > cs+1e-9 || p2p > 3600 {
			t.Fatalf("N=%d: D_P2P %v s, D_cs %v s: want D_P2P ≤ D_cs and below F/u", n, p2p, cs)
		}
	}
}

func TestBounds_SlowDownloadLimits(t *testing.T) {
	p := book(1)
	p.DMin = 0.5 // F/dmin = 2 h
	if d, term := filedist.ClientServer(p); d != 7200 || term != filedist.TermDownload {
		t.Errorf("D_cs = %v (%s), want 7200 (F/dmin)", d, term)
	}
	if d, term := filedist.PeerToPeer(p); d != 7200 || term != filedist.TermDownload {
		t.Errorf("D_P2P = %v (%s), want 7200 (F/dmin)", d, term)
	}
}

func TestBounds_NoPeers(t *testing.T) {
	if d, term := filedist.PeerToPeer(book(0)); d != 0 || term != filedist.TermNone {
		t.Errorf("N=0: %v (%s)", d, term)
	}
	if (filedist.Params{F: 1, Us: 0}).Valid() || !book(3).Valid() || (filedist.Params{F: 1, Us: 1, U: math.NaN()}).Valid() {
		t.Error("Valid disagrees")
	}
}

func TestDiagnose_NamesTheLimitingTerm(t *testing.T) {
	base := filedist.Obs{Arm: "peer-to-peer", Bound: 4, StartSkew: 0.01, FirstBytes: 0.1, Poll: 0.05, ServerUtil: 0.95, AllUtil: 0.9, CPUBusy: 0.5}
	tests := []struct {
		name string
		edit func(*filedist.Obs)
		want string
	}{
		{"within", func(o *filedist.Obs) { o.Last = 4.4 }, "within 25 %; most of the rest: uploads idle 10 %"},
		{"within, sent twice", func(o *filedist.Obs) { o.Last = 4.4; o.Overhead = 0.2 }, "pieces sent twice (17 % of the bytes)"},
		{"within, late", func(o *filedist.Obs) { o.Last = 4.4; o.FirstBytes = 1 }, "the start (no bytes for 0.96 s or more"},
		{"within, server", func(o *filedist.Obs) { o.Last = 4.4; o.Term = filedist.TermServerOnce; o.ServerUtil = 0.8 }, "the server's upload idle 20 %"},
		{"on the bound", func(o *filedist.Obs) { o.Last = 4; o.AllUtil = 0.99; o.FirstBytes = 0; o.StartSkew = 0 }, "nothing over 2 %"},
		{"below", func(o *filedist.Obs) { o.Last = 2.5 }, "upload limiter's accuracy"},
		{"cpu", func(o *filedist.Obs) { o.Last = 6; o.CPUBusy = 0.97 }, "machine's CPU"},
		{"start", func(o *filedist.Obs) { o.Last = 6; o.FirstBytes = 1.5 }, "discovery and start"},
		{"pieces", func(o *filedist.Obs) { o.Last = 6; o.AllUtil = 0.6 }, "piece selection"},
		{"twice", func(o *filedist.Obs) { o.Last = 6; o.Overhead = 0.3 }, "sent twice"},
		{"server", func(o *filedist.Obs) { o.Last = 6; o.ServerUtil = 0.5; o.AllUtil = 0.5 }, "the server's upload"},
		{"limiter", func(o *filedist.Obs) { o.Last = 6 }, "upload limiter's accuracy"},
		{"nothing", func(o *filedist.Obs) { o.Last = 0 }, "no measurement"},
	}
	for _, tt := range tests {
		o := base
		tt.edit(&o)
		if got := filedist.Diagnose(o); !strings.Contains(got, tt.want) {
			t.Errorf("%s: Diagnose = %q, want it to name %q", tt.name, got, tt.want)
		}
	}
}
