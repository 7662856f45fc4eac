package compare

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/netlab/netlab/lab/internal/cli"
	"github.com/netlab/netlab/services/platform/latency"
)

// WriteText prints rep as a table, one column per run and, for each run
// after the base, one with its difference from the base, in the manner of
// benchstat:
//
//	              main              tuned
//	                                value             vs base
//	ops/s         51.23k            55.02k            +3.790k (+7.40%)
//	latency p99   412µs             388µs             -24µs (-5.83%)
//
// A run without a figure shows "-".
func (rep *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 3, ' ', 0)
	head, sub := []string{""}, []string{""}
	for i, r := range rep.Runs {
		head, sub = append(head, shorten(r.Label, maxLabelWidth)), append(sub, "value")
		if i == 0 {
			sub[1] = "(base)"
		} else {
			head, sub = append(head, ""), append(sub, "vs base")
		}
	}
	line(tw, head)
	if len(rep.Runs) > 1 {
		line(tw, sub)
	}
	for _, f := range []struct {
		name string
		get  func(RunInfo) string
	}{
		{"file", func(r RunInfo) string { return r.File }},
		{"client", func(r RunInfo) string { return r.Client }},
		{"mode", func(r RunInfo) string { return r.Mode }},
		{"target", func(r RunInfo) string { return r.Target }},
	} {
		cells := []string{f.name}
		for i, r := range rep.Runs {
			cells = append(cells, orDash(f.get(r)))
			if i > 0 {
				cells = append(cells, "")
			}
		}
		line(tw, cells)
	}
	for _, row := range rep.Rows {
		cells := []string{row.Name}
		for i, v := range row.Values {
			cells = append(cells, formatValue(row.Unit, v))
			if i > 0 {
				cells = append(cells, formatDiff(row.Unit, row.Diffs[i]))
			}
		}
		line(tw, cells)
	}
	tw.Flush()
	table := b.String()
	b.Reset()
	for l := range strings.Lines(table) {
		b.WriteString(strings.TrimRight(l, " \n") + "\n")
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	for _, p := range rep.Plots {
		fmt.Fprintf(&b, "plot: %s\n", p)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints rep as one indented JSON object.
func (rep *Report) WriteJSON(w io.Writer) error { return cli.WriteJSON(w, rep) }

// line writes one row, every cell ended by a tab so that each column
// lines up over every row.
func line(tw io.Writer, cells []string) {
	fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func formatValue(unit string, v *float64) string {
	if v == nil {
		return "-"
	}
	return format(unit, *v)
}

func formatDiff(unit string, d *Diff) string {
	if d == nil {
		return "-"
	}
	abs := format(unit, d.Abs)
	if d.Abs >= 0 {
		abs = "+" + abs
	}
	switch {
	case d.Pct == nil && d.Abs == 0:
		return abs // both 0
	case d.Pct == nil:
		return abs + " (base 0)"
	}
	return fmt.Sprintf("%s (%+.2f%%)", abs, *d.Pct)
}

// format writes v in its unit: durations as the clients write latency
// (to the millisecond from a second up),
// counts whole, rates with an SI prefix to four significant digits.
func format(unit string, v float64) string {
	switch unit {
	case UnitNs:
		d := time.Duration(math.Round(v))
		if d >= time.Second || d <= -time.Second {
			d = d.Round(time.Millisecond) // a run's duration: 3.002s, not 3.002278s
		}
		return latency.Format(d)
	case UnitCount:
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
	default:
		return SI(v)
	}
}

// SI writes v with four significant digits and an SI prefix: 51.23k,
// 409.9M, 12.5, -1.2k.
func SI(v float64) string {
	a := math.Abs(v)
	for _, p := range []struct {
		scale  float64
		prefix string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		// The rounding to four digits may carry into the next prefix.
		if a >= p.scale*(1-5e-5) {
			return strconv.FormatFloat(v/p.scale, 'g', 4, 64) + p.prefix
		}
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// maxLabelWidth keeps a long default label (the whole command line) from
// widening its column; the JSON and the charts' legends keep it whole.
const maxLabelWidth = 32

// shorten cuts s to at most n runes, ending it with "…" when cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
