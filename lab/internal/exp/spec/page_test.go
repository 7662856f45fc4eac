package spec_test

import (
	"testing"
	"time"
)

// goodPage is a valid http-page spec; each bad case changes one line.
const goodPage = `name: p
title: Pages
services:
  - name: http-hello
    replicas: 1
impairment:
  targets: [http-hello]
sweep:
  parameter: delay
  values: [0, 10, 50]
workloads:
  - name: np
    client: http-page
    connection: non-persistent
    objects: 10
    count: 5
  - name: mux
    client: http-page
    connection: multiplexed
    objects: 10
    count: 5
    object_bytes: 1000
repetitions: 2
quick:
  values: [0, 50]
  repetitions: 1
  scale: 0.6
`

func TestParse_PageSpec(t *testing.T) {
	s := mustParse(t, goodPage)
	w := s.Workloads[1]
	if w.Connection != "multiplexed" || w.Objects != 10 || w.Count != 5 || w.ObjectBytes != 1000 {
		t.Errorf("parsed %+v", w)
	}
	if q := s.Effective(true); q.Workloads[0].Count != 3 || q.Workloads[0].Objects != 10 {
		t.Errorf("quick form: %d pages of %d objects, want 3 of 10", q.Workloads[0].Count, q.Workloads[0].Objects)
	}
}

func TestParse_BadPageSpecNamesTheField(t *testing.T) {
	checkBadEdits(t, goodPage, []badEdit{
		{"no pages", "    count: 5\n  - name: mux", "    count: 0\n  - name: mux", "workloads[0].count: 0"},
		{"too many pages", "    count: 5\n  - name: mux", "    count: 101\n  - name: mux", "workloads[0].count: 101"},
		{"no objects", "    objects: 10\n    count: 5\n  - name: mux", "    objects: 0\n    count: 5\n  - name: mux", "workloads[0].objects: 0"},
		{"too many objects", "    objects: 10\n    count: 5\n  - name: mux", "    objects: 101\n    count: 5\n  - name: mux", "workloads[0].objects: 101"},
		{"unknown connection", "connection: multiplexed", "connection: pipelined", `workloads[1].connection: "pipelined"`},
		{"object too large", "object_bytes: 1000", "object_bytes: 20000", "workloads[1].object_bytes: 20000"},
		{"not a delay sweep", "parameter: delay\n  values: [0, 10, 50]", "parameter: loss\n  values: [0, 10, 50]", `sweep.parameter: "loss"`},
		{"no delay 0", "values: [0, 10, 50]", "values: [10, 50]", "sweep.values: http-page measures the base"},
		{"no quick delay 0", "values: [0, 50]", "values: [10, 50]", "quick.values: http-page measures the base"},
		{"loss", "targets: [http-hello]", "targets: [http-hello]\n  loss: 1", "impairment.loss:"},
		{"service not started", "  - name: http-hello\n    replicas: 1\nimpairment:\n  targets: [http-hello]",
			"  - name: tcp-echo\n    replicas: 1\nimpairment:\n  targets: [tcp-echo]", "http-page talks to http-hello"},
	})
}

// A page's time is its round trips at the point's delay: the estimate
// follows the swept delay (and counts it twice when added both ways).
func TestWorkloadTime_Page(t *testing.T) {
	s := mustParse(t, goodPage)
	np := s.Workloads[0] // 5 pages of 20 round trips
	at0, at50 := s.WorkloadTime(np, 0), s.WorkloadTime(np, 50)
	if want := 5 * 20 * 50 * time.Millisecond; at50-at0 != want {
		t.Errorf("50 ms adds %v, want %v", at50-at0, want)
	}
	s.Impairment.Direction = "both"
	if both := s.WorkloadTime(np, 50); both-at0 != 2*(at50-at0) {
		t.Errorf("both ways adds %v, want %v", both-at0, 2*(at50-at0))
	}
	if full := s.Estimate(false); full < 2*5*20*(10+50)*time.Millisecond {
		t.Errorf("estimate %v leaves out the delays", full)
	}
}
