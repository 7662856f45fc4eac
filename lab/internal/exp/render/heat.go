package render

import (
	"errors"
	"fmt"
	"image/color"
	"math"

	"github.com/netlab/netlab/lab/internal/chartfile"
	"github.com/netlab/netlab/lab/internal/exp/matrix"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// A heat map's canvas: the map on the left, its colour scale on the right.
const (
	heatW = 10 * vg.Inch
	heatH = 7.5 * vg.Inch
	barW  = 1.4 * vg.Inch
)

// heatSpec is one heat map of a matrix: the figure its colour shows, the
// scale's label with the unit, and each cell's text.
type heatSpec struct {
	title, scale string
	value        func(*matrix.Cell) float64
	label        func(*matrix.Cell) string
}

func rttHeat() heatSpec {
	return heatSpec{
		title: "RTT between every pair of containers: p50 (colour) / p99, loss, theory",
		scale: "RTT p50 (ms)",
		value: func(c *matrix.Cell) float64 { return mean(c, matrix.RTTP50) },
		label: func(c *matrix.Cell) string {
			verdict := "no tolerance"
			if in, checked := c.Within(); checked && in {
				verdict = "in tolerance"
			} else if checked {
				verdict = "OUT of tolerance"
			}
			return f2(mean(c, matrix.RTTP50)) + " / " + f2(mean(c, matrix.RTTP99)) + " ms\nloss " + f2(mean(c, matrix.Loss)) + " %\ntheory " +
				f2(theory(c, matrix.RTTP50)) + " ms, " + f2(theory(c, matrix.Loss)) + " %\n" + verdict
		},
	}
}

func oneWayHeat() heatSpec {
	return heatSpec{
		title: "One-way delay from → to: p50 (colour), loss on that hop, theory",
		scale: "one-way delay p50 (ms)",
		value: func(c *matrix.Cell) float64 { return mean(c, matrix.OneWayP50) },
		label: func(c *matrix.Cell) string {
			return f2(mean(c, matrix.OneWayP50)) + " ms\nloss " + f2(mean(c, matrix.OneWayLos)) + " %\ntheory " +
				f2(theory(c, matrix.OneWayP50)) + " ms, " + f2(theory(c, matrix.OneWayLos)) + " %"
		},
	}
}

// writeHeat writes m's heat map as dir/name.png and dir/name.svg.
func writeHeat(dir, name string, m *matrix.Matrix, h heatSpec) error {
	hm, bar, err := heatPlots(m, h)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	_, err = chartfile.Save(dir, name, heatW, heatH, func(dc draw.Canvas) {
		pad := vg.Points(10)
		hm.Draw(draw.Crop(dc, pad, -barW, pad, -pad))
		bar.Draw(draw.Crop(dc, heatW-barW+pad, -pad, pad, -pad))
	})
	return err
}

// heatGrid is the matrix as gonum's grid: column c is to = Nodes[c], row
// r is from = Nodes[n−1−r], so the first container is the top row.
type heatGrid struct {
	m     *matrix.Matrix
	value func(*matrix.Cell) float64
}

func (g heatGrid) Dims() (c, r int) { return len(g.m.Nodes), len(g.m.Nodes) }
func (g heatGrid) X(c int) float64  { return float64(c) }
func (g heatGrid) Y(r int) float64  { return float64(r) }
func (g heatGrid) cell(c, r int) *matrix.Cell {
	n := len(g.m.Nodes)
	return g.m.Cell(g.m.Nodes[n-1-r], g.m.Nodes[c])
}

// Z is the cell's figure; NaN on the diagonal (no pair), drawn grey.
func (g heatGrid) Z(c, r int) float64 {
	if cl := g.cell(c, r); cl != nil {
		return g.value(cl)
	}
	return math.NaN()
}

func heatPlots(m *matrix.Matrix, h heatSpec) (hm, bar *plot.Plot, err error) {
	g := heatGrid{m: m, value: h.value}
	n := len(m.Nodes)
	lo, hi := math.Inf(1), math.Inf(-1)
	for c := range n {
		for r := range n {
			if v := g.Z(c, r); !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 0) {
		return nil, nil, errors.New("no cell has a figure")
	}
	hi = math.Max(hi, lo+0.01) // a scale needs a range
	cm := moreland.SmoothBlueRed()
	cm.SetMin(lo)
	cm.SetMax(hi)
	heat := plotter.NewHeatMap(g, cm.Palette(256))
	heat.Min, heat.Max, heat.NaN = lo, hi, color.Gray{Y: 0xe0}
	hm = plot.New()
	hm.Title.Text = h.title
	hm.X.Label.Text = "to: the udp-responder probed"
	hm.Y.Label.Text = "from: the client's network namespace"
	var xt, yt []plot.Tick
	for i, name := range m.Nodes {
		xt = append(xt, plot.Tick{Value: float64(i), Label: name})
		yt = append(yt, plot.Tick{Value: float64(n - 1 - i), Label: name})
	}
	hm.X.Tick.Marker, hm.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	hm.Add(heat)
	labels, err := cellLabels(g, h, cm.At)
	if err != nil {
		return nil, nil, err
	}
	hm.Add(labels)
	return hm, colourBar(hm, h.scale, cm), nil
}

// colourBar is the scale of cm beside the heat map hm: a blank title and
// an invisible x axis of hm's sizes give it hm's data area height.
func colourBar(hm *plot.Plot, label string, cm palette.ColorMap) *plot.Plot {
	bar := plot.New()
	bar.Title.Text, bar.Title.TextStyle, bar.Title.Padding = " ", hm.Title.TextStyle, hm.Title.Padding
	bar.X.Label.Text, bar.X.Label.TextStyle = " ", hm.X.Label.TextStyle
	bar.X.Tick.Label = hm.X.Tick.Label
	bar.X.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 0.5, Label: " "}})
	bar.X.LineStyle.Color, bar.X.Tick.LineStyle.Color = color.Transparent, color.Transparent
	bar.Y.Label.Text = label
	bar.Add(&plotter.ColorBar{ColorMap: cm, Vertical: true})
	return bar
}

// cellLabels are the cells' texts, centred, dark on a light cell and
// light on a dark one.
func cellLabels(g heatGrid, h heatSpec, at func(float64) (color.Color, error)) (*plotter.Labels, error) {
	var xyl plotter.XYLabels
	var colours []color.Color
	n := len(g.m.Nodes)
	for c := range n {
		for r := range n {
			cl := g.cell(c, r)
			if cl == nil {
				continue
			}
			xyl.XYs = append(xyl.XYs, plotter.XY{X: float64(c), Y: float64(r)})
			xyl.Labels = append(xyl.Labels, h.label(cl))
			bg, err := at(h.value(cl))
			if err != nil {
				bg = color.White
			}
			colours = append(colours, textOn(bg))
		}
	}
	labels, err := plotter.NewLabels(xyl)
	if err != nil {
		return nil, err
	}
	for i := range labels.TextStyle {
		labels.TextStyle[i].XAlign, labels.TextStyle[i].YAlign = text.XCenter, text.YCenter
		labels.TextStyle[i].Color = colours[i]
		labels.TextStyle[i].Font = font.From(plotter.DefaultFont, vg.Points(10))
	}
	return labels, nil
}

// textOn is black on a light background, white on a dark one.
func textOn(bg color.Color) color.Color {
	r, g, b, _ := bg.RGBA()
	if (0.299*float64(r)+0.587*float64(g)+0.114*float64(b))/0xffff < 0.5 {
		return color.White
	}
	return color.Black
}
