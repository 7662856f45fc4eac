package udpclient

import (
	"sync/atomic"
	"time"

	"github.com/netlab/netlab/services/udp-responder/probe"
)

// Directions splits a probe run's loss into its two directions with the
// responder's count of the run's requests (probe version 2): upstream
// lost = sent − what the responder received, downstream lost = what it
// received (and answered) − the replies that came back. The two add up to
// the run's loss.
//
// The count is exact when the count query at the end of the run was
// answered (Exact). Without that answer, ResponderReceived is the highest
// count a reply carried, a lower bound: UpLost is then an upper bound and
// DownLost a lower one. A request the network duplicated on its way up is
// counted twice by the responder, moving one loss from up to down; the
// run's duplicated count shows when that can have happened.
type Directions struct {
	ResponderReceived int64
	Exact             bool
	Queries           int // count queries sent at the end of the run
	// NotCounted: the responder's run table was full, so it kept no count
	// for this run and the loss cannot be split (the delays still can).
	NotCounted                     bool
	UpLost, DownLost               int64
	UpLossPercent, DownLossPercent float64 // of Sent, of ResponderReceived
	// ResponderKernelTimestamps: every receive time the responder sent
	// was its kernel's, not the time it read the request.
	ResponderKernelTimestamps bool
}

// v2Replies counts what the replies of a run said about their two ends,
// while the run receives.
type v2Replies struct {
	maxCount        atomic.Uint64 // the highest responder count a reply carried
	filled          atomic.Int64  // replies with the responder's section
	notCounted      atomic.Int64  // of them, saying the run is not counted
	responderKernel atomic.Int64  // of them, with the responder's kernel receive time
	unfilled        atomic.Int64  // v2 replies without it: the responder speaks version 1
	datagrams       atomic.Int64  // datagrams read
	kernel          atomic.Int64  // of them, with the kernel's arrival time
}

func (v *v2Replies) add(r probe.Responder) {
	v.filled.Add(1)
	if r.NotCounted {
		v.notCounted.Add(1)
	}
	if r.KernelRecv {
		v.responderKernel.Add(1)
	}
	for m := v.maxCount.Load(); r.Count > m && !v.maxCount.CompareAndSwap(m, r.Count); m = v.maxCount.Load() {
	}
}

// countQueries is how many times the count query is sent at the end of a
// run before the split is given as a bound. A query and its answer each
// cross the lossy path: at 20 % loss each way a try fails with 0.36, and
// 12 tries all fail with 5e-6 (5 tries: 6e-3); only a link that loses
// nearly everything waits for all of them.
const countQueries = 12

// countAnswer is the outcome of the count queries.
type countAnswer struct {
	queries  int
	answered bool
	resp     probe.Responder
}

// queryCount asks the responder for the run's count, once the wait for
// the last replies is over (so every request that will arrive has), up to
// countQueries times, waiting up to timeout (at most a second) for each
// answer. Queries are not counted by the responder.
func (r *run) queryCount(timeout time.Duration) countAnswer {
	conn := r.conns[0]
	req := make([]byte, probe.HeaderSizeV2)
	buf := make([]byte, probe.MaxSize+1)
	wait := min(timeout, time.Second)
	var a countAnswer
	for q := range countQueries {
		a.queries = q + 1
		_ = probe.Encode(req, probe.Probe{V2: true, Query: true, RunID: r.runID, Seq: uint64(q), SentUnix: time.Now().UnixNano()})
		_ = conn.SetReadDeadline(time.Now().Add(wait))
		if _, err := writeDatagram(conn, req); err != nil {
			continue
		}
		for {
			n, err := conn.Read(buf)
			if err != nil {
				if isRefused(err) {
					continue
				}
				break
			}
			// Any query answer of this run will do: the count no longer moves.
			if p, err := probe.Parse(buf[:n]); err == nil && p.Reply && p.Query && p.RunID == r.runID {
				a.answered, a.resp = true, p.Responder
				return a
			}
		}
	}
	return a
}

// directions splits the loss of a finished run, or returns nil when the
// run cannot: version 1 probes, or a responder that does not speak
// version 2.
func (r *run) directions(s Stats, q countAnswer) *Directions {
	v := &r.replies
	if !r.v2 || v.unfilled.Load() > 0 || (q.answered && !q.resp.Filled) || (v.filled.Load() == 0 && !q.answered && s.Received > 0) {
		return nil
	}
	d := &Directions{Queries: q.queries, ResponderReceived: int64(v.maxCount.Load()),
		ResponderKernelTimestamps: v.filled.Load() > 0 && v.responderKernel.Load() == v.filled.Load()}
	switch {
	case v.notCounted.Load() > 0 || q.resp.NotCounted:
		return &Directions{Queries: q.queries, NotCounted: true, ResponderKernelTimestamps: d.ResponderKernelTimestamps}
	case q.answered && !q.resp.UnknownRun:
		d.ResponderReceived, d.Exact = int64(q.resp.Count), true
	case q.answered && v.filled.Load() == 0:
		// The responder holds no run that no reply ever came from: it
		// received none of its requests.
		d.ResponderReceived, d.Exact = 0, true
	}
	d.UpLost = max(s.Sent-d.ResponderReceived, 0)
	d.DownLost = s.Lost - d.UpLost
	if s.Sent > 0 {
		d.UpLossPercent = 100 * float64(d.UpLost) / float64(s.Sent)
	}
	if got := s.Sent - d.UpLost; got > 0 {
		d.DownLossPercent = 100 * float64(d.DownLost) / float64(got)
	}
	return d
}
