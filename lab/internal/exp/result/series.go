package result

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
)

// Row is one figure of series.csv: at point Point (parameter Value),
// repetition Rep, from Source at T seconds since the run began.
//
// Sources: "workload:NAME" for a client's intervals and its summary,
// and a container (service-number) for its /metrics. A summary row's
// Metric is the measure's (loss_percent…): result.json's repetitions are
// these rows.
type Row struct {
	Point  int
	Value  float64
	Rep    int
	Source string
	T      float64
	Metric string
	V      float64
}

// Kind of a row: a summary row carries a repetition's figure.
const SummaryPrefix = "summary:"

// Header is series.csv's first line.
var Header = []string{"point", "value", "repetition", "source", "t_s", "metric", "value_of_metric"}

// MaxRows bounds the rows a reader accepts.
const MaxRows = 2_000_000

// WriteCSV writes rows with the header.
func WriteCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Header); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, r := range rows {
		if err := cw.Write([]string{strconv.Itoa(r.Point), f(r.Value), strconv.Itoa(r.Rep), r.Source, strconv.FormatFloat(r.T, 'f', 3, 64), r.Metric, f(r.V)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadCSV reads series.csv.
func ReadCSV(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = len(Header)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !slices.Equal(head, Header) {
		return nil, fmt.Errorf("%s: header %q, want %q", path, head, Header)
	}
	var rows []Row
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rows) >= MaxRows {
			return nil, fmt.Errorf("%s: more than %d rows", path, MaxRows)
		}
		r, err := parseRow(rec)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		rows = append(rows, r)
	}
}

func parseRow(rec []string) (Row, error) {
	var r Row
	var errs [5]error
	r.Point, errs[0] = strconv.Atoi(rec[0])
	r.Value, errs[1] = strconv.ParseFloat(rec[1], 64)
	r.Rep, errs[2] = strconv.Atoi(rec[2])
	r.Source = rec[3]
	r.T, errs[3] = strconv.ParseFloat(rec[4], 64)
	r.Metric = rec[5]
	r.V, errs[4] = strconv.ParseFloat(rec[6], 64)
	if err := errors.Join(errs[:]...); err != nil {
		return r, err
	}
	return r, nil
}

// SummaryRow is the row of one repetition's figure of a workload.
func SummaryRow(point int, value float64, rep int, workload string, t float64, metric string, v float64) Row {
	return Row{Point: point, Value: value, Rep: rep, Source: SummaryPrefix + workload, T: t, Metric: metric, V: v}
}

// FromSeries sets every measure's repetitions from the summary rows of
// the series, in repetition order, and analyzes again: result.json's
// figures are the series' by construction.
func (r *Result) FromSeries(rows []Row) error {
	for i := range r.Points {
		for j := range r.Points[i].Measures {
			m := &r.Points[i].Measures[j]
			type rep struct {
				n int
				v float64
			}
			var reps []rep
			for _, row := range rows {
				if row.Point == i && row.Source == SummaryPrefix+m.Workload && row.Metric == m.Metric {
					reps = append(reps, rep{row.Rep, row.V})
				}
			}
			if len(reps) == 0 {
				return fmt.Errorf("series has no %s of %s at point %d", m.Metric, m.Workload, i)
			}
			slices.SortFunc(reps, func(a, b rep) int { return a.n - b.n })
			m.Reps = m.Reps[:0]
			for _, x := range reps {
				m.Reps = append(m.Reps, x.v)
			}
		}
	}
	r.Analyze()
	return nil
}
