package runner

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/recovery"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/services/peer/api"
)

// poll reads every downloader's progress each interval into the series
// until every download is complete (then it closes done) or ctx ends.
func (sw *swarmRun) poll(ctx context.Context, done chan<- struct{}) {
	tick := time.NewTicker(sw.e.Spec.Interval.D())
	defer tick.Stop()
	for {
		if sw.pollOnce(ctx) {
			close(done)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// pollOnce polls every downloader once; true when every download is
// over (complete, or failed: run reports which).
func (sw *swarmRun) pollOnce(ctx context.Context) bool {
	over := true
	for _, c := range sw.down {
		d, err := sw.client[c.ID].Download(ctx, sw.id)
		if err != nil {
			over = false // a poll that failed shows as a gap
			continue
		}
		t := sw.e.Since()
		s := recovery.Sample{T: t, Bytes: float64(d.Bytes), Across: across(d, sw.acrossIPs(c))}
		src := sw.src + "/" + c.Label()
		sw.e.Add(result.Row{Source: src, T: t, Metric: recovery.NodeBytes, V: s.Bytes}, result.Row{Source: src, T: t, Metric: recovery.NodeAcross, V: s.Across})
		sw.mu.Lock()
		n := sw.nodes[c.ID]
		n.Samples = append(n.Samples, s)
		if d.State == api.StateComplete && math.IsNaN(n.Complete) {
			// The node's own finishing time, on the series' clock.
			n.Complete = t
			if !d.Finished.IsZero() {
				n.Complete = t - time.Since(d.Finished).Seconds()
			}
		}
		if d.State == api.StateFailed {
			sw.failed = fmt.Sprintf("%s: the download failed: %s", c.Label(), d.Error)
		}
		over = over && (d.State == api.StateComplete || d.State == api.StateFailed)
		sw.mu.Unlock()
	}
	return over
}

// progress is where each download stands, for an error.
func (sw *swarmRun) progress() string {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	var out []string
	for _, c := range sw.down {
		n := sw.nodes[c.ID]
		held := 0.0
		if len(n.Samples) > 0 {
			held = n.Samples[len(n.Samples)-1].Bytes
		}
		out = append(out, fmt.Sprintf("%s %.0f of %d bytes", c.Label(), held, sw.w.Bytes))
	}
	return strings.Join(out, ", ")
}

// record adds the timeline, the bound and each node's side and
// completion to the series: the report draws from them.
func (sw *swarmRun) record() {
	ev := func(metric string, t, v float64) result.Row {
		return result.Row{Source: sw.src, T: t, Metric: metric, V: v}
	}
	tl, now := sw.tl, sw.e.Since()
	sw.e.Add(ev(recovery.EventStart, tl.Start, tl.Start), ev(recovery.EventPartitionBegin, tl.PartitionBegin, tl.PartitionBegin),
		ev(recovery.EventPartition, tl.Partition, tl.Partition), ev(recovery.EventHealBegin, tl.HealBegin, tl.HealBegin), ev(recovery.EventHeal, tl.Heal, tl.Heal),
		ev(recovery.EventHealEnd, tl.HealEnd, tl.HealEnd),
		ev(recovery.EventBound, now, sw.bound.Total), ev(recovery.EventBoundFailures, now, float64(sw.bound.Failures)),
		ev(recovery.EventBoundBackoff, now, sw.bound.Backoff), ev(recovery.EventBoundPiece, now, sw.bound.Piece),
		ev(recovery.EventFileBytes, now, float64(sw.w.Bytes)), ev(recovery.EventWhole, now, sw.wholeSent()),
		ev(recovery.EventCompleteBound, now, sw.completionBound()))
	for _, c := range sw.down {
		n := sw.nodes[c.ID]
		src := sw.src + "/" + c.Label()
		sw.e.Add(result.Row{Source: src, T: now, Metric: recovery.NodeCut, V: b2f(n.Cut)})
		if !math.IsNaN(n.Complete) {
			sw.e.Add(result.Row{Source: src, T: n.Complete, Metric: recovery.NodeComplete, V: n.Complete})
		}
	}
}

// figures are the repetition's measures: the worst recovery of the cut
// downloaders against the bound for the partition's planned length (the
// same in every repetition; the report's table has each one's bound for
// the length the cut really held), what came across the cut while it
// held (theory 0), the worst completion after the heal (its least, which
// depends on what the nodes held then, is in the report's table), and
// the partition rules left (0).
func (sw *swarmRun) figures(verified, left int) ([]Figure, error) {
	grace := recovery.Grace(sw.e.Spec.Interval.D().Seconds())
	worst, acrossDuring, complete, stalled := 0.0, 0.0, math.Inf(-1), math.Inf(1)
	for _, c := range sw.cut {
		o := recovery.Analyze(sw.tl, *sw.nodes[c.ID], grace)
		if math.IsNaN(o.Resume) {
			return nil, fmt.Errorf("%s made no progress after the heal", c.Label())
		}
		worst, acrossDuring = math.Max(worst, o.Resume), acrossDuring+o.AcrossDuring
		complete, stalled = math.Max(complete, o.Complete), math.Min(stalled, o.StalledAtHeal)
		sw.say("%s: %.0f bytes across the cut while it held, stalled %.1fs at the heal; progress %.1fs after it (from across %.1fs), complete %.1fs after it",
			c.Label(), o.AcrossDuring, o.StalledAtHeal, o.Resume, o.ResumeAcross, o.Complete)
	}
	zero, bound := 0.0, sw.planned.Total
	extra := map[string]float64{"downloaders": float64(len(sw.down)), "cut": float64(len(sw.cut)), "verified": float64(verified),
		recovery.EventBound: sw.bound.Total, recovery.EventBoundFailures: float64(sw.bound.Failures), "stalled_at_heal_min_s": stalled,
		recovery.EventCompleteBound: sw.completionBound()}
	if verified != len(sw.down) {
		return nil, fmt.Errorf("%d of %d downloaded files match the seeded content", verified, len(sw.down))
	}
	return []Figure{
		{Figure: result.Figure{Metric: recovery.MetricRecovery, Unit: "s", Value: worst, Samples: len(sw.cut),
			Theory: &bound, TheoryLabel: recovery.BoundLabel + " (planned partition)", BandLow: &zero, BandHigh: &bound}, Extra: extra},
		{Figure: result.Figure{Metric: recovery.MetricAcrossDuring, Unit: "bytes", Value: acrossDuring, Samples: len(sw.cut),
			Theory: &zero, TheoryLabel: "nothing crosses the cut", BandLow: &zero, BandHigh: &zero}},
		{Figure: result.Figure{Metric: recovery.MetricComplete, Unit: "s", Value: complete, Samples: len(sw.cut)}},
		{Figure: result.Figure{Metric: recovery.MetricRulesLeft, Unit: "rules", Value: float64(left),
			Theory: &zero, TheoryLabel: "every partition healed", BandLow: &zero, BandHigh: &zero}},
	}, nil
}

// wholeSent is the earliest the seeds' caps could have sent the whole
// file (each with a quarter second of burst), on the series' clock: a
// partition in place later may find the cut nodes holding all of it
// between them, with no stall to measure.
func (sw *swarmRun) wholeSent() float64 {
	return sw.tl.Start + float64(sw.w.Bytes)/(float64(len(sw.seeds))*sw.params.UploadRate) - 0.25
}

// completionBound is the least time from the heal to the last cut
// node's completion: what they still lacked then, through every node's
// upload cap.
func (sw *swarmRun) completionBound() float64 {
	need := 0.0
	for _, c := range sw.cut {
		need += float64(sw.w.Bytes) - recovery.HeldAfter(*sw.nodes[c.ID], sw.tl.Heal)
	}
	return recovery.CompletionBound(need, len(sw.seeds)+len(sw.down), sw.params.UploadRate)
}
