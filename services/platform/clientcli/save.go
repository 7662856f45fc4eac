package clientcli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/netlab/netlab/services/platform/latency"
	"github.com/netlab/netlab/services/platform/loadgen"
)

// RecordSchema names the saved-run format; a reader refuses any other.
const RecordSchema = "netlab-run/1"

// DefaultSaveInterval is the interval of the time series a saved run keeps
// when --report-interval does not set one.
const DefaultSaveInterval = time.Second

// MaxSavedIntervals bounds the time series in one record (a day at 1s
// intervals, about 5 MiB); later intervals are counted, not kept.
const MaxSavedIntervals = 86_400

// Record is a saved run (--save): what netlab compare reads. Summary has
// the figures every client shares; Result is the client's own --json
// object, whole.
type Record struct {
	Schema    string                 `json:"schema"`
	Client    string                 `json:"client"`
	Label     string                 `json:"label"`
	Args      []string               `json:"args"`
	Started   time.Time              `json:"started"`
	Summary   RecordSummary          `json:"summary"`
	Histogram *latency.HistogramJSON `json:"latency_histogram,omitempty"`
	Schedule  *loadgen.JSON          `json:"schedule,omitempty"`
	Intervals []IntervalJSON         `json:"intervals"`
	Dropped   int                    `json:"intervals_dropped,omitempty"`
	Result    json.RawMessage        `json:"result"`
}

// RecordSummary is the part of a saved run every client fills the same way.
type RecordSummary struct {
	Mode          string       `json:"mode"`
	Target        string       `json:"target"`
	DurationNs    int64        `json:"duration_ns"`
	Ops           int64        `json:"ops"`
	Errors        int64        `json:"errors"`
	Lost          int64        `json:"lost"`
	Bytes         int64        `json:"bytes"`
	OpsPerSecond  float64      `json:"ops_per_second"`
	BitsPerSecond float64      `json:"bits_per_second"`
	Latency       latency.JSON `json:"latency"`
}

// Saved is what a result tells its saved record.
type Saved struct {
	Mode, Target             string
	Duration                 time.Duration
	Ops, Errors, Lost, Bytes int64             // Bytes: payload moved, one way
	Latency                  *latency.Snapshot // nil: the mode measures none
	Schedule                 *loadgen.Summary  // nil: no timetable
}

// Savable is a result that can be saved.
type Savable interface {
	Result
	Saved() Saved
}

// SaveFlag is --save FILE and --label TEXT of a client.
type SaveFlag struct {
	f           *Flags
	path, label string
}

// Save declares --save and --label on f.
func (f *Flags) Save() *SaveFlag {
	s := &SaveFlag{f: f}
	f.StringVar(&s.path, "save", "", "")
	f.StringVar(&s.label, "label", "", "")
	f.save = s
	return s
}

// Check returns an error when --save or --label was given without one of
// modes (the measuring modes), or --label without --save.
func (s *SaveFlag) Check(modes ...string) error {
	if err := s.f.Needs("save", modes...); err != nil {
		return err
	}
	switch {
	case s.f.Given("save") && s.path == "":
		return errors.New("invalid --save: give a file name, or - for standard output")
	case s.f.Given("label") && !s.f.Given("save"):
		return errors.New("--label is only for --save")
	case len(s.label) > 200:
		return errors.New("invalid --label: at most 200 bytes")
	}
	return nil
}

// ToStdout reports whether the record goes to standard output (--save -):
// the client then prints its report on standard error.
func (s *SaveFlag) ToStdout() bool { return s.path == "-" }

// Recorder keeps what a run's record needs while it runs: the intervals.
// The zero value (no --save) keeps nothing.
type Recorder struct {
	flag    *SaveFlag
	prog    string
	args    []string
	started time.Time

	mu        sync.Mutex
	intervals []IntervalJSON
	dropped   int
}

// Record starts the record of one run of prog with args, and returns the
// reporting the run should use: rep, plus a copy of every interval into
// the record (every DefaultSaveInterval when rep has no interval).
func (s *SaveFlag) Record(prog string, args []string, rep Reporting) (*Recorder, Reporting) {
	if s.path == "" {
		return &Recorder{}, rep
	}
	r := &Recorder{flag: s, prog: prog, args: args, started: time.Now()}
	emit := rep.Emit
	if rep.Every <= 0 {
		rep.Every, emit = DefaultSaveInterval, nil
	}
	rep.Emit = func(iv Interval) {
		r.keep(iv)
		if emit != nil {
			emit(iv)
		}
	}
	return r, rep
}

func (r *Recorder) keep(iv Interval) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.intervals) >= MaxSavedIntervals {
		r.dropped++
		return
	}
	r.intervals = append(r.intervals, iv.JSON())
}

// Write saves the record of res to the --save file (or stdout for -); it
// does nothing without --save.
func (r *Recorder) Write(stdout io.Writer, res Savable) error {
	if r.flag == nil {
		return nil
	}
	rec, err := r.record(res)
	if err != nil {
		return err
	}
	if r.flag.ToStdout() {
		return WriteJSON(stdout, rec)
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, rec); err != nil {
		return err
	}
	if err := os.WriteFile(r.flag.path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("--save: %w", err)
	}
	return nil
}

func (r *Recorder) record(res Savable) (Record, error) {
	var result strings.Builder
	if err := res.WriteJSON(&result); err != nil {
		return Record{}, err
	}
	sv := res.Saved()
	r.mu.Lock()
	rec := Record{
		Schema: RecordSchema, Client: r.prog, Label: r.flag.label, Args: r.args, Started: r.started.UTC(),
		Summary: sv.summary(), Intervals: r.intervals, Dropped: r.dropped,
		Result: json.RawMessage(strings.TrimSpace(result.String())),
	}
	r.mu.Unlock()
	if rec.Label == "" {
		rec.Label = r.prog + " " + strings.Join(r.args, " ")
	}
	if rec.Intervals == nil {
		rec.Intervals = []IntervalJSON{}
	}
	if sv.Latency != nil {
		h := sv.Latency.Histogram()
		rec.Histogram = &h
	}
	if sv.Schedule != nil {
		rec.Schedule = sv.Schedule.JSON()
	}
	return rec, nil
}

func (sv Saved) summary() RecordSummary {
	s := RecordSummary{Mode: sv.Mode, Target: sv.Target, DurationNs: int64(sv.Duration),
		Ops: sv.Ops, Errors: sv.Errors, Lost: sv.Lost, Bytes: sv.Bytes}
	if secs := sv.Duration.Seconds(); secs > 0 {
		s.OpsPerSecond = float64(sv.Ops) / secs
		s.BitsPerSecond = 8 * float64(sv.Bytes) / secs
	}
	if sv.Latency != nil {
		s.Latency = sv.Latency.Stats().JSON()
	}
	return s
}

// MaxRecordSize bounds a record a reader accepts.
const MaxRecordSize = 64 << 20

// ReadRecord reads a saved run, checking its schema and histogram.
func ReadRecord(r io.Reader) (Record, error) {
	var rec Record
	data, err := io.ReadAll(io.LimitReader(r, MaxRecordSize+1))
	switch {
	case err != nil:
		return rec, err
	case len(data) > MaxRecordSize:
		return rec, fmt.Errorf("larger than %d MiB", MaxRecordSize>>20)
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return rec, err
	}
	if rec.Schema != RecordSchema {
		return rec, fmt.Errorf("schema %q: not a saved netlab run (%s)", rec.Schema, RecordSchema)
	}
	if rec.Histogram != nil {
		if _, err := rec.Histogram.Snapshot(); err != nil {
			return rec, err
		}
	}
	return rec, nil
}
