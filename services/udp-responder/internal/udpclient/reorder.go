package udpclient

import "sort"

// reorder applies RFC 4737's reordering metrics to the replies of one flow
// in arrival order. Section 3.3: a packet is reordered when its sequence
// number is below NextExp, the highest sequence number received so far plus
// one; any other packet is in order and moves NextExp past itself. So a
// gap (loss) never counts, and only packets that arrive after a later one
// do. Duplicates must not be given to it: the RFC counts each packet once.
//
// Section 4.2.2: the extent of a reordered packet is how many arrivals
// back the earliest packet with a higher sequence number came; one
// overtaken by a single packet has extent 1.
type reorder struct {
	nextExp  uint64 // RFC 4737 NextExp
	arrivals uint64 // position of the next arrival, from 0
	// runs are the in-order arrivals, compressed: each run is sequence
	// numbers seq..seq+n-1 that arrived at positions pos..pos+n-1. The
	// earliest arrival above a reordered packet is always an in-order one,
	// so these suffice to find its extent.
	runs []inOrderRun

	reordered int64
	maxExtent uint64
}

type inOrderRun struct{ seq, pos, n uint64 }

// maxRuns bounds the memory of a flow (24 bytes a run). A run ends at each
// loss or reordering, so it takes that many events to reach the bound;
// past it the oldest half is dropped and extents reaching further back are
// reported as reaching the oldest run kept (at least that long).
const maxRuns = 1 << 16

// arrive records the arrival of seq and returns its extent: 0 when it is
// in order, at least 1 when it is reordered.
func (r *reorder) arrive(seq uint64) (extent uint64) {
	pos := r.arrivals
	r.arrivals++
	if seq >= r.nextExp {
		r.nextExp = seq + 1
		if k := len(r.runs) - 1; k >= 0 && r.runs[k].seq+r.runs[k].n == seq && r.runs[k].pos+r.runs[k].n == pos {
			r.runs[k].n++
			return 0
		}
		if len(r.runs) == maxRuns {
			r.runs = append(r.runs[:0], r.runs[maxRuns/2:]...)
		}
		r.runs = append(r.runs, inOrderRun{seq: seq, pos: pos, n: 1})
		return 0
	}
	// The first run that ends above seq holds the earliest arrival above
	// it; there is one, since the last run ends at NextExp-1 > seq.
	i := sort.Search(len(r.runs), func(i int) bool { return r.runs[i].seq+r.runs[i].n-1 > seq })
	extent = uint64(1)
	if i < len(r.runs) {
		run := r.runs[i]
		first := max(run.seq, seq+1)
		extent = pos - (run.pos + first - run.seq)
	}
	r.reordered++
	r.maxExtent = max(r.maxExtent, extent)
	return extent
}
