package render

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"github.com/netlab/netlab/lab/internal/exp/recovery"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Colours of the time line's marks.
var (
	partitionColor = color.NRGBA{R: 200, G: 30, B: 30, A: 255}
	healColor      = color.NRGBA{R: 20, G: 140, B: 60, A: 255}
)

// rateWindow is the span a plotted throughput is averaged over: pieces
// land whole, so one poll interval alone is mostly 0 or a piece.
func rateWindow(interval float64) float64 { return math.Max(1, 2*interval) }

// timelinePlot is every downloader's throughput over time in one
// repetition (solid; dashed: from across the cut, for the cut nodes),
// with the partition and the heal marked and the recovery bound shaded.
func timelinePlot(r *result.Result, w string, sr *swarmRep, multi bool, interval, seedsCap float64) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = r.Title + ": " + w
	if multi {
		p.Title.Text += fmt.Sprintf(", repetition %d", sr.rep+1)
	}
	win := rateWindow(interval)
	p.X.Label.Text = "time since the downloads started (s)"
	p.Y.Label.Text = fmt.Sprintf("download throughput (Mbit/s, over %.0f s)", win)
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	top, right := 0.0, 0.0
	var lines []*plotter.Line
	for i, n := range sr.nodes {
		for _, across := range []bool{false, true} {
			if across && !n.Cut {
				continue
			}
			pts := ratePoints(n.Samples, across, win, sr.tl.Start)
			if len(pts) == 0 {
				continue
			}
			l, err := plotter.NewLine(pts)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", n.Label, err)
			}
			l.Color, l.Width = plotutil.Color(i), vg.Points(2)
			label := n.Label + map[bool]string{true: " (cut off)", false: " (with the sources)"}[n.Cut]
			if across {
				l.Width, l.Dashes = vg.Points(1.2), []vg.Length{vg.Points(5), vg.Points(3)}
				label = n.Label + ": from across the cut"
			}
			for _, pt := range pts {
				top, right = math.Max(top, pt.Y), math.Max(right, pt.X)
			}
			lines = append(lines, l)
			p.Legend.Add(label, l)
		}
	}
	capMbit := seedsCap * 8 / 1e6
	top = math.Max(math.Max(top, capMbit), 0.1) * 1.7 // room for the legend above the lines
	right = math.Max(right, sr.tl.Heal-sr.tl.Start) * 1.03
	if err := addMarks(p, sr, top, right); err != nil {
		return nil, err
	}
	if capMbit > 0 {
		// A node alone with the seeds gets at most their caps.
		l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: capMbit}, {X: right, Y: capMbit}})
		if err != nil {
			return nil, err
		}
		l.Color, l.Width, l.Dashes = theoryColor, vg.Points(1), []vg.Length{vg.Points(2), vg.Points(3)}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("theory: the seeds' upload cap (%.2f Mbit/s)", capMbit), l)
	}
	for _, l := range lines {
		p.Add(l) // over the shading
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, right, 0, top
	p.X.Tick.Marker, p.Y.Tick.Marker = stepTicks{}, stepTicks{}
	return p, nil
}

// ratePoints are a node's throughput in Mbit/s over the last win
// seconds at each poll, at seconds since t0.
func ratePoints(ss []recovery.Sample, across bool, win, t0 float64) plotter.XYs {
	var pts plotter.XYs
	j := 0
	for i := 1; i < len(ss); i++ {
		for j < i-1 && ss[i].T-ss[j+1].T >= win {
			j++
		}
		dt := ss[i].T - ss[j].T
		if dt <= 0 {
			continue
		}
		d := ss[i].Bytes - ss[j].Bytes
		if across {
			d = ss[i].Across - ss[j].Across
		}
		pts = append(pts, plotter.XY{X: ss[i].T - t0, Y: math.Max(0, d) * 8 / dt / 1e6})
	}
	return pts
}

// addMarks shades the partition and the span of the recovery bound
// after the heal (up to right, the axis' end), and draws the partition
// and heal moments as lines.
func addMarks(p *plot.Plot, sr *swarmRep, top, right float64) error {
	tl := sr.tl
	x := func(t float64) float64 { return t - tl.Start }
	end := math.Min(x(tl.Heal)+sr.bound.Total, right)
	bound := fmt.Sprintf("recovery bound: heal + %.1f s", sr.bound.Total)
	if end < x(tl.Heal)+sr.bound.Total {
		bound += " (past the right edge)"
	}
	spans := []struct {
		from, to float64
		c        color.Color
		label    string
	}{
		{x(tl.PartitionBegin), x(tl.Partition), withAlpha(partitionColor, 12), ""},
		{x(tl.Partition), x(tl.HealBegin), withAlpha(partitionColor, 40), "cut off (lighter: rules being set, removed)"},
		{x(tl.HealBegin), x(math.Max(tl.HealEnd, tl.Heal)), withAlpha(partitionColor, 12), ""},
		{x(tl.Heal), end, withAlpha(healColor, 36), bound},
	}
	for _, s := range spans {
		if s.to <= s.from {
			continue
		}
		poly, err := plotter.NewPolygon(plotter.XYs{{X: s.from, Y: 0}, {X: s.to, Y: 0}, {X: s.to, Y: top}, {X: s.from, Y: top}})
		if err != nil {
			return err
		}
		poly.Color, poly.LineStyle.Width = s.c, 0
		p.Add(poly)
		if s.label != "" {
			p.Legend.Add(s.label, poly)
		}
	}
	marks := []struct {
		at    float64
		c     color.Color
		label string
	}{
		{x(tl.Partition), partitionColor, fmt.Sprintf("partition in place (+%.1f s)", x(tl.Partition))},
		{x(tl.Heal), healColor, fmt.Sprintf("healed: a first node across (+%.1f s)", x(tl.Heal))},
	}
	for _, m := range marks {
		l, err := plotter.NewLine(plotter.XYs{{X: m.at, Y: 0}, {X: m.at, Y: top}})
		if err != nil {
			return err
		}
		l.Color, l.Width, l.Dashes = m.c, vg.Points(2), []vg.Length{vg.Points(8), vg.Points(4)}
		p.Add(l)
		p.Legend.Add(m.label, l)
	}
	return nil
}

// stepTicks labels an axis every 1, 2 or 5 × 10^k units, about eight
// labels across: the default ticker labels a 30 s axis twice.
type stepTicks struct{}

// Ticks implements plot.Ticker.
func (stepTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return nil
	}
	raw := (hi - lo) / 8
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(math.Round(v/step)*step, 'g', 6, 64)})
		if minor := v + step/2; minor < hi {
			ticks = append(ticks, plot.Tick{Value: minor})
		}
	}
	return ticks
}
