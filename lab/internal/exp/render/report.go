package render

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/netlab/netlab/lab/internal/exp/result"
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

// All writes table.md, the plot (NAME.png, NAME.svg) and report.html of
// r into dir, which holds spec.yaml; it returns the files written.
func All(dir string, r *result.Result) ([]string, error) {
	var files []string
	var table bytes.Buffer
	if err := WriteTable(&table, r); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, TableFile), table.Bytes(), 0o644); err != nil {
		return nil, err
	}
	files = append(files, filepath.Join(dir, TableFile))
	p, err := Plot(r)
	if err != nil {
		return files, fmt.Errorf("plot: %w", err)
	}
	plots, err := WritePlot(dir, r.Name, p)
	files = append(files, plots...)
	if err != nil {
		return files, err
	}
	png, err := os.ReadFile(plots[0])
	if err != nil {
		return files, err
	}
	specYAML, err := os.ReadFile(filepath.Join(dir, SpecFile))
	if err != nil {
		return files, err
	}
	var html bytes.Buffer
	if err := writeHTML(&html, r, png, specYAML); err != nil {
		return files, err
	}
	path := filepath.Join(dir, ReportFile)
	if err := os.WriteFile(path, html.Bytes(), 0o644); err != nil {
		return files, err
	}
	return append(files, path), nil
}

type page struct {
	R           *result.Result
	Head        []string
	Rows        [][]string
	Plot        template.URL
	Spec        string
	Environment [][2]string
}

func writeHTML(w *bytes.Buffer, r *result.Result, png, specYAML []byte) error {
	rows := TableRows(r)
	pg := page{R: r, Head: rows[0], Rows: rows[1:], Spec: string(specYAML),
		// A data URI of our own PNG, not user input: safe to mark as a URL.
		Plot: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))}
	keys := make([]string, 0, len(r.Environment))
	for k := range r.Environment {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		pg.Environment = append(pg.Environment, [2]string{k, r.Environment[k]})
	}
	for i, row := range pg.Rows {
		pg.Rows[i] = slices.Clone(row)
		for j := range row {
			pg.Rows[i][j] = strings.ReplaceAll(row[j], "**", "")
		}
	}
	return tmpl.Execute(w, pg)
}
