// Package filedist is the theory of distributing one file to N peers
// (Kurose & Ross, Computer Networking, §2.5.2): the least time a server
// alone can take, and the least any peer-to-peer scheme can; and the
// diagnosis of a measured distribution against them.
package filedist

import "math"

// Params are one distribution: a file of F bytes from a server whose
// upload is Us bytes/s to N peers, each uploading U and downloading at
// most DMin bytes/s (0: downloads are not the limit).
type Params struct {
	F, Us, U, DMin float64
	N              int
}

// Term names the term of a bound that is the largest.
type Term string

// The terms of the bounds.
const (
	TermServerAll  Term = "NF/us"           // the server sends N copies
	TermServerOnce Term = "F/us"            // the server sends one copy
	TermDownload   Term = "F/dmin"          // the slowest peer's download
	TermAggregate  Term = "NF/(us + Σui)"   // every upload together
	TermNone       Term = "no finite bound" // nothing to send, or no upload
)

// ClientServer is D_cs = max(NF/us, F/dmin), and the term that sets it.
func ClientServer(p Params) (float64, Term) {
	if p.N <= 0 || p.F <= 0 {
		return 0, TermNone
	}
	best, term := float64(p.N)*p.F/p.Us, TermServerAll
	if d := download(p); d > best {
		best, term = d, TermDownload
	}
	return best, term
}

// PeerToPeer is the lower bound D_P2P ≥ max(F/us, F/dmin, NF/(us + N·u)),
// and the term that sets it.
func PeerToPeer(p Params) (float64, Term) {
	if p.N <= 0 || p.F <= 0 {
		return 0, TermNone
	}
	best, term := p.F/p.Us, TermServerOnce
	if d := download(p); d > best {
		best, term = d, TermDownload
	}
	if a := float64(p.N) * p.F / (p.Us + float64(p.N)*p.U); a > best {
		best, term = a, TermAggregate
	}
	return best, term
}

// download is F/dmin, 0 when downloads are not the limit.
func download(p Params) float64 {
	if p.DMin <= 0 {
		return 0
	}
	return p.F / p.DMin
}

// Valid says whether p's rates and size are finite and the server's
// upload positive, so both bounds are finite.
func (p Params) Valid() bool {
	for _, v := range []float64{p.F, p.Us, p.U, p.DMin} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return false
		}
	}
	return p.Us > 0 && p.F > 0
}
