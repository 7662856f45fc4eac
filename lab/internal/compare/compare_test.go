package compare_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/cli/clitest"
	"github.com/netlab/netlab/lab/internal/compare"
	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/latency"
	"github.com/netlab/netlab/services/platform/loadgen"
)

// netlabCompare runs the command as netlab does.
func netlabCompare(t *testing.T, args ...string) (code int, stdout, stderr string) {
	return clitest.Run(t.Context(), compare.Main, args...)
}

// plain is a record with round figures, for checking differences by hand.
func plain(label string, ops int64, opsPerSec float64, p50, p99 time.Duration) clientcli.Record {
	return clientcli.Record{
		Schema: clientcli.RecordSchema, Client: "udp-client", Label: label,
		Summary: clientcli.RecordSummary{Mode: "load", Target: "127.0.0.1:12345", DurationNs: int64(10 * time.Second),
			Ops: ops, Errors: 2, OpsPerSecond: opsPerSec, BitsPerSecond: 8 * 64 * opsPerSec,
			Latency: latency.JSON{N: ops, MinNs: int64(p50 / 2), AvgNs: int64(p50), P50Ns: int64(p50),
				P90Ns: int64(p99 / 2), P99Ns: int64(p99), P999Ns: int64(p99), MaxNs: int64(2 * p99)}},
		Intervals: []clientcli.IntervalJSON{}, Result: json.RawMessage(`{}`),
	}
}

// row returns the fields of the table line that starts with name.
func row(t *testing.T, table, name string) []string {
	t.Helper()
	for l := range strings.Lines(table) {
		if strings.HasPrefix(l, name+"  ") {
			return strings.Fields(strings.TrimPrefix(l, name))
		}
	}
	t.Fatalf("no row %q in\n%s", name, table)
	return nil
}

func TestCompare_TableHasEveryRunAndItsDifferenceFromTheFirst(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.json", plain("before", 500_000, 50_000, 200*time.Microsecond, 400*time.Microsecond))
	after := plain("after", 550_000, 55_000, 150*time.Microsecond, 500*time.Microsecond)
	after.Summary.Lost = 3
	after.Summary.DurationNs += int64(2278 * time.Microsecond)
	b := write(t, dir, "b.json", after)
	code, stdout, stderr := netlabCompare(t, a, b)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	want := map[string][]string{
		"":              {"before", "after"},
		"client":        {"udp-client", "udp-client"},
		"target":        {"127.0.0.1:12345", "127.0.0.1:12345"},
		"duration":      {"10s", "10.002s", "+2.278ms", "(+0.02%)"},
		"ops":           {"500000", "550000", "+50000", "(+10.00%)"},
		"ops/s":         {"50k", "55k", "+5k", "(+10.00%)"},
		"bit/s":         {"25.6M", "28.16M", "+2.56M", "(+10.00%)"},
		"errors":        {"2", "2", "+0", "(+0.00%)"},
		"lost":          {"0", "3", "+3", "(base", "0)"},
		"latency p50":   {"200µs", "150µs", "-50µs", "(-25.00%)"},
		"latency p99":   {"400µs", "500µs", "+100µs", "(+25.00%)"},
		"latency p99.9": {"400µs", "500µs", "+100µs", "(+25.00%)"},
		"latency max":   {"800µs", "1ms", "+200µs", "(+25.00%)"},
	}
	for name, cells := range want {
		var got []string
		if name == "" {
			got = strings.Fields(strings.SplitN(stdout, "\n", 2)[0])
		} else {
			got = row(t, stdout, name)
		}
		if strings.Join(got, " ") != strings.Join(cells, " ") {
			t.Errorf("row %q = %q, want %q\n%s", name, got, cells, stdout)
		}
	}
	if strings.Contains(stdout, "target rate") || strings.Contains(stdout, "note:") {
		t.Errorf("closed-loop runs of one kind got open-loop rows or notes:\n%s", stdout)
	}
}

func TestCompare_JSONHasTheSameFiguresAndDifferences(t *testing.T) {
	dir := t.TempDir()
	base := plain("base", 1000, 100, time.Millisecond, 4*time.Millisecond)
	open := plain("open", 1500, 150, 2*time.Millisecond, 3*time.Millisecond)
	open.Schedule = &loadgen.JSON{TargetRate: 200, AchievedRate: 150, Missed: 500, Late: 7}
	none := plain("no latency", 0, 0, 0, 0)
	none.Client = "peerctl"
	code, stdout, stderr := netlabCompare(t, "--json",
		write(t, dir, "base.json", base), write(t, dir, "open.json", open), write(t, dir, "none.json", none))
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var rep compare.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
	}
	rows := map[string]compare.Row{}
	for _, r := range rep.Rows {
		rows[r.Name] = r
	}
	show := func(v *float64) string {
		if v == nil {
			return "nil"
		}
		return fmt.Sprint(*v)
	}
	diffs := func(r compare.Row) string {
		var out []string
		for _, d := range r.Diffs {
			if d == nil {
				out = append(out, "nil")
			} else {
				out = append(out, fmt.Sprintf("%v/%s", d.Abs, show(d.Pct)))
			}
		}
		return strings.Join(out, " ")
	}
	for name, want := range map[string]string{
		"ops":         "nil 500/50 -1000/-100",
		"latency p50": "nil 1e+06/100 nil", // no latency: no figure, no difference
		"latency p99": "nil -1e+06/-25 nil",
		"target rate": "nil nil nil", // the base is a closed loop
		"lost":        "nil 0/nil 0/nil",
	} {
		if got := diffs(rows[name]); got != want {
			t.Errorf("%s diffs = %s, want %s", name, got, want)
		}
	}
	if got := show(rows["target rate"].Values[1]) + " " + show(rows["missed"].Values[1]) + " " + show(rows["late"].Values[2]); got != "200 500 nil" {
		t.Errorf("open-loop values = %s, want 200 500 nil", got)
	}
	if rep.Schema != compare.Schema || len(rep.Runs) != 3 || rep.Runs[1].Label != "open" || !rep.Runs[1].OpenLoop {
		t.Errorf("runs = %+v", rep.Runs)
	}
	if n := strings.Join(rep.Notes, "\n"); !strings.Contains(n, "no latency: peerctl load, the base is udp-client load") ||
		!strings.Contains(n, "no latency: no latency measured") {
		t.Errorf("notes = %q, want the unlike run and the missing latency named", rep.Notes)
	}
}

func TestCompare_FlagsMayFollowTheFiles(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.json", plain("", 10, 1, time.Millisecond, time.Millisecond))
	code, stdout, stderr := netlabCompare(t, a, "--json")
	var rep compare.Report
	if code != 0 || stderr != "" || json.Unmarshal([]byte(stdout), &rep) != nil {
		t.Fatalf("exit %d, stderr %q, stdout %q: want JSON", code, stderr, stdout)
	}
	if len(rep.Runs) != 1 || rep.Runs[0].Label != "a.json" {
		t.Errorf("runs = %+v, want one labelled with its file's name", rep.Runs)
	}
	// After --, a name that looks like a flag is a file.
	code, _, stderr = netlabCompare(t, "--", "--json")
	if code != 2 || !strings.Contains(stderr, "--json: no such file") {
		t.Errorf("exit %d, stderr %q: want the file --json named", code, stderr)
	}
}

func TestCompare_RunsWithOneLabelAreToldApart(t *testing.T) {
	dir := t.TempDir()
	rec := plain("same", 10, 1, time.Millisecond, time.Millisecond)
	a, b := write(t, dir, "a.json", rec), write(t, dir, "b.json", rec)
	code, stdout, _ := netlabCompare(t, "--json", a, b, a)
	var rep compare.Report
	if code != 0 || json.Unmarshal([]byte(stdout), &rep) != nil {
		t.Fatalf("exit %d: %s", code, stdout)
	}
	seen := map[string]bool{}
	for _, r := range rep.Runs {
		if seen[r.Label] {
			t.Errorf("label %q twice in %+v", r.Label, rep.Runs)
		}
		seen[r.Label] = true
	}
	if rep.Runs[1].Label != "same ("+b+")" {
		t.Errorf("second label = %q, want the file beside the label", rep.Runs[1].Label)
	}
}

func TestCompare_RefusesWhatIsNotASavedRun(t *testing.T) {
	dir := t.TempDir()
	good := write(t, dir, "good.json", plain("good", 10, 1, time.Millisecond, time.Millisecond))
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	huge := file("huge.json", "")
	if err := os.Truncate(huge, clientcli.MaxRecordSize+1); err != nil {
		t.Fatal(err)
	}
	badHist := plain("bad", 10, 1, time.Millisecond, time.Millisecond)
	badHist.Histogram = &latency.HistogramJSON{Scheme: latency.Scheme, N: 3, Buckets: [][3]int64{{5, 6, 1}}}
	many := make([]string, compare.MaxRuns+1)
	for i := range many {
		many[i] = good
	}
	tests := []struct {
		name string
		args []string
		want []string // each in stderr
	}{
		{"no file", nil, []string{"want 1 to 16 saved runs, got 0", "netlab compare -h"}},
		{"too many files", many, []string{"want 1 to 16 saved runs, got 17"}},
		{"missing", []string{good, filepath.Join(dir, "nope.json")}, []string{"nope.json: no such file or directory"}},
		{"a directory", []string{dir}, []string{dir + ": a directory"}},
		{"not JSON", []string{good, file("text.json", "ops 5\n")}, []string{"text.json: not a saved run: invalid character"}},
		{"another schema", []string{file("other.json", `{"schema":"netlab-run/0"}`)}, []string{"other.json: not a saved run", `schema "netlab-run/0"`}},
		{"a bad histogram", []string{write(t, dir, "hist.json", badHist)}, []string{"hist.json: not a saved run: histogram"}},
		{"too large", []string{huge}, []string{"huge.json: 67108865 bytes: a saved run is at most 64 MiB"}},
		{"a bad flag", []string{good, "--plots", dir}, []string{"flag provided but not defined: -plots"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := netlabCompare(t, tt.args...)
			if code != 2 || stdout != "" {
				t.Errorf("exit %d, stdout %q: want 2 and nothing", code, stdout)
			}
			clitest.Contains(t, "stderr", stderr, append(tt.want, "netlab compare: ")...)
		})
	}
}

func TestCompare_HelpListsTheFlags(t *testing.T) {
	code, stdout, stderr := netlabCompare(t, "-h")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	clitest.Contains(t, "help", stdout, "usage: netlab compare", "-json", "-plot DIR", "--save")
}
