// Package render draws an experiment's result: table.md, the plots (PNG
// and SVG, with gonum/plot) and one self-contained report.html with the
// tables, the plots inline, the spec, the environment and the mechanisms
// that carried the impairments.
package render

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
)

// Cell texts of the table.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

func opt(p *float64) string {
	if p == nil {
		return "—"
	}
	return num(*p)
}

// TableRows are the table's cells, header first: one row per point and
// workload.
func TableRows(r *result.Result) [][]string {
	param := r.Parameter + " (" + r.Unit + ")"
	if r.Parameter == spec.Single {
		param = "point"
	}
	rows := [][]string{{param, "workload", "figure", "mean", "± 95 % CI", "repetitions", "min … max", "theory", "mean / theory", "band", "in band"}}
	for _, p := range r.Points {
		for _, m := range p.Measures {
			ci := "—"
			if m.Summary.N > 1 {
				ci = num(m.Summary.CI95)
			}
			band, in := "—", "—"
			if m.BandLow != nil && m.BandHigh != nil {
				band = num(*m.BandLow) + " … " + num(*m.BandHigh)
			}
			if m.Within != nil {
				in = map[bool]string{true: "yes", false: "**no**"}[*m.Within]
			}
			rows = append(rows, []string{num(p.Value), m.Workload + " (" + m.Client + ")", m.Metric + " (" + m.Unit + ")",
				num(m.Summary.Mean), ci, strconv.Itoa(m.Summary.N), num(m.Summary.Min) + " … " + num(m.Summary.Max),
				opt(m.Theory), opt(m.Ratio), band, in})
		}
	}
	return rows
}

// WriteTable writes the Markdown table of r with a heading, the clients'
// sections and the notes.
func WriteTable(w io.Writer, r *result.Result, sections []Section) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", r.Title)
	quick := ""
	if r.Quick {
		quick = ", quick form"
	}
	fmt.Fprintf(&b, "Experiment `%s`%s, seed %d, %s to %s.\n\n", r.Name, quick, r.Seed,
		r.Started.UTC().Format("2006-01-02 15:04:05Z"), r.Finished.UTC().Format("15:04:05Z"))
	markdownTable(&b, TableRows(r))
	for _, sec := range sections {
		fmt.Fprintf(&b, "\n## %s\n\n", sec.Heading)
		if sec.Text != "" {
			b.WriteString(sec.Text + "\n\n")
		}
		markdownTable(&b, sec.Table)
		for _, p := range sec.Plots {
			fmt.Fprintf(&b, "\n![%s](%s.png)\n", sec.Heading, p)
		}
	}
	if len(r.Mechanisms) > 0 {
		b.WriteString("\nImpairments as applied:\n\n")
		for _, m := range r.Mechanisms {
			b.WriteString("- " + m + "\n")
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range r.Notes {
			b.WriteString("Note: " + n + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func markdownTable(b *strings.Builder, rows [][]string) {
	for i, row := range rows {
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
		if i == 0 {
			b.WriteString("|" + strings.Repeat("---|", len(row)) + "\n")
		}
	}
}
