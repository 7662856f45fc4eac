package render

import (
	"fmt"
	"slices"

	"github.com/netlab/netlab/lab/internal/exp/filedist"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// bookPlot is the book's Fig. 2.23 measured: the distribution time in
// units of F/u (the book's hours) against N, each arm's bound over every
// N from 1 to the largest swept, the last node of each point (its
// repetitions' range as a bar) and the median node (hollow).
func bookPlot(r *result.Result, s *spec.Spec, arms [][]*krPoint) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = r.Title
	p.X.Label.Text = "N, peer nodes downloading"
	p.Y.Label.Text = "distribution time (units of F/u, the book's hours)"
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	for i, pts := range arms {
		w := s.Workloads[slices.IndexFunc(s.Workloads, func(x spec.Workload) bool { return x.Name == pts[0].workload })]
		par, err := spec.KuroseParams(s, w, 1)
		if err != nil {
			return nil, err
		}
		hour := par.F / par.U
		if err := addBound(p, par, w.Arm, pts[len(pts)-1].n, hour, i); err != nil {
			return nil, err
		}
		if err := addMeasured(p, pts, hour, i); err != nil {
			return nil, err
		}
	}
	p.X.Min, p.Y.Min = 0, 0
	p.Y.Max *= 1.15
	p.X.Max *= 1.03
	return p, nil
}

// addBound draws the arm's bound at every N up to maxN.
func addBound(p *plot.Plot, par filedist.Params, arm string, maxN int, hour float64, i int) error {
	var line plotter.XYs
	for n := 1; n <= maxN; n++ {
		par.N = n
		d, _ := spec.KuroseBound(par, arm)
		line = append(line, plotter.XY{X: float64(n), Y: d / hour})
	}
	l, err := plotter.NewLine(line)
	if err != nil {
		return err
	}
	l.Color, l.Width, l.Dashes = plotutil.Color(i), vg.Points(1.5), []vg.Length{vg.Points(6), vg.Points(4)}
	p.Add(l)
	label := "theory: D_cs = max(NF/us, F/dmin)"
	if arm == spec.ArmPeerToPeer {
		label = "theory: D_P2P ≥ max(F/us, F/dmin, NF/(us + Σui))"
	}
	p.Legend.Add(label, l)
	return nil
}

// addMeasured draws the last node of each point with its repetitions'
// range, and the median node.
func addMeasured(p *plot.Plot, pts []*krPoint, hour float64, i int) error {
	var last, med plotter.XYs
	var bars errPoints
	for _, pt := range pts {
		y := pt.mean[filedist.MetricLast] / hour
		last = append(last, plotter.XY{X: float64(pt.n), Y: y})
		med = append(med, plotter.XY{X: float64(pt.n), Y: pt.mean[filedist.MetricMedian] / hour})
		lo, hi := slices.Min(pt.last)/hour, slices.Max(pt.last)/hour
		bars.XYs = append(bars.XYs, plotter.XY{X: float64(pt.n), Y: y})
		bars.YErrors = append(bars.YErrors, struct{ Low, High float64 }{y - lo, hi - y})
	}
	for k, xy := range []plotter.XYs{last, med} {
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			return err
		}
		sc.Color, sc.Radius = plotutil.Color(i), vg.Points(4)
		sc.Shape = []draw.GlyphDrawer{filled(i), hollow(i)}[k]
		p.Add(sc)
		p.Legend.Add(fmt.Sprintf("%s: %s node", pts[0].workload, []string{"last", "median"}[k]), sc)
	}
	if hasBars(bars) {
		b, err := plotter.NewYErrorBars(bars)
		if err != nil {
			return err
		}
		b.Color, b.LineStyle.Width, b.CapWidth = plotutil.Color(i), vg.Points(1.2), vg.Points(6)
		p.Add(b)
	}
	return nil
}

// hollow are outlined markers, one per arm.
func hollow(i int) draw.GlyphDrawer {
	shapes := []draw.GlyphDrawer{draw.RingGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}}
	return shapes[i%len(shapes)]
}
