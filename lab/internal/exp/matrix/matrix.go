// Package matrix is the model of the latency-matrix experiment: what
// theory expects of each ordered pair of containers under per-link
// impairments, the names of each pair's figures in the result, and the
// matrix assembled back from a result for its table and heat maps.
package matrix

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
	"github.com/netlab/netlab/lab/internal/exp/stats"
)

// The figures of a cell (a probe run from one container to another),
// each named Metric(kind, from, to), and of the calibration run.
const (
	RTTP50    = "rtt_p50_ms"
	RTTP99    = "rtt_p99_ms"
	Loss      = "loss_percent"
	OneWayP50 = "one_way_p50_ms"       // from → to, the probes' way
	OneWayLos = "one_way_loss_percent" // of the probes on their way to the responder
	// BaseRTT and BaseOneWay are the calibration run's p50s, measured
	// before any link is shaped: theory's starting point.
	BaseRTT    = "base_rtt_p50_ms"
	BaseOneWay = "base_one_way_p50_ms"
)

// Kinds are a cell's figures in the order a result holds them.
var Kinds = []string{RTTP50, RTTP99, Loss, OneWayP50, OneWayLos}

// Metric is the name of a cell's figure: kind[from→to].
func Metric(kind, from, to string) string { return kind + "[" + from + "→" + to + "]" }

// ParseMetric splits a cell's figure name; ok is false for any other.
func ParseMetric(m string) (kind, from, to string, ok bool) {
	kind, rest, ok := strings.Cut(m, "[")
	if !ok || !strings.HasSuffix(rest, "]") {
		return "", "", "", false
	}
	from, to, ok = strings.Cut(strings.TrimSuffix(rest, "]"), "→")
	if !ok || from == "" || to == "" || !slices.Contains(Kinds, kind) {
		return "", "", "", false
	}
	return kind, from, to, true
}

// Expected is what theory adds to a cell's unimpaired figures: a probe
// from From to To crosses the hop From → To, its reply the hop To → From.
type Expected struct {
	RTT     time.Duration // the two hops' delays
	Loss    float64       // percent: 1 − (1 − p₁)(1 − p₂) over the two hops
	OneWay  time.Duration // the hop From → To's delay
	OneLoss float64       // percent: the hop From → To's loss
}

// Expect is theory's cell from → to under hops: delays add along the
// round trip, and a probe comes back only when neither hop drops it
// (independent losses).
func Expect(hops []spec.Hop, from, to string) Expected {
	var e Expected
	var out, back float64
	for _, h := range hops {
		switch {
		case h.From == from && h.To == to:
			e.OneWay += h.Delay
			e.OneLoss = CombineLoss(e.OneLoss, h.Loss)
			e.RTT += h.Delay
			out = CombineLoss(out, h.Loss)
		case h.From == to && h.To == from:
			e.RTT += h.Delay
			back = CombineLoss(back, h.Loss)
		}
	}
	e.Loss = CombineLoss(out, back)
	return e
}

// CombineLoss is the loss, in percent, of a path through independent
// losses ps (percent): 1 − Π(1 − p).
func CombineLoss(ps ...float64) float64 {
	pass := 1.0
	for _, p := range ps {
		pass *= 1 - p/100
	}
	return 100 * (1 - pass)
}

// LossBand is what one run of n probes may measure of a loss p (percent):
// p ± 4σ of the binomial, and one probe either way for the count being
// whole.
func LossBand(p float64, n int) (lo, hi float64) {
	if n <= 0 {
		return 0, 100
	}
	k := 4*stats.LossSigma(p, n) + 100/float64(n)
	return math.Max(0, p-k), math.Min(100, p+k)
}

// Cell is one ordered pair's figures over the repetitions (nil: not
// measured).
type Cell struct {
	From, To string
	Figures  map[string]*result.Measure // by kind
}

// Within reports whether every figure of the cell that has a band lies
// in it; checked is false when none has one.
func (c Cell) Within() (within, checked bool) {
	within = true
	for _, m := range c.Figures {
		if m.Within != nil {
			checked = true
			within = within && *m.Within
		}
	}
	return within, checked
}

// Matrix is one latency-matrix workload's result.
type Matrix struct {
	Workload string
	Nodes    []string // in replica order
	Cells    map[[2]string]*Cell
	// Base are the calibration's figures (nil when absent).
	BaseRTT, BaseOneWay *result.Measure
}

// Cell is the cell from → to, nil when it was not measured.
func (m *Matrix) Cell(from, to string) *Cell { return m.Cells[[2]string{from, to}] }

// Missing are the ordered pairs of Nodes without every figure.
func (m *Matrix) Missing() [][2]string {
	var out [][2]string
	for _, a := range m.Nodes {
		for _, b := range m.Nodes {
			if a == b {
				continue
			}
			if c := m.Cell(a, b); c == nil || len(c.Figures) < len(Kinds) {
				out = append(out, [2]string{a, b})
			}
		}
	}
	return out
}

// FromResult assembles every latency-matrix workload's matrix from the
// measures of r's (single) point, in the order the workloads first appear.
func FromResult(r *result.Result) []*Matrix {
	var out []*Matrix
	byName := map[string]*Matrix{}
	for pi := range r.Points {
		for mi := range r.Points[pi].Measures {
			ms := &r.Points[pi].Measures[mi]
			if ms.Client != spec.LatencyMatrix {
				continue
			}
			mx := byName[ms.Workload]
			if mx == nil {
				mx = &Matrix{Workload: ms.Workload, Cells: map[[2]string]*Cell{}}
				byName[ms.Workload] = mx
				out = append(out, mx)
			}
			mx.add(ms)
		}
	}
	for _, mx := range out {
		slices.SortFunc(mx.Nodes, byReplica)
	}
	return out
}

func (m *Matrix) add(ms *result.Measure) {
	switch ms.Metric {
	case BaseRTT:
		m.BaseRTT = ms
		return
	case BaseOneWay:
		m.BaseOneWay = ms
		return
	}
	kind, from, to, ok := ParseMetric(ms.Metric)
	if !ok {
		return
	}
	for _, n := range []string{from, to} {
		if !slices.Contains(m.Nodes, n) {
			m.Nodes = append(m.Nodes, n)
		}
	}
	k := [2]string{from, to}
	if m.Cells[k] == nil {
		m.Cells[k] = &Cell{From: from, To: to, Figures: map[string]*result.Measure{}}
	}
	m.Cells[k].Figures[kind] = ms
}

// byReplica orders "udp-responder-2" before "udp-responder-10".
func byReplica(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}
