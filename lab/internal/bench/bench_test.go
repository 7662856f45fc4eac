package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/proc"
)

func TestParseWrk(t *testing.T) {
	out := `Running 5s test @ http://127.0.0.1:8080/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   412.00us  300.00us   5.00ms   90.00%
  Latency Distribution
     50%  351.00us
     75%  450.00us
     90%  600.00us
     99%    2.10ms
  612345 requests in 5.00s, 80.00MB read
Requests/sec: 122469.00
Transfer/sec:     16.00MB
`
	s, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if s.Rate != 122469 || s.Ops != 612345 || s.P50 != 351*time.Microsecond || s.P99 != 2100*time.Microsecond {
		t.Fatalf("parseWrk = %+v", s)
	}
	if _, err := parseWrk(out + "  Non-2xx or 3xx responses: 12\n"); err == nil {
		t.Fatal("errors in the wrk output were not reported")
	}
}

func TestSummarize_SameRepRatiosAndMedians(t *testing.T) {
	w := Workload{Name: "w", Unit: "x/s", Reference: "ref", Subject: "me", Goals: []Goal{{"ref", 1.0, Throughput}, {"other", 2.0, Throughput}}}
	samples := map[string][]Sample{
		// The machine slows down in rep 2; same-rep ratios stay 2.
		"ref": {{Rate: 100}, {Rate: 50}, {Rate: 100}},
		"me":  {{Rate: 200, Ops: 10, CPU: 10 * time.Millisecond}, {Rate: 100, Ops: 10, CPU: 20 * time.Millisecond}, {Rate: 200, Ops: 10, CPU: 30 * time.Millisecond}},
	}
	row := summarize(w, "me", samples, nil)
	if row.Rate != 200 || row.RateMin != 100 || row.Ratio != 2 || row.Reps != 3 || row.CPUPerOp != 2*time.Millisecond {
		t.Fatalf("row = %+v", row)
	}
	goals := checkGoals(w, samples)
	if len(goals) != 2 || !goals[0].Met || goals[0].Ratio != 2 || goals[1].Skipped == "" {
		t.Fatalf("goals = %+v", goals)
	}
}

func TestRun_MeasuresRealTargetsAndCPU(t *testing.T) {
	// The targets are plain processes; Drive stands in for a client, so
	// this checks the plumbing: interleaving, skips, medians, the report.
	var procs proc.Group
	defer procs.StopAll()
	cfg := Config{Procs: &procs}
	target := func(name string) Target {
		return cfg.toolTarget(name, func(string) func(context.Context) error {
			return func(context.Context) error { return nil }
		}, func(string) []string { return []string{"sleep", "30"} })
	}
	calls := map[string]int{}
	w := Workload{Name: "w", Unit: "x/s", Reference: "a", Subject: "b", Goals: []Goal{{"a", 1.5, Throughput}},
		Targets: []Target{target("a"), target("b"), {Name: "gone", Start: func(context.Context) (*Server, error) { return nil, os.ErrNotExist }}},
		Drive: func(_ context.Context, addr string) (Sample, error) {
			calls[addr]++
			if calls[addr]%2 == 0 {
				return Sample{Rate: 10}, nil
			}
			return Sample{Rate: 20}, nil
		},
	}
	var log strings.Builder
	res, err := Run(t.Context(), []Workload{w}, 3, &log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 2 || len(res.Skipped) != 1 || len(res.Goals) != 1 {
		t.Fatalf("result = %+v", res)
	}
	for _, row := range res.Rows {
		if row.Reps != 3 {
			t.Errorf("%s measured %d times, want 3", row.Target, row.Reps)
		}
	}
	for addr, n := range calls {
		if n != 4 {
			t.Errorf("%s driven %d times, want 4 (a warm-up and 3 reps)", addr, n)
		}
	}
	doc := filepath.Join(t.TempDir(), "b.md")
	if err := os.WriteFile(doc, []byte("# Benchmarks\n\nhand-written\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second update replaces the first
		if err := UpdateDoc(doc, Markdown(res, "b.png")); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := os.ReadFile(doc)
	if strings.Count(string(got), beginMarker) != 1 || !strings.Contains(string(got), "hand-written") || !strings.Contains(string(got), "| w | a |") {
		t.Fatalf("doc after two updates:\n%s", got)
	}
	if err := WriteChart(filepath.Join(t.TempDir(), "b.png"), res); err != nil {
		t.Fatal(err)
	}
}

func TestCheckGoals_CPUAndTailLatencyMustNotExceedTheAnchor(t *testing.T) {
	w := Workload{Name: "w", Subject: "me", Goals: []Goal{
		{"py", 0.5, ServerCPU},
		{"py", 1.0, TailLatency},
		{"py", 1.3, Throughput},
	}}
	samples := map[string][]Sample{
		// CPU per op: me 1 µs vs py 4 µs (0.25×); p99 me 2 ms vs py 1 ms
		// (2×); throughput 1.5×. The failed rep (rate 0) is left out.
		"py": {{Rate: 100, Ops: 100, CPU: 400 * time.Microsecond, P99: time.Millisecond}, {Rate: 0}},
		"me": {{Rate: 150, Ops: 100, CPU: 100 * time.Microsecond, P99: 2 * time.Millisecond}, {Rate: 150, Ops: 100, CPU: time.Second, P99: time.Hour}},
	}
	goals := checkGoals(w, samples)
	if len(goals) != 3 {
		t.Fatalf("goals = %+v", goals)
	}
	if g := goals[0]; !g.Met || !g.AtMost || g.Ratio != 0.25 {
		t.Errorf("cpu goal = %+v, want met at 0.25×", g)
	}
	if g := goals[1]; g.Met || g.Ratio != 2 {
		t.Errorf("p99 goal = %+v, want missed at 2×", g)
	}
	if g := goals[2]; !g.Met || g.AtMost || g.Ratio != 1.5 {
		t.Errorf("throughput goal = %+v, want met at 1.5×", g)
	}
	if line := goalLine(goals[0]); !strings.Contains(line, "server CPU/op ≤ 0.5× py: met (0.250×)") {
		t.Errorf("goal line = %q", line)
	}
}

func TestReport_NamesFailedReps(t *testing.T) {
	r := Result{Reps: 5, Rows: []Row{
		{Workload: "tcp-bulk", Target: "socat", Rate: 650, Reps: 4, Errors: []string{"timed out after 30s"}},
		{Workload: "tcp-bulk", Target: "netlab", Rate: 1200, Reps: 5},
	}}
	want := "tcp-bulk/socat: 1 of 5 reps failed, its figures are of the others; first error: timed out after 30s"
	if md := Markdown(r, ""); !strings.Contains(md, "- "+want) || strings.Contains(md, "tcp-bulk/netlab:") {
		t.Errorf("markdown does not name the failed rep alone:\n%s", md)
	}
	var table strings.Builder
	if err := WriteTable(&table, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), want) {
		t.Errorf("table does not name the failed rep:\n%s", table.String())
	}
}
