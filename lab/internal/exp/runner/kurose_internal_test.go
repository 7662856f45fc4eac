package runner

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/experiments"
	"github.com/netlab/netlab/lab/internal/exp/spec"
)

func builtinKurose(t *testing.T) *spec.Spec {
	t.Helper()
	data, err := experiments.FS.ReadFile("kurose-ross.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return s.Effective(false)
}

// The arms differ in SERVE_PIECES alone; every other setting is the
// spec's peer service's, the upload cap each node's own.
func TestNodeEnv_ArmsDifferInServingOnly(t *testing.T) {
	s := builtinKurose(t)
	envs := map[string][]string{}
	for _, w := range s.Workloads {
		d := &distribution{e: &Env{Spec: s}, w: w}
		envs[w.Arm] = d.nodeEnv("10.0.0.2:8001")
	}
	cs, p2p := envs[spec.ArmClientServer], envs[spec.ArmPeerToPeer]
	for _, want := range []string{"PEERS=10.0.0.2:8001", "UPLOAD_RATE=2097152", "UPLOAD_BURST=64KiB", "SERVE_PIECES=false"} {
		if !slices.Contains(cs, want) {
			t.Errorf("client-server env %q lacks %s", cs, want)
		}
	}
	if len(cs) != len(p2p) || !slices.Contains(p2p, "SERVE_PIECES=true") {
		t.Fatalf("peer-to-peer env %q", p2p)
	}
	diff := 0
	for i := range cs {
		if cs[i] != p2p[i] {
			diff++
		}
	}
	if diff != 1 {
		t.Errorf("the arms' settings differ in %d places, want SERVE_PIECES only", diff)
	}
}

func TestPollEvery_ScalesWithTheBound(t *testing.T) {
	for _, tt := range []struct {
		bound float64
		want  time.Duration
	}{{0.8, 100 * time.Millisecond}, {6, 300 * time.Millisecond}, {24, time.Second}} {
		if got := (&distribution{bound: tt.bound}).pollEvery(); got != tt.want {
			t.Errorf("bound %v s: poll every %v, want %v", tt.bound, got, tt.want)
		}
	}
	if m := median([]float64{3, 1, 2, 10}); m != 2.5 {
		t.Errorf("median = %v, want 2.5", m)
	}
}
