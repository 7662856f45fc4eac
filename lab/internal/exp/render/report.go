package render

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
)

//go:embed report.html.tmpl
var reportTmpl string

var tmpl = template.Must(template.New("report").Parse(reportTmpl))

// Files of an output directory.
const (
	SpecFile   = "spec.yaml"
	ResultFile = "result.json"
	SeriesFile = "series.csv"
	TableFile  = "table.md"
	ReportFile = "report.html"
)

// A Section is more of a report than the sweep's table and plot, drawn
// for the clients whose figures call for it (a heat map, a time line): a
// heading, a paragraph, a table (header first) and plots, base names of
// files NAME.png and NAME.svg in the output directory.
type Section struct {
	Heading string
	Text    string
	Table   [][]string
	Plots   []string
}

// An Extra draws a client's sections from the result and the series,
// writing its plots into dir.
type Extra func(dir string, r *result.Result, rows []result.Row) ([]Section, error)

// Extras are the clients' extra sections, by client name.
var Extras = map[string]Extra{
	spec.LatencyMatrix: matrixSections,
	spec.HTTPPage:      pageSections,
	spec.PartitionHeal: partitionSections,
	spec.KuroseRoss:    kuroseSections,
}

// All writes table.md, the plot (NAME.png, NAME.svg; none for a spec
// without a sweep), the clients' extra sections and report.html of r
// into dir, which holds spec.yaml; it returns the files written.
func All(dir string, r *result.Result, rows []result.Row) ([]string, error) {
	var files []string
	var pngs []string
	for i, unit := range Units(r) {
		if r.Parameter == spec.Single {
			break
		}
		p, err := Plot(r, unit)
		if err != nil {
			return files, fmt.Errorf("plot: %w", err)
		}
		plots, err := WritePlot(dir, PlotName(r.Name, i, unit), p)
		files = append(files, plots...)
		if err != nil {
			return files, err
		}
		pngs = append(pngs, plots[0])
	}
	sections, err := extras(dir, r, rows)
	if err != nil {
		return files, err
	}
	for _, sec := range sections {
		for _, name := range sec.Plots {
			files = append(files, filepath.Join(dir, name+".png"), filepath.Join(dir, name+".svg"))
		}
	}
	var table bytes.Buffer
	if err := WriteTable(&table, r, sections); err != nil {
		return files, err
	}
	if err := os.WriteFile(filepath.Join(dir, TableFile), table.Bytes(), 0o644); err != nil {
		return files, err
	}
	files = append(files, filepath.Join(dir, TableFile))
	path := filepath.Join(dir, ReportFile)
	if err := writeReport(path, dir, r, pngs, sections); err != nil {
		return files, err
	}
	return append(files, path), nil
}

// PlotName is the file name (without extension) of the plot of the i-th
// unit of experiment name: the name itself for the first, then the name
// and the unit ("loss-mbit-s").
func PlotName(name string, i int, unit string) string {
	if i == 0 {
		return name
	}
	slug := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, strings.ReplaceAll(unit, "%", "percent"))
	return name + "-" + strings.Trim(slug, "-")
}

// extras are the sections of every client of r that has an Extra.
func extras(dir string, r *result.Result, rows []result.Row) ([]Section, error) {
	var clients []string
	for _, k := range seriesKeys(r) {
		if !slices.Contains(clients, k.client) {
			clients = append(clients, k.client)
		}
	}
	var out []Section
	for _, c := range clients {
		if x, ok := Extras[c]; ok {
			secs, err := x(dir, r, rows)
			if err != nil {
				return out, fmt.Errorf("%s: %w", c, err)
			}
			out = append(out, secs...)
		}
	}
	return out, nil
}

// readSpec is the run's spec.yaml, as it ran.
func readSpec(dir string) (*spec.Spec, error) {
	data, err := os.ReadFile(filepath.Join(dir, SpecFile))
	if err != nil {
		return nil, err
	}
	s, err := spec.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", SpecFile, err)
	}
	return s, nil
}

func writeReport(path, dir string, r *result.Result, pngs []string, sections []Section) error {
	specYAML, err := os.ReadFile(filepath.Join(dir, SpecFile))
	if err != nil {
		return err
	}
	var html bytes.Buffer
	if err := writeHTML(&html, dir, r, pngs, sections, specYAML); err != nil {
		return err
	}
	return os.WriteFile(path, html.Bytes(), 0o644)
}

type page struct {
	R           *result.Result
	Head        []string
	Rows        [][]string
	Plots       []template.URL
	Sections    []htmlSection
	Spec        string
	Environment [][2]string
}

type htmlSection struct {
	Heading, Text string
	Head          []string
	Rows          [][]string
	Plots         []template.URL
}

// dataURI is a PNG of our own inline: not user input, safe as a URL.
func dataURI(path string) (template.URL, error) {
	png, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)), nil
}

func writeHTML(w *bytes.Buffer, dir string, r *result.Result, pngs []string, sections []Section, specYAML []byte) error {
	rows := TableRows(r)
	pg := page{R: r, Head: rows[0], Rows: plain(rows[1:]), Spec: string(specYAML)}
	for _, p := range pngs {
		u, err := dataURI(p)
		if err != nil {
			return err
		}
		pg.Plots = append(pg.Plots, u)
	}
	for _, sec := range sections {
		hs := htmlSection{Heading: sec.Heading, Text: sec.Text}
		if len(sec.Table) > 0 {
			hs.Head, hs.Rows = sec.Table[0], plain(sec.Table[1:])
		}
		for _, name := range sec.Plots {
			u, err := dataURI(filepath.Join(dir, name+".png"))
			if err != nil {
				return err
			}
			hs.Plots = append(hs.Plots, u)
		}
		pg.Sections = append(pg.Sections, hs)
	}
	keys := slices.Sorted(maps.Keys(r.Environment))
	for _, k := range keys {
		pg.Environment = append(pg.Environment, [2]string{k, r.Environment[k]})
	}
	return tmpl.Execute(w, pg)
}

// plain is a table's cells without Markdown's bold marks.
func plain(rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, row := range rows {
		out[i] = make([]string, len(row))
		for j := range row {
			out[i][j] = strings.ReplaceAll(row[j], "**", "")
		}
	}
	return out
}
