package soak_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/cli/clitest"
	"github.com/netlab/netlab/lab/internal/soak"
)

func TestChecks_CompareInclusively(t *testing.T) {
	tests := []struct {
		c    soak.Check
		want bool
	}{
		{soak.AtMost("x", 5, 5, ""), true},
		{soak.AtMost("x", 5.01, 5, ""), false},
		{soak.AtLeast("x", 99, 99, "%"), true},
		{soak.AtLeast("x", 98.99, 99, "%"), false},
	}
	for _, tt := range tests {
		if tt.c.OK != tt.want {
			t.Errorf("%v %s %v: OK = %v, want %v", tt.c.Got, tt.c.Op, tt.c.Limit, tt.c.OK, tt.want)
		}
	}
}

func TestPhase_Passed(t *testing.T) {
	ok := soak.AtMost("a", 0, 0, "")
	bad := soak.AtLeast("b", 1, 2, "")
	tests := []struct {
		name string
		ph   soak.Phase
		want bool
	}{
		{"every check holds", soak.Phase{Checks: []soak.Check{ok, ok}}, true},
		{"one check fails", soak.Phase{Checks: []soak.Check{ok, bad}}, false},
		{"no checks shows nothing", soak.Phase{}, false},
		{"error", soak.Phase{Checks: []soak.Check{ok}, Error: "server exited"}, false},
	}
	for _, tt := range tests {
		if got := tt.ph.Passed(); got != tt.want {
			t.Errorf("%s: Passed() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestResult_FinishNeedsEveryPhase(t *testing.T) {
	good := soak.Phase{Name: "tcp", Checks: []soak.Check{soak.AtMost("a", 0, 0, "")}}
	var failed soak.Phase
	failed.Name = "udp"
	failed.Fail(errors.New("boom"))
	for _, tt := range []struct {
		phases []soak.Phase
		want   bool
	}{
		{[]soak.Phase{good}, true},
		{[]soak.Phase{good, failed}, false},
		{nil, false},
	} {
		r := soak.Result{Phases: tt.phases}
		r.Finish(time.Second)
		if r.Passed != tt.want {
			t.Errorf("phases %d: Passed = %v, want %v", len(tt.phases), r.Passed, tt.want)
		}
	}
}

func TestWrite_TablesSummaryAndJSON(t *testing.T) {
	ph := soak.Phase{Name: "udp", About: "flood", Elapsed: 31 * time.Second}
	ph.Note("RATE_LIMIT=2000")
	ph.Add("client reply ratio", 99.5, "%")
	ph.Add("flood datagrams sent", 6000000, "")
	ph.AddText("peer-1", "sha256 abcd")
	ph.Check(soak.AtLeast("client reply ratio", 98.5, 99, "%"))
	r := soak.Result{Phases: []soak.Phase{ph}}
	r.Finish(40 * time.Second)

	var out bytes.Buffer
	soak.WritePhase(&out, ph)
	soak.WriteSummary(&out, &r)
	clitest.Contains(t, "output", out.String(), "== udp: flood ==", "note: RATE_LIMIT=2000", "99.50 %", "6000000", "sha256 abcd", "98.50 %", ">= 99 %", "FAIL", "0/1 checks", "soak FAIL in 40s")

	out.Reset()
	if err := r.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	var back soak.Result
	if err := json.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Passed || len(back.Phases) != 1 || back.Phases[0].Checks[0].Limit != 99 {
		t.Errorf("JSON round trip = %+v", back)
	}
}

func TestPercentile_NearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0, time.Millisecond}}
	for _, tt := range tests {
		if got := soak.Percentile(d, tt.q); got != tt.want {
			t.Errorf("Percentile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := soak.Percentile(nil, 0.5); got != 0 {
		t.Errorf("Percentile(nil) = %v, want 0", got)
	}
}
