package spec_test

import (
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/internal/exp/spec"
)

// parseEdited parses good with each pair of from, to replaced once, and
// no impairment.
func parseEdited(t *testing.T, pairs ...string) *spec.Spec {
	t.Helper()
	doc := strings.Replace(good, "impairment:\n  targets: [udp-responder]\n  direction: ingress\n", "", 1)
	for i := 0; i+1 < len(pairs); i += 2 {
		doc = strings.Replace(doc, pairs[i], pairs[i+1], 1)
	}
	s, err := spec.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParse_NoSweepIsOnePoint(t *testing.T) {
	s := parseEdited(t, "sweep:\n  parameter: loss\n  values: [0, 1, 5]\n", "", "  values: [0, 5]\n", "")
	for _, quick := range []bool{false, true} {
		e := s.Effective(quick)
		if e.Sweep.Parameter != spec.Single || len(e.Sweep.Values) != 1 || e.Sweep.Values[0] != 0 {
			t.Errorf("quick %v: sweep %+v, want one point of %q", quick, e.Sweep, spec.Single)
		}
	}
}

func TestParse_SweepAndClientErrorsNameTheField(t *testing.T) {
	checkFieldEdits(t, good, []fieldEdit{
		{"parameter: loss\n  values: [0, 1, 5]", "parameter: nodes\n  values: [1, 2.5]", "sweep.values[1]"},
		{"parameter: loss\n  values: [0, 1, 5]", "parameter: nodes\n  values: [0]", "sweep.values[0]"},
		{"parameter: loss\n  values: [0, 1, 5]", "parameter: nodes\n  values: [31]", "sweep.values[0]"},
		{"impairment:\n  targets: [udp-responder]\n", "impairment:\n", "impairment.targets"},
		{"client: udp-probe", "client: carrier-pigeon", "workloads[0].client"},
		{"  values: [0, 5]\n", "", "quick.values"},
	})
	_, err := spec.Parse(strings.NewReader(strings.Replace(good, "client: udp-probe", "client: carrier-pigeon", 1)))
	for _, name := range spec.ClientNames() {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("unknown client's error %q does not list %s", err, name)
		}
	}
}

func TestParse_NodesSweep(t *testing.T) {
	s := parseEdited(t, "parameter: loss\n  values: [0, 1, 5]", "parameter: nodes\n  values: [1, 2, 30]", "  values: [0, 5]\n", "  values: [1, 2]\n")
	if spec.Parameters[s.Sweep.Parameter] != "nodes" || s.Sweep.Values[2] != 30 {
		t.Errorf("sweep %+v", s.Sweep)
	}
}
