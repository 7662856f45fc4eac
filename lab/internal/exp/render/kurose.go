package render

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/netlab/netlab/lab/internal/exp/filedist"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
)

// krPoint is one arm at one N: each figure's mean over the repetitions,
// read back from the series' summary rows.
type krPoint struct {
	arm, workload string
	n             int
	reps          int
	term          filedist.Term // of the bound, from the run's spec
	mean          map[string]float64
	last          []float64 // each repetition's last node
}

// krPoints reads every kurose-ross point of workload w from the series.
func krPoints(rows []result.Row, w, arm string) []*krPoint {
	src := result.SummaryPrefix + w
	by := map[int]*krPoint{}
	sums := map[int]map[string][]float64{}
	for _, r := range rows {
		if r.Source != src {
			continue
		}
		if by[r.Point] == nil {
			by[r.Point] = &krPoint{arm: arm, workload: w, n: int(r.Value), mean: map[string]float64{}}
			sums[r.Point] = map[string][]float64{}
		}
		sums[r.Point][r.Metric] = append(sums[r.Point][r.Metric], r.V)
	}
	var out []*krPoint
	for _, k := range slices.Sorted(maps.Keys(by)) {
		p := by[k]
		for m, vs := range sums[k] {
			p.mean[m] = meanOf(vs)
		}
		p.last = sums[k][filedist.MetricLast]
		p.reps = len(p.last)
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *krPoint) int { return a.n - b.n })
	return out
}

func meanOf(vs []float64) float64 {
	s := 0.0
	for _, v := range vs {
		s += v
	}
	return s / float64(len(vs))
}

// obs is the point's means as the diagnosis reads them.
func (p *krPoint) obs() filedist.Obs {
	m := p.mean
	return filedist.Obs{Arm: p.arm, Last: m[filedist.MetricLast], Bound: m[filedist.Bound], StartSkew: m[filedist.StartSkew],
		FirstBytes: m[filedist.FirstBytes], ServerUtil: m[filedist.ServerUtil], AllUtil: m[filedist.AllUtil],
		CPUBusy: m[filedist.CPUBusy], Overhead: m[filedist.Overhead], Poll: m[filedist.Poll], Term: p.term}
}

// kuroseSections are a kurose-ross run's sections: the book's figure
// (times in units of F/u, both bounds over every N) and the per-point
// diagnosis.
func kuroseSections(dir string, r *result.Result, rows []result.Row) ([]Section, error) {
	ran, _ := readSpec(dir) // without it: no bounds, no figure
	var arms [][]*krPoint
	for _, w := range workloadsOf(r, spec.KuroseRoss) {
		arm, wl := spec.ArmPeerToPeer, -1
		if ran != nil {
			if wl = slices.IndexFunc(ran.Workloads, func(x spec.Workload) bool { return x.Name == w }); wl >= 0 {
				arm = ran.Workloads[wl].Arm
			}
		}
		pts := krPoints(rows, w, arm)
		for _, p := range pts {
			if wl >= 0 {
				par, err := spec.KuroseParams(ran, ran.Workloads[wl], p.n)
				if err != nil {
					return nil, err
				}
				_, p.term = spec.KuroseBound(par, arm)
			}
		}
		if len(pts) > 0 {
			arms = append(arms, pts)
		}
	}
	if len(arms) == 0 {
		return nil, nil
	}
	out := []Section{{Heading: "Distribution time against the bounds, per point", Text: krText(arms), Table: krTable(arms)}}
	if ran == nil {
		return out, nil
	}
	p, err := bookPlot(r, ran, arms)
	if err != nil {
		return nil, err
	}
	name := r.Name + "-book"
	if _, err := WritePlot(dir, name, p); err != nil {
		return nil, err
	}
	out[0].Plots = []string{name}
	return out, nil
}

func krText(arms [][]*krPoint) string {
	within, total, worst, where := 0, 0, 1.0, "none"
	for _, pts := range arms {
		for _, p := range pts {
			ratio := p.mean[filedist.MetricLast] / p.mean[filedist.Bound]
			total++
			if math.Abs(ratio-1) <= filedist.Tolerance {
				within++
			}
			if math.Abs(ratio-1) > math.Abs(worst-1) {
				worst, where = ratio, fmt.Sprintf("%s at N = %d", p.workload, p.n)
			}
		}
	}
	return fmt.Sprintf("Each time runs from the one start signal to the last node's verified copy (the nodes' own clocks), the mean "+
		"over the repetitions; the goal is every point within %.0f %% of its bound. %d of %d points are; the farthest is %s, at %.3f "+
		"× its bound. The diagnosis names what limited each point, from what was measured during it: the time from the signal to "+
		"the last node's first bytes (discovery and start: the swarm had formed before the signal; seen by the polls, so "+
		"no finer than their interval), how busy the server's and all "+
		"the uploads were against their caps (the bytes each node sent over cap × time), the share of pieces sent twice (the end "+
		"game), and the nodes' CPU time over the machine's CPUs.", 100*filedist.Tolerance, within, total, where, worst)
}

func krTable(arms [][]*krPoint) [][]string {
	rows := [][]string{{"N", "arm", "bound (s)", "last node (s)", "last / bound", "median node (s)", "swarm formed (s)",
		"first bytes by (s)", "polled every (s)", "server upload", "all uploads", "sent twice", "CPU", "what limited it"}}
	pct := func(v float64) string { return strconv.FormatFloat(100*v, 'f', 0, 64) + " %" }
	for _, pts := range arms {
		for _, p := range pts {
			m := p.mean
			o := p.obs()
			rows = append(rows, []string{strconv.Itoa(p.n), p.workload, num(m[filedist.Bound]), num(m[filedist.MetricLast]),
				fmt.Sprintf("%.3f", m[filedist.MetricLast]/m[filedist.Bound]), num(m[filedist.MetricMedian]), num(m[filedist.Form]),
				num(o.StartSkew + o.FirstBytes), num(m[filedist.Poll]), pct(o.ServerUtil), pct(o.AllUtil), pct(o.Overhead), pct(o.CPUBusy),
				strings.SplitN(filedist.Diagnose(o), " (", 2)[0]})
		}
	}
	return rows
}
