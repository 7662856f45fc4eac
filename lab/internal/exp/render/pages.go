package render

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/netlab/netlab/lab/internal/exp/pagetime"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
	"github.com/netlab/netlab/lab/internal/exp/stats"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// pageArm is one http-page workload's figures at every point: the
// median of all its pages there, in ms and in round trips of RTT(d).
type pageArm struct {
	w          spec.Workload
	color      int         // its colour in the sweep's plot
	rtts       plotter.XYs // the median page's
	fastest    plotter.XYs // the fastest page's
	theoryRTTs float64
}

// pageSections is the http-page section: every page's time counted in
// round trips of RTT(d) = RTT₀ + ways × d, beside the count of theory,
// as a table and a plot.
func pageSections(dir string, r *result.Result, rows []result.Row) ([]Section, error) {
	s, err := readSpec(dir)
	if err != nil {
		return nil, err
	}
	sec := Section{Heading: "Pages in round trips"}
	m, n, ok := pagetime.ModelOf(rows, s.WorkloadNames(spec.HTTPPage), s.Impairment.Direction, s.Impairment.RateMbit)
	if !ok {
		sec.Text = "No TCP connect time was measured at delay 0: the base round-trip time, and so the round trips, are unknown."
		return []Section{sec}, nil
	}
	sec.Text = fmt.Sprintf("RTT(d) = RTT₀ + %g·d, with RTT₀ = %.3f ms the median TCP connect time at d = 0 (%d runs). "+
		"A page's round trips are its time, less the objects' transmission time, over RTT(d): the median and the fastest "+
		"of every page at that delay (all repetitions); the theory's are Kurose and Ross's count. The connect time measured "+
		"at each delay is the round trip as it was (above RTT(d) when the delayer ran late). At d = 0 the round trip is "+
		"RTT₀ alone, and the client's and the server's work on each request outweighs it.", m.Ways, m.Base, n)
	arms, table := pageTable(s, r, rows, m)
	sec.Table = table
	p, err := pagePlot(r, arms)
	if err != nil {
		return nil, err
	}
	name := r.Name + "-rtts"
	if _, err := WritePlot(dir, name, p); err != nil {
		return nil, err
	}
	sec.Plots = []string{name}
	return []Section{sec}, nil
}

// pageTable is the section's table (header first) and each workload's
// round trips by delay.
func pageTable(s *spec.Spec, r *result.Result, rows []result.Row, m pagetime.Model) ([]*pageArm, [][]string) {
	table := [][]string{{"delay d (ms)", "RTT(d) (ms)", "connect (ms)", "workload", "theory (RTTs)", "theory (ms)",
		"median page (ms)", "pages", "median / RTT(d)", "fastest / RTT(d)", "band (ms)", "in band"}}
	times := pagetime.PageTimes(rows)
	var arms []*pageArm
	keys := seriesKeys(r)
	for i, p := range r.Points {
		rtt := m.RTT(p.Value)
		for _, me := range p.Measures {
			k := slices.IndexFunc(s.Workloads, func(w spec.Workload) bool { return w.Name == me.Workload })
			if me.Client != spec.HTTPPage || me.Metric != pagetime.MetricPage || k < 0 {
				continue
			}
			w := s.Workloads[k]
			a := armOf(&arms, w, slices.Index(keys, seriesKey{me.Workload, me.Client, me.Metric, me.Unit}))
			pages := times[i][w.Name]
			med := stats.Median(pages)
			tx := m.Transmission(w.Objects, pagetime.ObjectBytes(rows, i, w.Name))
			measured, fastest := (med-tx)/rtt, (slices.Min(append([]float64{math.Inf(1)}, pages...))-tx)/rtt
			connect := pagetime.Extra(rows, i, w.Name, pagetime.MetricConnect)
			if !math.IsNaN(measured) && measured > 0 && !math.IsInf(fastest, 0) {
				a.rtts = append(a.rtts, plotter.XY{X: p.Value, Y: measured})
				a.fastest = append(a.fastest, plotter.XY{X: p.Value, Y: fastest})
			}
			band, in := "—", "—"
			if me.BandLow != nil && me.BandHigh != nil {
				band = num(*me.BandLow) + " … " + num(*me.BandHigh)
			}
			if me.Within != nil {
				in = map[bool]string{true: "yes", false: "**no**"}[*me.Within]
			}
			table = append(table, []string{num(p.Value), num(rtt), num(connect), w.Name + " (" + w.Connection + ")", num(a.theoryRTTs),
				opt(me.Theory), num(med), strconv.Itoa(len(pages)), num(measured), num(fastest), band, in})
		}
	}
	return arms, table
}

func armOf(arms *[]*pageArm, w spec.Workload, color int) *pageArm {
	for _, a := range *arms {
		if a.w.Name == w.Name {
			return a
		}
	}
	a := &pageArm{w: w, color: max(color, 0), theoryRTTs: pagetime.RTTs(w.Connection, w.Objects)}
	*arms = append(*arms, a)
	return a
}

// pagePlot is each workload's median and fastest page in round trips
// against the delay (log scale: at d = 0 the count runs high), with its
// theory's count as a dashed line of its colour.
func pagePlot(r *result.Result, arms []*pageArm) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Page time in round trips of RTT(d)"
	p.X.Label.Text = "delay set on the server's link, d (ms)"
	p.Y.Label.Text = "page time / RTT(d) (round trips, log scale)"
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	xmax := 0.0
	for _, pt := range r.Points {
		xmax = math.Max(xmax, pt.Value)
	}
	var counts []float64
	for _, a := range arms {
		if len(a.rtts) == 0 {
			continue
		}
		line, err := plotter.NewLine(plotter.XYs{{X: 0, Y: a.theoryRTTs}, {X: xmax, Y: a.theoryRTTs}})
		if err != nil {
			return nil, err
		}
		line.Color, line.Width, line.Dashes = plotutil.Color(a.color), vg.Points(1.5), []vg.Length{vg.Points(6), vg.Points(4)}
		p.Add(line)
		p.Legend.Add(fmt.Sprintf("theory: %s = %g RTT", pagetime.Label(a.w.Connection, a.w.Objects), a.theoryRTTs), line)
		counts = append(counts, a.theoryRTTs)
		for _, s := range []struct {
			xy plotter.XYs
			g  draw.GlyphDrawer
		}{{a.rtts, filled(a.color)}, {a.fastest, draw.RingGlyph{}}} {
			sc, err := plotter.NewScatter(s.xy)
			if err != nil {
				return nil, err
			}
			sc.Color, sc.Shape, sc.Radius = plotutil.Color(a.color), s.g, vg.Points(4)
			p.Add(sc)
		}
	}
	// The glyphs once, in black: a workload is its theory's colour.
	for _, g := range []struct {
		g    draw.GlyphDrawer
		name string
	}{{draw.CircleGlyph{}, "median page at d (the workload's marker)"}, {draw.RingGlyph{}, "fastest page at d (ring)"}} {
		p.Legend.Add(g.name, &plotter.Scatter{GlyphStyle: draw.GlyphStyle{Color: theoryColor, Shape: g.g, Radius: vg.Points(4)}})
	}
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, roundTrips{counts}
	p.X.Min, p.X.Max = math.Min(0, p.X.Min), p.X.Max*1.03
	p.Y.Min, p.Y.Max = math.Min(p.Y.Min, 1)*0.8, p.Y.Max*4 // room for the legend above
	return p, nil
}

// roundTrips ticks a log axis of round trips at 1, 2, 5 of each decade and
// at the theory's counts.
type roundTrips struct{ counts []float64 }

func (t roundTrips) Ticks(lo, hi float64) []plot.Tick {
	var at []float64
	for dec := math.Pow(10, math.Floor(math.Log10(lo))); dec <= hi; dec *= 10 {
		at = append(at, dec, 2*dec, 5*dec)
	}
	at = append(at, t.counts...)
	slices.Sort(at)
	var ticks []plot.Tick
	for _, v := range slices.Compact(at) {
		if v >= lo && v <= hi {
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
		}
	}
	return ticks
}
