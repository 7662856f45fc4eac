package clientcli_test

import (
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/clientcli/clitest"
	"github.com/netlab/netlab/services/platform/latency"
	"github.com/netlab/netlab/services/platform/loadgen"
)

// fakeRun is a finished load run as a client would hold it.
type fakeRun struct {
	lat   *latency.Snapshot
	sched *loadgen.Summary
}

func (r fakeRun) WriteText(w io.Writer) error { _, err := io.WriteString(w, "done\n"); return err }
func (r fakeRun) WriteJSON(w io.Writer) error {
	return clientcli.WriteJSON(w, map[string]any{"mode": "load", "ops": 2000})
}

func (r fakeRun) Saved() clientcli.Saved {
	return clientcli.Saved{Mode: "load", Target: "127.0.0.1:1", Duration: 2 * time.Second,
		Ops: 2000, Errors: 3, Bytes: 250_000, Latency: r.lat, Schedule: r.sched}
}

func newFakeRun() fakeRun {
	var h latency.Histogram
	for i := range 2000 {
		h.Record(time.Duration(100+i) * time.Microsecond)
	}
	var s latency.Snapshot
	s.Add(&h)
	sched := loadgen.Summary{Rate: 1000, Elapsed: 2 * time.Second, Scheduled: 2000, Started: 2000}
	return fakeRun{lat: &s, sched: &sched}
}

func saveFlags(t *testing.T, args ...string) *clientcli.SaveFlag {
	t.Helper()
	f := clientcli.NewFlags("tool", "Usage: tool\n")
	f.Bool("load", false, "")
	save := f.Save()
	if err := f.ParseArgs(args, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := save.Check("load"); err != nil {
		t.Fatal(err)
	}
	return save
}

// A run saved to a file reads back with its figures, histogram, schedule,
// intervals and the client's own JSON result.
func TestSave_RecordReadsBackWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.json")
	args := []string{"--load", "--save", path, "--label", "baseline"}
	rec, rep := saveFlags(t, args...).Record("tool", args, clientcli.Reporting{})
	if rep.Every != clientcli.DefaultSaveInterval || rep.Emit == nil {
		t.Fatalf("reporting %+v: want intervals every %s kept for the record", rep, clientcli.DefaultSaveInterval)
	}
	for i := range 2 {
		rep.Emit(clientcli.Interval{Start: time.Duration(i) * time.Second, End: time.Duration(i+1) * time.Second, Ops: 1000})
	}
	run := newFakeRun()
	if err := rec.Write(io.Discard, run); err != nil {
		t.Fatal(err)
	}
	got := clitest.ReadRecordFile(t, path)
	sum := got.Summary
	if got.Client != "tool" || got.Label != "baseline" || sum.Ops != 2000 || sum.OpsPerSecond != 1000 ||
		sum.BitsPerSecond != 1_000_000 || sum.Errors != 3 || sum.Latency != run.lat.Stats().JSON() {
		t.Errorf("record %+v", got)
	}
	if len(got.Intervals) != 2 || got.Intervals[1].OpsPerSecond != 1000 {
		t.Errorf("intervals %+v: want the two emitted", got.Intervals)
	}
	back, err := got.Histogram.Snapshot()
	if err != nil || back.Stats() != run.lat.Stats() {
		t.Errorf("histogram read back %v (%v), want %v", back.Stats(), err, run.lat.Stats())
	}
	if got.Schedule == nil || got.Schedule.TargetRate != 1000 || !got.Schedule.KeptRate {
		t.Errorf("schedule %+v", got.Schedule)
	}
	if string(got.Result) != `{"mode":"load","ops":2000}` {
		t.Errorf("result %s", got.Result)
	}
}

// --save - writes the record as one JSON line on standard output, and a
// report interval the user asked for is still printed.
func TestSave_ToStdoutKeepsTheUsersReport(t *testing.T) {
	args := []string{"--load", "--save", "-"}
	save := saveFlags(t, args...)
	var printed []clientcli.Interval
	rec, rep := save.Record("tool", args, clientcli.Reporting{Every: time.Second, Emit: func(iv clientcli.Interval) {
		printed = append(printed, iv)
	}})
	rep.Emit(clientcli.Interval{End: time.Second, Ops: 5})
	var out bytes.Buffer
	if err := rec.Write(&out, newFakeRun()); err != nil {
		t.Fatal(err)
	}
	if !save.ToStdout() || len(printed) != 1 || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("printed %d intervals; stdout %q", len(printed), out.String())
	}
	got, err := clientcli.ReadRecord(&out)
	if err != nil || got.Label != "tool --load --save -" || len(got.Intervals) != 1 {
		t.Errorf("record %+v, %v", got, err)
	}
}

func TestSave_WithoutSaveNothingIsWritten(t *testing.T) {
	rec, rep := saveFlags(t, "--load").Record("tool", nil, clientcli.Reporting{})
	if rep.Every != 0 || rep.Emit != nil {
		t.Errorf("reporting %+v: want none", rep)
	}
	var out bytes.Buffer
	if err := rec.Write(&out, newFakeRun()); err != nil || out.Len() > 0 {
		t.Errorf("wrote %q, %v", out.String(), err)
	}
}

func TestSaveFlag_Check(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--save", "x.json"}, "--save needs --load"},
		{[]string{"--load", "--save", ""}, "give a file name"},
		{[]string{"--load", "--label", "a"}, "--label is only for --save"},
		{[]string{"--load", "--save", "x", "--label", strings.Repeat("a", 201)}, "at most 200 bytes"},
	} {
		f := clientcli.NewFlags("tool", "Usage: tool\n")
		f.Bool("load", false, "")
		save := f.Save()
		if err := f.ParseArgs(c.args, io.Discard); err != nil {
			t.Fatal(err)
		}
		if err := save.Check("load"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.args, err, c.want)
		}
	}
}

func TestReadRecord_RefusesOtherFiles(t *testing.T) {
	good, _ := json.Marshal(clientcli.Record{Schema: clientcli.RecordSchema})
	bad := latency.HistogramJSON{Scheme: "other"}
	badHist, _ := json.Marshal(clientcli.Record{Schema: clientcli.RecordSchema, Histogram: &bad})
	for name, c := range map[string]struct {
		data string
		want string
	}{
		"other schema":  {`{"schema":"x/1"}`, "not a saved netlab run"},
		"not json":      {`hello`, "invalid character"},
		"bad histogram": {string(badHist), "scheme"},
		"too large":     {`{"schema":"` + strings.Repeat("a", clientcli.MaxRecordSize) + `"}`, "larger than"},
	} {
		if _, err := clientcli.ReadRecord(strings.NewReader(c.data)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
	}
	if _, err := clientcli.ReadRecord(bytes.NewReader(good)); err != nil {
		t.Errorf("good record refused: %v", err)
	}
}
