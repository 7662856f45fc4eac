package render

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"github.com/netlab/netlab/lab/internal/chartfile"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The plot's size: 960×576 pixels in the PNG, the legend inside.
const (
	plotW = 10 * vg.Inch
	plotH = 6 * vg.Inch
)

// Colours of the figures: workload i in plotutil.Color(i); theory black.
var (
	theoryColor = color.Black
	bandColor   = color.NRGBA{R: 70, G: 130, B: 180, A: 255}
)

// Units are the units of r's figures, in the order they first appear:
// one plot each.
func Units(r *result.Result) []string {
	var units []string
	for _, k := range seriesKeys(r) {
		if !slices.Contains(units, k.unit) {
			units = append(units, k.unit)
		}
	}
	return units
}

// Plot is the measured figures in unit of every workload against the
// swept parameter, with error bars (95 % interval) when there are
// repetitions, the theory line of each figure where there is one, and
// its band (4σ of a loss, the tolerance of a bound).
func Plot(r *result.Result, unit string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = r.Title
	p.X.Label.Text = xLabel(r)
	p.Y.Label.Text = "measured (" + unit + ")"
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	keys := slices.DeleteFunc(seriesKeys(r), func(k seriesKey) bool { return k.unit != unit })
	if err := addTheory(p, r, keys); err != nil {
		return nil, err
	}
	for i, k := range keys {
		pts, errs := measured(r, k)
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.workload, err)
		}
		sc.Color = plotutil.Color(i)
		sc.Shape = filled(i)
		sc.Radius = vg.Points(4)
		p.Add(sc)
		p.Legend.Add(k.workload+" ("+k.client+"): "+k.metric, sc)
		if hasBars(errs) {
			bars, err := plotter.NewYErrorBars(errs)
			if err != nil {
				return nil, err
			}
			bars.Color, bars.LineStyle.Width, bars.CapWidth = plotutil.Color(i), vg.Points(1.5), vg.Points(8)
			p.Add(bars)
		}
	}
	p.X.Min = math.Min(0, p.X.Min)
	p.Y.Min = math.Min(0, p.Y.Min)
	p.Y.Max *= 1.15 // room for the legend above the highest point
	p.X.Max *= 1.03 // the last point's marker and error bar whole
	return p, nil
}

func xLabel(r *result.Result) string {
	if r.Parameter == "nodes" {
		return "N, peer nodes downloading"
	}
	return r.Parameter + " set (" + r.Unit + ")"
}

// seriesKey is one plotted figure: a workload's metric.
type seriesKey struct{ workload, client, metric, unit string }

// seriesKeys are the figures, in the order they first appear.
func seriesKeys(r *result.Result) []seriesKey {
	var keys []seriesKey
	for _, pt := range r.Points {
		for _, m := range pt.Measures {
			if k := (seriesKey{m.Workload, m.Client, m.Metric, m.Unit}); !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// errPoints are the means with their 95 % half-widths.
type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

func measured(r *result.Result, k seriesKey) (plotter.XYs, errPoints) {
	var pts plotter.XYs
	var e errPoints
	for _, pt := range r.Points {
		for _, m := range pt.Measures {
			if m.Workload != k.workload || m.Metric != k.metric || m.Summary.N == 0 {
				continue
			}
			pts = append(pts, plotter.XY{X: pt.Value, Y: m.Summary.Mean})
			e.XYs = append(e.XYs, plotter.XY{X: pt.Value, Y: m.Summary.Mean})
			e.YErrors = append(e.YErrors, struct{ Low, High float64 }{m.Summary.CI95, m.Summary.CI95})
		}
	}
	return pts, e
}

func hasBars(e errPoints) bool {
	return slices.ContainsFunc(e.YErrors, func(v struct{ Low, High float64 }) bool { return v.Low > 0 })
}

// addTheory draws each figure's theory over the swept values (one line
// per distinct theory) and its band where it has one. Several theories
// each take their figure's colour; one is black.
func addTheory(p *plot.Plot, r *result.Result, keys []seriesKey) error {
	labels := map[string]bool{}
	for _, k := range keys {
		if line, _, _, label := theoryOf(r, k); len(line) > 0 {
			labels[label] = true
		}
	}
	drawn := map[string]bool{}
	for i, k := range keys {
		line, lo, hi, label := theoryOf(r, k)
		if len(line) == 0 || drawn[label] {
			continue
		}
		drawn[label] = true
		lineColor, fill := color.Color(theoryColor), withAlpha(bandColor, 60)
		if len(labels) > 1 {
			lineColor, fill = plotutil.Color(i), withAlpha(plotutil.Color(i), 40)
		}
		// The theories of loss and rate are lines through the origin:
		// draw them from 0.
		if th, ok := result.Theory(r.Parameter, k.metric, 0); ok && line[0].X > 0 {
			line = append(plotter.XYs{{X: 0, Y: th}}, line...)
		}
		if len(lo) > 1 {
			poly := append(slices.Clone(lo), reversed(hi)...)
			band, err := plotter.NewPolygon(poly)
			if err != nil {
				return err
			}
			band.Color = fill
			band.LineStyle.Width = 0
			p.Add(band)
			p.Legend.Add(bandLabel(r, label), band)
		}
		l, err := plotter.NewLine(line)
		if err != nil {
			return err
		}
		l.Color, l.Width, l.Dashes = lineColor, vg.Points(1.5), []vg.Length{vg.Points(6), vg.Points(4)}
		p.Add(l)
		p.Legend.Add(label, l)
	}
	return nil
}

// theoryOf is figure k's theory line, its band, and its label.
func theoryOf(r *result.Result, k seriesKey) (line, lo, hi plotter.XYs, label string) {
	for _, pt := range r.Points {
		for _, m := range pt.Measures {
			if m.Workload != k.workload || m.Metric != k.metric || m.Theory == nil {
				continue
			}
			line = append(line, plotter.XY{X: pt.Value, Y: *m.Theory})
			if m.BandLow != nil && m.BandHigh != nil {
				lo = append(lo, plotter.XY{X: pt.Value, Y: *m.BandLow})
				hi = append(hi, plotter.XY{X: pt.Value, Y: *m.BandHigh})
			}
			if m.TheoryLabel != "" {
				label = "theory: " + m.TheoryLabel
			}
		}
	}
	if label == "" {
		label = theoryLabel(r)
	}
	return line, lo, hi, label
}

func bandLabel(r *result.Result, theory string) string {
	if r.Parameter == "loss" {
		return "theory ± 4σ (binomial, one repetition's probes)"
	}
	return "tolerance of " + strings.TrimPrefix(theory, "theory: ")
}

func reversed(xs plotter.XYs) plotter.XYs {
	out := slices.Clone(xs)
	slices.Reverse(out)
	return out
}

// WritePlot writes p as dir/name.png and dir/name.svg and returns the two
// paths.
func WritePlot(dir, name string, p *plot.Plot) ([]string, error) {
	return chartfile.Save(dir, name, plotW, plotH, func(dc draw.Canvas) {
		m := vg.Points(10) // keeps the title and the outer tick labels off the edge
		p.Draw(draw.Crop(dc, m, -m, m, -m))
	})
}

// filled are solid markers, one per workload.
func filled(i int) draw.GlyphDrawer {
	shapes := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.BoxGlyph{}, draw.TriangleGlyph{}, draw.PyramidGlyph{}}
	return shapes[i%len(shapes)]
}

func theoryLabel(r *result.Result) string {
	switch r.Parameter {
	case "loss":
		return "theory: measured loss = p"
	case "rate":
		return "theory: throughput = the cap"
	}
	return "theory"
}
