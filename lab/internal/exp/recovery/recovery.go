// Package recovery measures how a swarm download rides out a partition:
// what it received from across the cut while cut off, how long it had
// stalled when the heal came, and the time from the heal until it made
// progress again and until it completed. It also gives the bound the
// peer node's redial schedule puts on that recovery (bound.go). It reads
// numbers only: the experiment's client and its report both use it.
package recovery

import "math"

// Timeline is when the experiment acted, in seconds on the series' clock.
// The partition holds from Partition (every rule in place) until
// HealBegin (the first rule may go). Heal is when the first far-side
// node's rules were surely gone (the cut nodes could reach it again: the
// partition was over), HealEnd when every node's were.
type Timeline struct {
	Start          float64 // the downloads were started
	PartitionBegin float64 // setting the partition began
	Partition      float64 // every partition rule is in place
	HealBegin      float64 // removing the rules began
	Heal           float64 // one far-side node healed
	HealEnd        float64 // every far-side node healed
}

// Sample is one poll of a download.
type Sample struct {
	T      float64 // seconds, series clock
	Bytes  float64 // verified bytes held
	Across float64 // of them, received from nodes across the cut
}

// Node is one downloader's polled download.
type Node struct {
	Label   string
	Cut     bool     // on the far side of the partition from the sources
	Samples []Sample // in time order
	// Complete is when the download completed (series clock); NaN when
	// it did not.
	Complete float64
}

// Outcome is what one node went through.
type Outcome struct {
	Label string
	Cut   bool
	// AcrossDuring is what arrived from across the cut between
	// Partition + grace and HealBegin: 0 when the cut held.
	AcrossDuring float64
	// StalledAtHeal is how long the node had made no progress at all
	// (from anyone) when the heal began; 0 when it still progressed.
	StalledAtHeal float64
	// Resume is the time from Heal to the first poll that saw the
	// download progress again (0 when one did while the heal was still
	// running); NaN when none did.
	Resume float64
	// ResumeAcross is the same for the first new bytes from across the
	// cut: NaN for a node that got the rest from its own side.
	ResumeAcross float64
	// Complete is the time from Heal to the download's completion
	// (negative when it completed before); NaN when it did not.
	Complete float64
}

// Analyze measures node n against the timeline. grace is how long after
// the partition bytes already on their way may still land (a piece read
// from the socket buffer).
func Analyze(tl Timeline, n Node, grace float64) Outcome {
	o := Outcome{Label: n.Label, Cut: n.Cut, Resume: math.NaN(), ResumeAcross: math.NaN(), Complete: math.NaN()}
	if !math.IsNaN(n.Complete) {
		o.Complete = n.Complete - tl.Heal
	}
	base, ok := at(n.Samples, tl.Partition+grace)
	if !ok {
		return o
	}
	end, _ := at(n.Samples, tl.HealBegin)
	o.AcrossDuring = math.Max(0, end.Across-base.Across)
	o.StalledAtHeal = stalledSince(n.Samples, tl.Partition, tl.HealBegin)
	for _, s := range n.Samples {
		if s.T <= tl.HealBegin {
			continue
		}
		if math.IsNaN(o.Resume) && s.Bytes > end.Bytes {
			o.Resume = math.Max(0, s.T-tl.Heal)
		}
		if math.IsNaN(o.ResumeAcross) && s.Across > end.Across {
			o.ResumeAcross = math.Max(0, s.T-tl.Heal)
		}
	}
	return o
}

// at is the last sample at or before t.
func at(ss []Sample, t float64) (Sample, bool) {
	var last Sample
	found := false
	for _, s := range ss {
		if s.T > t {
			break
		}
		last, found = s, true
	}
	return last, found
}

// stalledSince is how long before end the held bytes last rose, counted
// from from at most: end − the last sample in [from, end] that saw more
// bytes than the one before it.
func stalledSince(ss []Sample, from, end float64) float64 {
	since := from
	for i := 1; i < len(ss); i++ {
		if ss[i].T > end {
			break
		}
		if ss[i].T >= from && ss[i].Bytes > ss[i-1].Bytes {
			since = ss[i].T
		}
	}
	return math.Max(0, end-since)
}

// HeldAfter is the bytes a node held by its first poll at or after t (its
// last poll when none came after): at least what it held at t.
func HeldAfter(n Node, t float64) float64 {
	for _, s := range n.Samples {
		if s.T >= t {
			return s.Bytes
		}
	}
	if len(n.Samples) == 0 {
		return 0
	}
	return n.Samples[len(n.Samples)-1].Bytes
}
