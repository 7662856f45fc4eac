package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/matrix"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
	"github.com/netlab/netlab/lab/internal/shape"
	"github.com/netlab/netlab/lab/internal/shaper"
	"github.com/netlab/netlab/lab/internal/stack"
	"github.com/netlab/netlab/services/platform/clientcli"
)

// matrixClient is latency-matrix: one pair probed before anything is
// shaped (the base), then every link's impairments applied, every
// ordered pair probed in turn from inside its first container's network
// namespace (so the per-peer shapes of both ends are on the path), and
// the shapes reset.
type matrixClient struct{}

func (matrixClient) Run(ctx context.Context, e *Env, w spec.Workload) (figs []Figure, err error) {
	nodes, err := matrixNodes(e.Stack, e.Spec.MatrixNodes(w))
	if err != nil {
		return nil, err
	}
	base, err := probePair(ctx, e, w, nodes[0], nodes[1])
	if err != nil {
		return nil, fmt.Errorf("calibration %s → %s: %w", nodes[0].Label(), nodes[1].Label(), err)
	}
	figs = base.baseFigures()
	shaped, err := applyLinks(ctx, e, w, nodes)
	defer func() { err = errors.Join(err, resetLinks(e, shaped)) }()
	if err != nil {
		return nil, err
	}
	hops := spec.Hops(w.Links)
	pairs := orderedPairs(nodes)
	e.Rand.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
	for i, p := range pairs {
		from, to := p[0].Label(), p[1].Label()
		fmt.Fprintf(e.Progress, "exp %s: %s pair %d/%d: %s → %s\n", e.Spec.Name, w.Name, i+1, len(pairs), from, to)
		run, err := probePair(ctx, e, w, p[0], p[1])
		if err != nil {
			return nil, fmt.Errorf("%s → %s: %w", from, to, err)
		}
		figs = append(figs, cellFigures(from, to, run, base, matrix.Expect(hops, from, to), w.Tolerance.D())...)
	}
	return figs, nil
}

// matrixNodes are the first n replicas of the matrix's service, in order.
func matrixNodes(cs []stack.Container, n int) ([]stack.Container, error) {
	var out []stack.Container
	for i := 1; i <= n; i++ {
		j := slices.IndexFunc(cs, func(c stack.Container) bool { return c.Label() == spec.MatrixNode(i) })
		if j < 0 {
			return nil, fmt.Errorf("the stack has no %s for the matrix", spec.MatrixNode(i))
		}
		out = append(out, cs[j])
	}
	return out, nil
}

// orderedPairs are every (from, to) of nodes with from ≠ to.
func orderedPairs(nodes []stack.Container) [][2]stack.Container {
	var out [][2]stack.Container
	for _, a := range nodes {
		for _, b := range nodes {
			if a.ID != b.ID {
				out = append(out, [2]stack.Container{a, b})
			}
		}
	}
	return out
}

// applyLinks shapes each container with its share of the links (one
// peer, one direction each) and records the mechanisms; it returns the
// containers shaped, also on an error, for the reset.
func applyLinks(ctx context.Context, e *Env, w spec.Workload, nodes []stack.Container) ([]stack.Container, error) {
	shares, err := spec.LinkShapes("links", w.Links)
	if err != nil {
		return nil, err
	}
	byLabel := map[string]stack.Container{}
	for _, c := range nodes {
		byLabel[c.Label()] = c
	}
	var shaped []stack.Container
	for _, ls := range shares {
		c, peer := byLabel[ls.Container], byLabel[ls.Peer]
		ip, err := peer.IP(e.Network)
		if err != nil {
			return shaped, err
		}
		to, err := netip.ParseAddr(ip)
		if err != nil {
			return shaped, fmt.Errorf("%s: %w", peer.Label(), err)
		}
		sp := shaper.Spec{Direction: shaper.Direction(ls.Direction), To: to, Delay: ls.Delay, Loss: ls.Loss}
		if err := sp.Validate(); err != nil {
			return shaped, fmt.Errorf("links[%d]: %w", ls.Link, err)
		}
		shaped = append(shaped, c)
		results, err := e.Shaper.Shape(ctx, []stack.Container{c}, shape.Request{Spec: sp, Peer: peer.Label()})
		if err != nil {
			return shaped, fmt.Errorf("links[%d] on %s: %w", ls.Link, c.Label(), err)
		}
		e.RecordShapes(results)
	}
	return shaped, nil
}

// resetLinks removes the shapes again, with a context of its own: the
// run's may be the one that ended.
func resetLinks(e *Env, shaped []stack.Container) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	for _, c := range shaped {
		if _, err := e.Shaper.ResetShape(ctx, c); err != nil {
			errs = append(errs, fmt.Errorf("reset %s: %w", c.Label(), err))
		}
	}
	return errors.Join(errs...)
}

// probePair runs udp-client in from's network namespace against to's
// udp-responder, labelled so teardown removes it, and reads its figures.
func probePair(ctx context.Context, e *Env, w spec.Workload, from, to stack.Container) (pairRun, error) {
	ip, err := to.IP(e.Network)
	if err != nil {
		return pairRun{}, err
	}
	name := w.Name + ":" + from.Label() + "→" + to.Label()
	inv := Invocation{Service: spec.MatrixService, Entrypoint: "/udp-client", Args: []string{
		"--addr", net.JoinHostPort(ip, "12345"), "--count", strconv.Itoa(w.Count), "--rate", fmtF(w.Rate),
		"--size", strconv.Itoa(w.Size), "--timeout", w.MatrixTimeout().String(), "--progress=false",
		"--report-interval", e.Spec.Interval.D().String(), "--save", "-", "--label", name}}
	began := e.Since()
	rec, err := RunClient(ctx, e.Project.Name, e.Image(inv.Service), "container:"+from.ID, inv)
	if err != nil {
		return pairRun{}, err
	}
	e.RecordRun(name, began, rec)
	return parsePair(rec)
}

// pairRun is what one probe run measured, times in milliseconds and
// losses in percent.
type pairRun struct {
	Sent, Received  int
	P50, P99, Loss  float64
	OneWay, OneLoss float64 // the probes' way: p50 delay, loss
	Exact           bool    // the responder's count split the loss
}

func parsePair(rec clientcli.Record) (pairRun, error) {
	var r probeJSON
	if err := json.Unmarshal(rec.Result, &r); err != nil {
		return pairRun{}, err
	}
	switch {
	case r.Sent == 0 || r.Received == 0:
		return pairRun{}, fmt.Errorf("udp-client sent %d probes and had %d replies", r.Sent, r.Received)
	case r.Directions == nil:
		return pairRun{}, errors.New("udp-client gave no one-way figures (probe version 1)")
	case r.Directions.ClockSuspect:
		return pairRun{}, errors.New("udp-client's one-way delays went below zero: the two ends' clocks disagree")
	}
	d := r.Directions
	ms := func(ns int64) float64 { return float64(ns) / 1e6 }
	return pairRun{Sent: r.Sent, Received: r.Received, P50: ms(r.Latency.P50), P99: ms(r.Latency.P99), Loss: r.LossPercent,
		OneWay: ms(d.Up.P50), OneLoss: d.UpLoss, Exact: d.Exact && !d.NotCounted}, nil
}

// baseFigures are the calibration's figures.
func (b pairRun) baseFigures() []Figure {
	return []Figure{
		{Figure: result.Figure{Metric: matrix.BaseRTT, Unit: "ms", Value: b.P50, Samples: b.Received}},
		{Figure: result.Figure{Metric: matrix.BaseOneWay, Unit: "ms", Value: b.OneWay, Samples: b.Received}},
	}
}

// Theory's labels of a cell's figures.
const (
	rttTheory  = "base RTT + the delays of both hops"
	lossTheory = "1 − (1 − p₁)(1 − p₂) over both hops"
	oneTheory  = "base one-way delay + the hop's delay"
	oneLossTh  = "the hop's loss"
)

// cellFigures are a pair's figures with what theory expects of each: the
// base plus the links' delays within tol for the p50s, the links' losses
// within 4σ (and a probe) of the binomial. The one-way loss is checked
// only when the responder's count split the loss exactly.
func cellFigures(from, to string, r, base pairRun, ex matrix.Expected, tol time.Duration) []Figure {
	tolMs := float64(tol) / 1e6
	delayed := func(kind string, v, th float64, label string) Figure {
		return Figure{Figure: result.Figure{Metric: matrix.Metric(kind, from, to), Unit: "ms", Value: v, Samples: r.Received,
			Theory: &th, TheoryLabel: label, BandLow: ptr(math.Max(0, th-tolMs)), BandHigh: ptr(th + tolMs)}}
	}
	lost := func(kind string, v, th float64, label string, banded bool) Figure {
		f := Figure{Figure: result.Figure{Metric: matrix.Metric(kind, from, to), Unit: "%", Value: v, Samples: r.Sent, Theory: &th, TheoryLabel: label}}
		if banded {
			lo, hi := matrix.LossBand(th, r.Sent)
			f.BandLow, f.BandHigh = &lo, &hi
		}
		return f
	}
	return []Figure{
		delayed(matrix.RTTP50, r.P50, base.P50+ms(ex.RTT), rttTheory),
		{Figure: result.Figure{Metric: matrix.Metric(matrix.RTTP99, from, to), Unit: "ms", Value: r.P99, Samples: r.Received}},
		lost(matrix.Loss, r.Loss, ex.Loss, lossTheory, true),
		delayed(matrix.OneWayP50, r.OneWay, base.OneWay+ms(ex.OneWay), oneTheory),
		lost(matrix.OneWayLos, r.OneLoss, ex.OneLoss, oneLossTh, r.Exact),
	}
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func ptr(v float64) *float64 { return &v }
