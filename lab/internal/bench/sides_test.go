package bench

import (
	"strings"
	"testing"
	"time"
)

func TestTransferSample_SumsBothEnds(t *testing.T) {
	s := transferSample(2e9, 2*time.Second, 300*time.Millisecond, 500*time.Millisecond)
	if s.Rate != 1000 || s.Ops != 2000 || s.CPU != 800*time.Millisecond || s.SendCPU != 300*time.Millisecond || s.RecvCPU != 500*time.Millisecond {
		t.Fatalf("transferSample = %+v", s)
	}
}

func TestSummarize_SplitsTransferCPUBetweenEnds(t *testing.T) {
	w := Workload{Name: "peer-1gib", Unit: "MB/s", OpUnit: "MB", Reference: "nc", Subject: "netlab",
		Goals: []Goal{{"nc", 1.25, BothEndsCPU}}}
	ms := time.Millisecond
	samples := map[string][]Sample{
		// nc: 0.6 ms/MB of both ends in every rep.
		"nc": {transferSample(1e9, time.Second, 200*ms, 400*ms), transferSample(1e9, time.Second, 200*ms, 400*ms), transferSample(1e9, time.Second, 200*ms, 400*ms)},
		// netlab: 1.2, 1.5 and 0.9 ms/MB, split 1:2, 1:4 and 1:2.
		"netlab": {transferSample(1e9, time.Second, 400*ms, 800*ms), transferSample(1e9, time.Second, 300*ms, 1200*ms), transferSample(1e9, time.Second, 300*ms, 600*ms)},
	}
	row := summarize(w, "netlab", samples, nil)
	if row.CPUPerOp != 1200*time.Microsecond || row.SendCPUPerOp != 300*time.Microsecond || row.RecvCPUPerOp != 800*time.Microsecond {
		t.Fatalf("row = %+v, want 1.2 ms/MB = median sender 0.3 + median receiver 0.8", row)
	}
	goals := checkGoals(w, samples)
	if len(goals) != 1 || goals[0].Met || !goals[0].AtMost || goals[0].Ratio != 2 {
		t.Fatalf("goals = %+v, want missed at 2× (1.2 against 0.6 ms/MB)", goals)
	}
	if line := goalLine(goals[0]); !strings.Contains(line, "netlab CPU/op of both ends ≤ 1.25× nc: MISSED (2.000×)") {
		t.Errorf("goal line = %q", line)
	}
	// A target measured on one end only has no split.
	if row := summarize(w, "x", map[string][]Sample{"x": {{Rate: 1, Ops: 1, CPU: ms}}}, nil); row.SendCPUPerOp != 0 || row.RecvCPUPerOp != 0 {
		t.Errorf("single-end row = %+v, want no split", row)
	}
}

func TestReport_ShowsTheCPUOfEachEnd(t *testing.T) {
	r := Result{Reps: 3, Rows: []Row{
		{Workload: "peer-1gib", Target: "netlab", Rate: 900, OpUnit: "MB", Reps: 3, CPUPerOp: 1500 * time.Microsecond,
			SendCPUPerOp: 500 * time.Microsecond, RecvCPUPerOp: time.Millisecond},
		{Workload: "tcp-bulk", Target: "netlab", Rate: 1200, OpUnit: "MB", Reps: 3, CPUPerOp: 400 * time.Microsecond},
	}}
	want := "CPU of both ends peer-1gib/netlab: 1500.00µs/MB = sender 500.00µs/MB + receiver 1000.00µs/MB"
	var table strings.Builder
	if err := WriteTable(&table, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), want) || strings.Contains(table.String(), "ends tcp-bulk") {
		t.Errorf("table:\n%s\nwant the split of the peer row alone: %q", table.String(), want)
	}
	if md := Markdown(r, ""); !strings.Contains(md, "- "+want) {
		t.Errorf("markdown lacks %q:\n%s", want, md)
	}
}

func TestTransferElapsed_EndsWhenTheNodeFinished(t *testing.T) {
	start := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	polled := start.Add(1100 * time.Millisecond)
	tests := []struct {
		name     string
		finished time.Time
		want     time.Duration
	}{
		{"finished between the start and the poll", start.Add(1020 * time.Millisecond), 1020 * time.Millisecond},
		{"no finish time", time.Time{}, 1100 * time.Millisecond},
		{"finish time before the start", start.Add(-time.Second), 1100 * time.Millisecond},
		{"finish time after the poll", polled.Add(time.Second), 1100 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := transferElapsed(start, tt.finished, polled); got != tt.want {
			t.Errorf("%s: transferElapsed = %s, want %s", tt.name, got, tt.want)
		}
	}
}
