package spec_test

import (
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/spec"
)

// goodMatrix is a valid latency-matrix spec; each bad case below changes
// one part of it.
const goodMatrix = `name: m
title: A matrix
services:
  - name: udp-responder
    replicas: 4
workloads:
  - name: pairs
    client: latency-matrix
    count: 1000
    rate: 500
    size: 68
    tolerance: 3ms
    quick_nodes: 3
    links:
      - from: udp-responder-1
        to: udp-responder-2
        delay: 20ms
      - from: udp-responder-2
        to: udp-responder-3
        both: true
        loss: 5
      - from: udp-responder-4
        to: udp-responder-1
        delay: 10ms
repetitions: 3
quick:
  repetitions: 1
  scale: 0.2
`

func TestParse_MatrixSpec(t *testing.T) {
	s := mustParse(t, goodMatrix)
	w := s.Workloads[0]
	if s.MatrixNodes(w) != 4 || len(w.Links) != 3 || !w.Links[1].Both || w.Links[0].Delay.D() != 20*time.Millisecond || w.Tolerance.D() != 3*time.Millisecond {
		t.Errorf("parsed %+v", w)
	}
	// The quick form: three replicas, the links among them, fewer probes;
	// the spec itself keeps its own.
	q := s.Effective(true)
	qw := q.Workloads[0]
	if q.MatrixNodes(qw) != 3 || len(qw.Links) != 2 || qw.Links[1].To != "udp-responder-3" || qw.Count != 200 || len(s.Workloads[0].Links) != 3 {
		t.Errorf("quick form: nodes %d, links %+v, count %d; the spec's links %d", q.MatrixNodes(qw), qw.Links, qw.Count, len(s.Workloads[0].Links))
	}
	// Each form, as it runs and is written to spec.yaml (one point,
	// parameter none), parses again.
	for _, quick := range []bool{false, true} {
		reparsed(t, s.Effective(quick))
	}
	if d := s.Estimate(true); d > 80*time.Second {
		t.Errorf("the quick form takes about %v", d)
	}
	if full, quick := s.Estimate(false), s.Estimate(true); full < 3*quick {
		t.Errorf("full %v against quick %v: four replicas and three repetitions take longer", full, quick)
	}
}

func TestParse_BadMatrixSpecNamesTheField(t *testing.T) {
	checkBadEdits(t, goodMatrix, []badEdit{
		{"one replica", "replicas: 4", "replicas: 1", "workloads[0].client: latency-matrix needs 2 or more replicas"},
		{"nodes above replicas", "quick_nodes: 3", "nodes: 5", "workloads[0].nodes: 5: want 2 to 4"},
		{"one node", "quick_nodes: 3", "nodes: 1", "workloads[0].nodes: 1"},
		{"quick nodes above nodes", "quick_nodes: 3", "nodes: 3\n    quick_nodes: 4", "workloads[0].quick_nodes: 4: want 2 to 3"},
		{"no tolerance", "    tolerance: 3ms\n", "", "workloads[0].tolerance:"},
		{"tolerance too long", "tolerance: 3ms", "tolerance: 2s", "workloads[0].tolerance:"},
		{"unknown container", "from: udp-responder-4", "from: udp-responder-9", "workloads[0].links[2].from: \"udp-responder-9\""},
		{"container of another service", "to: udp-responder-3", "to: tcp-echo-1", "workloads[0].links[1].to:"},
		{"zero-padded replica", "from: udp-responder-4", "from: udp-responder-04", "workloads[0].links[2].from:"},
		{"a link to itself", "to: udp-responder-1", "to: udp-responder-4", "workloads[0].links[2].to: \"udp-responder-4\" is the link's from as well"},
		{"delay too long", "delay: 20ms", "delay: 2s", "workloads[0].links[0].delay:"},
		{"loss too high", "loss: 5", "loss: 60", "workloads[0].links[1].loss: 60"},
		{"nothing to impair", "        delay: 10ms\n", "", "workloads[0].links[2]: set a delay, a loss or both"},
		{"unknown link field", "        both: true", "        both: true\n        jitter: 1ms", "field jitter not found"},
		{"one hop twice", "to: udp-responder-1\n        delay: 10ms", "to: udp-responder-3\n        delay: 10ms\n      - from: udp-responder-3\n        to: udp-responder-2\n        delay: 1ms",
			"workloads[0].links[3]: udp-responder-3 → udp-responder-2 is also links[1]"},
		// 4 → 1 with a loss: 1's incoming side, where 1 → 2's delay on its
		// outgoing side already is.
		{"two shapes on one container", "        delay: 10ms\n", "        loss: 1\n", "workloads[0].links[2]: udp-responder-1 already carries links[0]'s delay"},
		{"a sweep", "repetitions: 3", "repetitions: 3\nsweep:\n  parameter: nodes\n  values: [3]", "sweep: latency-matrix measures one point"},
		{"an impairment", "repetitions: 3", "repetitions: 3\nimpairment:\n  targets: [udp-responder]\n  loss: 1", "impairment.targets: latency-matrix shapes each link itself"},
		{"few probes' bytes", "size: 68", "size: 40", "workloads[0].size:"},
	})
}

func TestLinkShapes_DelayOnTheSenderLossOnTheReceiver(t *testing.T) {
	links := []spec.Link{
		{From: "a", To: "b", Delay: spec.Duration(20 * time.Millisecond), Loss: 2},
		{From: "c", To: "d", Both: true, Loss: 5},
	}
	got, err := spec.LinkShapes("w", links)
	if err != nil {
		t.Fatal(err)
	}
	want := []spec.LinkShape{
		{Container: "a", Peer: "b", Direction: "egress", Delay: 20 * time.Millisecond, Link: 0},
		{Container: "b", Peer: "a", Direction: "ingress", Loss: 2, Link: 0},
		{Container: "d", Peer: "c", Direction: "ingress", Loss: 5, Link: 1},
		{Container: "c", Peer: "d", Direction: "ingress", Loss: 5, Link: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("shape %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestSpec_WithoutSweepAsItRunsParses(t *testing.T) {
	text := strings.Replace(good, "sweep:\n  parameter: loss\n  values: [0, 1, 5]\n", "", 1)
	text = strings.Replace(text, "impairment:\n  targets: [udp-responder]\n  direction: ingress\n", "", 1)
	text = strings.Replace(text, "  values: [0, 5]\n", "", 1)
	s := mustParse(t, text)
	e := s.Effective(false)
	if e.Sweep.Parameter != spec.Single || e.Swept() || s.Swept() {
		t.Fatalf("as it runs: sweep %+v", e.Sweep)
	}
	reparsed(t, e)
	// Parameter none sweeps nothing: a value other than 0 is refused.
	bad := strings.Replace(text, "repetitions: 2", "repetitions: 2\nsweep:\n  parameter: none\n  values: [5]", 1)
	if _, err := spec.Parse(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "sweep.values:") {
		t.Errorf("parameter none with a value 5: %v", err)
	}
}
