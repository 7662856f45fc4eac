package picker_test

import (
	"testing"

	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/picker"
)

func bits(n int, set ...int) content.Bitfield {
	b := content.NewBitfield(n)
	for _, i := range set {
		b.Set(i)
	}
	return b
}

func all(n int) content.Bitfield {
	b := content.NewBitfield(n)
	for i := range n {
		b.Set(i)
	}
	return b
}

func TestPicker_RarestFirst(t *testing.T) {
	const n = 8
	p := picker.New(n, nil)
	// Pieces 0-6 are held by three peers, piece 7 only by "c".
	p.UpdatePeer(nil, bits(n, 0, 1, 2, 3, 4, 5, 6))
	p.UpdatePeer(nil, bits(n, 0, 1, 2, 3, 4, 5, 6))
	p.UpdatePeer(nil, all(n))
	got, ok := p.Pick("c", all(n))
	if !ok || got != 7 {
		t.Fatalf("Pick = %d, %v; want the rarest piece 7", got, ok)
	}
}

// A piece a peer announces counts toward its availability like one in a
// have list: it stops being the rarest.
func TestPicker_GainedCountsTowardRarity(t *testing.T) {
	const n = 2
	p := picker.New(n, nil)
	p.UpdatePeer(nil, bits(n, 0))
	p.UpdatePeer(nil, all(n)) // piece 0 held twice, piece 1 once
	p.Gained(1)
	p.Gained(1) // piece 1 announced by two more peers
	p.Gained(-1)
	p.Gained(n) // out of range: ignored
	got, ok := p.Pick("c", all(n))
	if !ok || got != 0 {
		t.Fatalf("Pick = %d, %v; want piece 0, now the rarest", got, ok)
	}
}

func TestPicker_SkipsHeldAndRequestedPieces(t *testing.T) {
	const n = 4
	p := picker.New(n, bits(n, 0))
	p.UpdatePeer(nil, all(n))
	seen := map[int]bool{}
	for range 3 {
		i, ok := p.Pick("a", all(n))
		if !ok || i == 0 || seen[i] {
			t.Fatalf("Pick = %d, %v (seen %v); want a new piece other than the held 0", i, ok, seen)
		}
		seen[i] = true
	}
	// Every needed piece is requested once: the same peer gets no
	// duplicate, another peer gets one (end game), and after that nothing.
	if i, ok := p.Pick("a", all(n)); ok {
		t.Fatalf("end game Pick(a) = %d; want no duplicate to the peer already asked", i)
	}
	if i, ok := p.Pick("b", all(n)); !ok || !seen[i] {
		t.Fatalf("end game Pick(b) = %d, %v; want a duplicate of a requested piece", i, ok)
	}
	for range 2 {
		p.Pick("b", all(n))
	}
	if i, ok := p.Pick("b", all(n)); ok {
		t.Fatalf("Pick = %d after every piece was requested twice; want none", i)
	}
}

func TestPicker_OnlyPiecesThePeerHas(t *testing.T) {
	const n = 16
	p := picker.New(n, nil)
	i, ok := p.Pick("a", bits(n, 9))
	if !ok || i != 9 {
		t.Fatalf("Pick = %d, %v; want 9, the only piece the peer has", i, ok)
	}
	if _, ok := p.Pick("a", bits(n)); ok {
		t.Fatal("Pick from a peer with no pieces returned one")
	}
}

func TestPicker_DoneAndMissing(t *testing.T) {
	const n = 3
	p := picker.New(n, nil)
	if have := p.Have(); have.Count() != 0 || len(have) != 1 {
		t.Fatalf("Have = %08b before any piece, want one empty byte", have)
	}
	for range n {
		i, ok := p.Pick("a", all(n))
		if !ok {
			t.Fatal("Pick found nothing")
		}
		p.Done(i, "a")
	}
	if p.Missing() != 0 {
		t.Fatalf("Missing = %d after every piece was done", p.Missing())
	}
	if have := p.Have(); have.Count() != n {
		t.Fatalf("Have = %08b after every piece was done, want %d bits", have, n)
	}
	if _, ok := p.Pick("a", all(n)); ok {
		t.Fatal("Pick returned a piece of a complete download")
	}
}

func TestPicker_FailedPieceNeverFromSameSender(t *testing.T) {
	const n = 1
	p := picker.New(n, nil)
	i, _ := p.Pick("liar", all(n))
	p.Failed(i, "liar")
	if _, ok := p.Pick("liar", all(n)); ok {
		t.Fatal("piece offered again to the peer that sent a bad copy")
	}
	if j, ok := p.Pick("honest", all(n)); !ok || j != i {
		t.Fatalf("Pick(honest) = %d, %v; want the failed piece %d again", j, ok, i)
	}
}

func TestPicker_CancelMakesPieceAvailable(t *testing.T) {
	const n = 1
	p := picker.New(n, nil)
	i, _ := p.Pick("a", all(n))
	p.Pick("b", all(n)) // end-game duplicate
	p.Cancel(i, "a")
	p.Cancel(i, "b")
	if j, ok := p.Pick("c", all(n)); !ok || j != i {
		t.Fatalf("after Cancel, Pick = %d, %v; want %d", j, ok, i)
	}
}

func TestPicker_Stuck(t *testing.T) {
	const n = 2
	p := picker.New(n, nil)
	holders := map[string]content.Bitfield{"a": all(n), "b": bits(n, 0)}
	if i, stuck := p.Stuck(holders); stuck {
		t.Fatalf("Stuck = %d with a source for every piece", i)
	}
	p.Failed(1, "a") // only a holds piece 1, and it lied
	if i, stuck := p.Stuck(holders); !stuck || i != 1 {
		t.Fatalf("Stuck = %d, %v; want piece 1", i, stuck)
	}
	if i, stuck := p.Stuck(map[string]content.Bitfield{}); !stuck || i != 0 {
		t.Fatalf("Stuck with no holders = %d, %v; want piece 0", i, stuck)
	}
}
