package compare

import (
	"math"
	"os"

	"github.com/netlab/netlab/lab/internal/chartfile"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The charts' size without the legend: 960×528 pixels in the PNG.
const (
	chartW = 10 * vg.Inch
	chartH = 5.5 * vg.Inch
)

// maxLegend bounds a label in a legend; the table has it whole.
const maxLegend = 60

// WritePlots draws the runs into dir (made if missing): the latency CDF
// and the latency by percentile of every run with a histogram, and the
// throughput over time of every run with intervals, each as PNG and SVG.
// It returns the files written and notes on the runs a chart leaves out.
func WritePlots(dir string, runs []Run) (files, notes []string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	var withHist, withIvs []Run
	for _, r := range runs {
		if r.Hist != nil {
			withHist = append(withHist, r)
		} else {
			notes = append(notes, r.Label+": no latency histogram: left out of the latency charts")
		}
		if len(r.Rec.Intervals) > 0 {
			withIvs = append(withIvs, r)
		} else {
			notes = append(notes, r.Label+": no intervals: left out of the throughput chart")
		}
	}
	var charts []chart
	if len(withHist) > 0 {
		charts = append(charts, chart{"latency-cdf", cdfPlot(withHist)}, chart{"latency-percentiles", percentilePlot(withHist)})
	} else {
		notes = append(notes, "no run has a latency histogram: no latency charts")
	}
	if len(withIvs) > 0 {
		charts = append(charts, chart{"throughput", throughputPlot(withIvs)})
	} else {
		notes = append(notes, "no run has intervals: no throughput chart")
	}
	for _, c := range charts {
		written, err := save(dir, c)
		files = append(files, written...)
		if err != nil {
			return files, notes, err
		}
	}
	return files, notes, nil
}

type chart struct {
	name string
	plot *plot.Plot
}

// save writes c as dir/name.png and dir/name.svg, its legend in a strip
// below it, where it hides no line. The chart is chartW wide and chartH
// high plus the legend's height.
func save(dir string, c chart) ([]string, error) {
	legend := c.plot.Legend
	c.plot.Legend = plot.NewLegend()
	m := vg.Points(8) // keeps the outermost tick labels and the title off the edge
	legend.Top, legend.Left, legend.XOffs = true, true, 6*m
	r := legend.Rectangle(draw.Canvas{Rectangle: vg.Rectangle{Max: vg.Point{X: chartW, Y: chartH}}})
	legH := r.Max.Y - r.Min.Y
	return chartfile.Save(dir, c.name, chartW, chartH+legH, func(dc draw.Canvas) {
		c.plot.Draw(draw.Crop(dc, m, -2*m, legH+m, -m))
		legend.Draw(draw.Crop(dc, m, -2*m, m/2, -(chartH - m/2)))
	})
}

// addLines draws one line per run, in the run's colour and dash, with its
// label in the legend.
func addLines(p *plot.Plot, runs []Run, points func(Run) plotter.XYs) {
	n := len(plotutil.DefaultColors)
	for i, r := range runs {
		l, err := plotter.NewLine(points(r))
		if err != nil { // a NaN or infinity: leave the run out rather than draw it wrong
			continue
		}
		l.Color = plotutil.Color(i)
		l.Dashes = plotutil.Dashes(i / n)
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(shorten(r.Label, maxLegend), l)
	}
	p.Add(plotter.NewGrid())
}

// newPlot is an empty chart with its title and axis labels.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, x, y
	return p
}

// cdfPlot is the fraction of operations at or below each latency, on a
// log latency axis.
func cdfPlot(runs []Run) *plot.Plot {
	p := newPlot("Latency CDF", "latency", "operations at or below (%)")
	p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, durationTicks{}
	p.Y.Min, p.Y.Max = 0, 100
	addLines(p, runs, cdfPoints)
	p.X.Min, p.X.Max = logRange(runs)
	return p
}

// percentilePlot is the latency at each percentile, the percentiles spread
// as 1/(1-q) so that 90%, 99%, 99.9% … are evenly apart, as in
// HdrHistogram's percentile distribution.
func percentilePlot(runs []Run) *plot.Plot {
	p := newPlot("Latency by percentile", "percentile", "latency")
	p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, percentileTicks{}
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, durationTicks{}
	addLines(p, runs, percentilePoints)
	p.X.Min = 1
	p.Y.Min, p.Y.Max = logRange(runs)
	return p
}

// throughputPlot is the operations per second of each interval.
func throughputPlot(runs []Run) *plot.Plot {
	p := newPlot("Throughput over time", "time since the start (s)", "operations per second")
	p.Y.Tick.Marker = siTicks{}
	addLines(p, runs, throughputPoints)
	p.X.Min, p.Y.Min = 0, 0
	top := 0.0
	for _, r := range runs {
		for _, iv := range r.Rec.Intervals {
			top = max(top, iv.OpsPerSecond)
		}
	}
	p.Y.Max = math.Max(top*1.05, 1)
	return p
}

// throughputPoints draws each interval as a step from its start to its
// end, so that a gap or an interval of another length shows as it was.
func throughputPoints(r Run) plotter.XYs {
	var pts plotter.XYs
	for _, iv := range r.Rec.Intervals {
		pts = append(pts, plotter.XY{X: iv.StartSeconds, Y: iv.OpsPerSecond}, plotter.XY{X: iv.EndSeconds, Y: iv.OpsPerSecond})
	}
	return pts
}
