package compare

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/latency"
)

// MaxRuns bounds the runs one comparison takes: beyond it the table is too
// wide to read and a chart's lines too many to tell apart.
const MaxRuns = 16

// Run is one saved run as compare reads it.
type Run struct {
	File  string // as named on the command line
	Label string // the record's label, made unique among the runs
	Rec   clientcli.Record
	// Hist is the record's histogram with its buckets in order and merged
	// (as the latency package writes them), Snap the same read back; both
	// nil when the record has none or it is empty.
	Hist *latency.HistogramJSON
	Snap *latency.Snapshot
}

// FileError is a saved run that could not be read.
type FileError struct {
	File string
	Err  error
}

func (e *FileError) Error() string { return e.File + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// Load reads the saved runs in files, in order. Each must be a record of
// clientcli's format and at most clientcli.MaxRecordSize bytes; the error
// names the first file that is not.
func Load(files []string) ([]Run, error) {
	if len(files) == 0 || len(files) > MaxRuns {
		return nil, fmt.Errorf("want 1 to %d saved runs, got %d", MaxRuns, len(files))
	}
	runs := make([]Run, 0, len(files))
	for _, f := range files {
		r, err := load(f)
		if err != nil {
			return nil, &FileError{File: f, Err: err}
		}
		runs = append(runs, r)
	}
	uniqueLabels(runs)
	return runs, nil
}

func load(file string) (Run, error) {
	f, err := os.Open(file)
	if err != nil {
		return Run{}, errors.Unwrap(err) // the *PathError would name the file twice
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return Run{}, err
	} else if st.IsDir() {
		return Run{}, errors.New("a directory, not a saved run")
	} else if st.Size() > clientcli.MaxRecordSize {
		return Run{}, fmt.Errorf("%d bytes: a saved run is at most %d MiB", st.Size(), clientcli.MaxRecordSize>>20)
	}
	rec, err := clientcli.ReadRecord(f)
	if err != nil {
		return Run{}, fmt.Errorf("not a saved run: %w", err)
	}
	r := Run{File: file, Label: rec.Label, Rec: rec}
	if rec.Histogram != nil && rec.Histogram.N > 0 {
		snap, err := rec.Histogram.Snapshot()
		if err != nil { // ReadRecord checked it already
			return Run{}, err
		}
		h := snap.Histogram()
		r.Hist, r.Snap = &h, snap
	}
	return r, nil
}

// uniqueLabels gives every run a label of its own for the table and the
// legends: the file's name where the record has none, and the file's name
// beside it where two runs share one.
func uniqueLabels(runs []Run) {
	for i := range runs {
		if runs[i].Label == "" {
			runs[i].Label = filepath.Base(runs[i].File)
		}
	}
	labels := make([]string, len(runs))
	for i, r := range runs {
		labels[i] = r.Label
	}
	for i := range runs {
		if shared := slices.DeleteFunc(slices.Clone(labels), func(l string) bool { return l != labels[i] }); len(shared) > 1 {
			runs[i].Label = fmt.Sprintf("%s (%s)", labels[i], runs[i].File)
		}
	}
	for i := range runs { // the same file twice
		if slices.IndexFunc(runs, func(r Run) bool { return r.Label == runs[i].Label }) != i {
			runs[i].Label = fmt.Sprintf("%s #%d", runs[i].Label, i+1)
		}
	}
}
