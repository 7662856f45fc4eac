package spec_test

import (
	"math"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/spec"
)

// goodKurose is a valid kurose-ross spec; each bad case changes one
// line of it.
const goodKurose = `name: kr
title: File distribution
services:
  - name: peer
    replicas: 1
    env:
      UPLOAD_RATE: "20971520"
      PIECE_SIZE: 32KiB
sweep:
  parameter: nodes
  values: [1, 10, 30]
workloads:
  - name: cs
    client: kurose-ross
    arm: client-server
    bytes: 16777216
    peer_rate: 2097152
    seconds: 120
repetitions: 2
quick:
  values: [1]
  repetitions: 1
  scale: 1
`

func TestParse_KuroseSpec(t *testing.T) {
	s := mustParse(t, goodKurose)
	w := s.Workloads[0]
	p, err := spec.KuroseParams(s, w, 30)
	if err != nil || p.F != 16<<20 || p.Us != 20<<20 || p.U != 2<<20 || p.N != 30 {
		t.Fatalf("bounds' inputs %+v, %v", p, err)
	}
	if d, _ := spec.KuroseBound(p, spec.ArmClientServer); math.Abs(d-24) > 1e-9 {
		t.Errorf("D_cs at N=30 = %v s, want 24 (30 × 16 MiB at 20 MiB/s)", d)
	}
	if d, _ := spec.KuroseBound(p, spec.ArmPeerToPeer); math.Abs(d-6) > 1e-9 {
		t.Errorf("D_P2P at N=30 = %v s, want 6 (480 MiB at 80 MiB/s)", d)
	}
	// The nodes' start, two refreshes, the bound once and a half.
	if got := s.WorkloadTime(w, 30); got < 36*time.Second || got > 60*time.Second {
		t.Errorf("a run at N=30 estimated at %v", got)
	}
}

func TestParse_BadKuroseSpecNamesTheField(t *testing.T) {
	checkFieldEdits(t, goodKurose, []fieldEdit{
		{"arm: client-server", "arm: hybrid", "workloads[0].arm"},
		{"peer_rate: 2097152", "peer_rate: 100", "workloads[0].peer_rate"},
		{"bytes: 16777216", "bytes: 1000", "workloads[0].bytes"},
		{"seconds: 120", "seconds: 900", "workloads[0].seconds"},
		{"replicas: 1", "replicas: 3", "services[0].replicas"},
		{`UPLOAD_RATE: "20971520"`, `UPLOAD_RATE: "0"`, "services[0].env.UPLOAD_RATE"},
		{"sweep:\n  parameter: nodes\n  values: [1, 10, 30]\n", "", "sweep.parameter"},
	})
}
