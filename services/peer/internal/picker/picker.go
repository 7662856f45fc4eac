// Package picker chooses which piece of a download to request next: the
// rarest piece the peer holds that is still needed and not yet requested,
// so copies spread through the swarm before any one holder disappears.
package picker

import (
	"math/rand/v2"
	"slices"

	"github.com/netlab/netlab/services/peer/internal/content"
)

// Picker tracks the pieces of one download. It is not safe for concurrent
// use; the download guards it.
type Picker struct {
	have     content.Bitfield
	missing  int
	inFlight []uint8          // outstanding requests per piece
	asked    map[int][]string // the peers each outstanding request went to
	avail    []int32          // how many peers are known to hold each piece
	bad      map[int]map[string]bool
}

// New returns a picker for n pieces, of which those in have are already held.
func New(n int, have content.Bitfield) *Picker {
	p := &Picker{
		have:     have.Clone(),
		inFlight: make([]uint8, n),
		avail:    make([]int32, n),
		asked:    make(map[int][]string),
		bad:      make(map[int]map[string]bool),
	}
	if len(p.have) < (n+7)/8 {
		p.have = content.NewBitfield(n)
	}
	for i := range n {
		if !p.have.Has(i) {
			p.missing++
		}
	}
	return p
}

// UpdatePeer replaces what one peer was known to hold (old, nil for a new
// peer) with now (nil when the peer left), keeping availability counts.
func (p *Picker) UpdatePeer(old, now content.Bitfield) {
	for i := range p.avail {
		if old.Has(i) {
			p.avail[i]--
		}
		if now.Has(i) {
			p.avail[i]++
		}
	}
}

// Gained records that one more peer holds piece i (it announced it).
func (p *Picker) Gained(i int) {
	if i >= 0 && i < len(p.avail) {
		p.avail[i]++
	}
}

// Pick returns the piece to request from peer, which holds peerHas. It
// prefers the rarest needed piece nobody was asked for (ties broken at
// random so parallel peers spread out). When every needed piece is already
// requested, it returns one requested only once, from another peer (end
// game: the last pieces are not stuck behind one slow peer). ok is false
// when the peer has nothing useful.
func (p *Picker) Pick(peer string, peerHas content.Bitfield) (piece int, ok bool) {
	n := len(p.inFlight)
	if n == 0 || p.missing == 0 {
		return 0, false
	}
	best, bestAvail := -1, int32(0)
	endgame := -1
	start := rand.IntN(n)
	for k := range n {
		i := (start + k) % n
		if p.have.Has(i) || !peerHas.Has(i) || p.bad[i][peer] {
			continue
		}
		switch {
		case p.inFlight[i] == 0:
			if best < 0 || p.avail[i] < bestAvail {
				best, bestAvail = i, p.avail[i]
			}
		case p.inFlight[i] == 1 && endgame < 0 && !slices.Contains(p.asked[i], peer):
			endgame = i
		}
	}
	if best < 0 {
		best = endgame
	}
	if best < 0 {
		return 0, false
	}
	p.inFlight[best]++
	p.asked[best] = append(p.asked[best], peer)
	return best, true
}

// Done records that piece i, asked of peer, was verified and written.
func (p *Picker) Done(i int, peer string) {
	if !p.have.Has(i) {
		p.have.Set(i)
		p.missing--
	}
	p.release(i, peer)
}

// Cancel records that the request for piece i to peer ended without the
// piece (rejected, timed out, connection lost).
func (p *Picker) Cancel(i int, peer string) { p.release(i, peer) }

// Failed records that peer sent a copy of piece i that did not match its
// hash: the piece is requested again, never from that peer.
func (p *Picker) Failed(i int, peer string) {
	if p.bad[i] == nil {
		p.bad[i] = make(map[string]bool)
	}
	p.bad[i][peer] = true
	p.release(i, peer)
}

func (p *Picker) release(i int, peer string) {
	if i < 0 || i >= len(p.inFlight) || p.inFlight[i] == 0 {
		return
	}
	p.inFlight[i]--
	if k := slices.Index(p.asked[i], peer); k >= 0 {
		p.asked[i] = slices.Delete(p.asked[i], k, k+1)
	}
	if len(p.asked[i]) == 0 {
		delete(p.asked, i)
	}
}

// Missing is the number of pieces not yet held.
func (p *Picker) Missing() int { return p.missing }

// Has reports whether piece i is held.
func (p *Picker) Has(i int) bool { return p.have.Has(i) }

// Have returns a copy of the bitfield of the pieces held.
func (p *Picker) Have() content.Bitfield { return p.have.Clone() }

// Stuck returns a needed piece that no peer known to hold it can supply:
// every holder in holders sent a bad copy of it, or nobody holds it.
// ok is false when every needed piece has a possible source.
func (p *Picker) Stuck(holders map[string]content.Bitfield) (piece int, ok bool) {
	for i := range p.inFlight {
		if p.have.Has(i) {
			continue
		}
		source := false
		for peer, bits := range holders {
			if bits.Has(i) && !p.bad[i][peer] {
				source = true
				break
			}
		}
		if !source {
			return i, true
		}
	}
	return 0, false
}
