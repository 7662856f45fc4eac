package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/netlab/netlab/lab/internal/exp/matrix"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
)

// matrixSections are a latency-matrix run's sections, per workload: the
// measured matrix (table and heat map), theory's matrix with each cell's
// verdict, and the one-way matrix (table and heat map).
func matrixSections(dir string, r *result.Result, _ []result.Row) ([]Section, error) {
	links, err := specLinks(dir)
	if err != nil {
		return nil, err
	}
	var out []Section
	for _, m := range matrix.FromResult(r) {
		if len(m.Nodes) < 2 {
			return nil, fmt.Errorf("workload %s: no pair measured", m.Workload)
		}
		if miss := m.Missing(); len(miss) > 0 {
			return nil, fmt.Errorf("workload %s: %d pairs without every figure (%s → %s first)", m.Workload, len(miss), miss[0][0], miss[0][1])
		}
		base := r.Name + "-" + m.Workload
		if err := writeHeat(dir, base+"-rtt", m, rttHeat()); err != nil {
			return nil, err
		}
		if err := writeHeat(dir, base+"-oneway", m, oneWayHeat()); err != nil {
			return nil, err
		}
		out = append(out,
			Section{Heading: "Latency matrix (" + m.Workload + ")", Text: matrixText(m, links[m.Workload]),
				Table: cellTable(m, measuredCell), Plots: []string{base + "-rtt"}},
			Section{Heading: "Theory per cell (" + m.Workload + ")", Text: theoryText(m),
				Table: cellTable(m, theoryCell)},
			Section{Heading: "One-way delay and loss (" + m.Workload + ")", Text: oneWayText,
				Table: cellTable(m, oneWayCell), Plots: []string{base + "-oneway"}})
	}
	return out, nil
}

// specLinks are the links of each latency-matrix workload of the run's
// spec.yaml, by workload.
func specLinks(dir string) (map[string][]spec.Link, error) {
	s, err := readSpec(dir)
	if err != nil {
		return nil, err
	}
	out := map[string][]spec.Link{}
	for _, w := range s.Workloads {
		if w.Client == spec.LatencyMatrix {
			out[w.Name] = w.Links
		}
	}
	return out, nil
}

// cellTable is the matrix as a table: rows from, columns to.
func cellTable(m *matrix.Matrix, cell func(*matrix.Cell) string) [][]string {
	rows := [][]string{append([]string{"from \\ to"}, m.Nodes...)}
	for _, a := range m.Nodes {
		row := []string{a}
		for _, b := range m.Nodes {
			if c := m.Cell(a, b); c != nil {
				row = append(row, cell(c))
			} else {
				row = append(row, "—")
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// mean is a figure's mean over the repetitions, NaN when absent.
func mean(c *matrix.Cell, kind string) float64 {
	if m := c.Figures[kind]; m != nil && m.Summary.N > 0 {
		return m.Summary.Mean
	}
	return math.NaN()
}

func theory(c *matrix.Cell, kind string) float64 {
	if m := c.Figures[kind]; m != nil && m.Theory != nil {
		return *m.Theory
	}
	return math.NaN()
}

func f2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func measuredCell(c *matrix.Cell) string {
	return f2(mean(c, matrix.RTTP50)) + " / " + f2(mean(c, matrix.RTTP99)) + " ms, " + f2(mean(c, matrix.Loss)) + " %"
}

func theoryCell(c *matrix.Cell) string {
	s := f2(theory(c, matrix.RTTP50)) + " ms, " + f2(theory(c, matrix.Loss)) + " %: "
	in, checked := c.Within()
	switch {
	case !checked:
		return s + "—"
	case in:
		return s + "yes"
	}
	return s + "**no** (" + strings.Join(outside(c), ", ") + ")"
}

// outside names the figures of c outside their band.
func outside(c *matrix.Cell) []string {
	var out []string
	for _, k := range matrix.Kinds {
		if m := c.Figures[k]; m != nil && m.Within != nil && !*m.Within {
			out = append(out, k)
		}
	}
	return out
}

func oneWayCell(c *matrix.Cell) string {
	return f2(mean(c, matrix.OneWayP50)) + " ms, " + f2(mean(c, matrix.OneWayLos)) + " % (theory " +
		f2(theory(c, matrix.OneWayP50)) + " ms, " + f2(theory(c, matrix.OneWayLos)) + " %)"
}

func matrixText(m *matrix.Matrix, links []spec.Link) string {
	var b strings.Builder
	b.WriteString("Rows: the container whose network namespace the client ran in; columns: the udp-responder it probed. " +
		"Each cell: RTT p50 / p99 and the loss of the probes, means over the repetitions.")
	if m.BaseRTT != nil {
		fmt.Fprintf(&b, " Base (a pair probed before any link was shaped): RTT p50 %s ms, one-way p50 %s ms.",
			f2(m.BaseRTT.Summary.Mean), f2(measureMean(m.BaseOneWay)))
	}
	if len(links) == 0 {
		b.WriteString(" No link was shaped.")
		return b.String()
	}
	b.WriteString(" Links shaped:")
	for i, l := range links {
		arrow := " → "
		if l.Both {
			arrow = " ↔ "
		}
		var parts []string
		if l.Delay > 0 {
			parts = append(parts, "delay "+l.Delay.D().String())
		}
		if l.Loss > 0 {
			parts = append(parts, "loss "+strconv.FormatFloat(l.Loss, 'f', -1, 64)+" %")
		}
		sep := ";"
		if i == len(links)-1 {
			sep = "."
		}
		b.WriteString(" " + l.From + arrow + l.To + ": " + strings.Join(parts, ", ") + sep)
	}
	return b.String()
}

func measureMean(m *result.Measure) float64 {
	if m == nil || m.Summary.N == 0 {
		return math.NaN()
	}
	return m.Summary.Mean
}

func theoryText(m *matrix.Matrix) string {
	tol := "—"
	for _, c := range m.Cells {
		if f := c.Figures[matrix.RTTP50]; f != nil && f.Theory != nil && f.BandHigh != nil {
			tol = f2(*f.BandHigh-*f.Theory) + " ms"
			break
		}
	}
	return "Theory: a probe from the row's container crosses the hop row → column, its reply column → row. " +
		"RTT p50 = base RTT + the delays set on both hops; loss = 1 − (1 − p₁)(1 − p₂) over the hops' losses (independent drops). " +
		"In tolerance: every repetition's RTT and one-way p50 within " + tol + " of theory, its loss and one-way loss within 4σ of the binomial " +
		"(and one probe). The base is each repetition's calibration pair; result.json keeps the last repetition's theory."
}

const oneWayText = "The probes' way alone, from the row's container to the column's: the one-way delay p50 " +
	"(the responder's kernel receive time − the client's send time; both read one clock here) and the loss on that hop " +
	"(probes sent − probes the responder counted). A delay set on row → column shows here, and not in column → row, " +
	"although both RTTs carry it."
