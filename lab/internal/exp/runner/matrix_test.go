package runner

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/matrix"
	"github.com/netlab/netlab/lab/internal/exp/spec"
	"github.com/netlab/netlab/lab/internal/stack"
	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/clientcli/clitest"
)

// pairRecord is a saved udp-client run (testdata/pair.json, recorded
// from a container against a udp-responder: 50 probes, none lost), with
// edit applied to its result object.
func pairRecord(t *testing.T, edit func(res map[string]any)) clientcli.Record {
	t.Helper()
	rec := clitest.ReadRecordFile(t, "testdata/pair.json")
	if edit != nil {
		var res map[string]any
		if err := json.Unmarshal(rec.Result, &res); err != nil {
			t.Fatal(err)
		}
		edit(res)
		var err error
		if rec.Result, err = json.Marshal(res); err != nil {
			t.Fatal(err)
		}
	}
	return rec
}

func TestParsePair_RecordedRun(t *testing.T) {
	got, err := parsePair(pairRecord(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := pairRun{Sent: 50, Received: 50, P50: 0.137728, P99: 6.012928, OneWay: 0.035712, Exact: true}
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestParsePair_RefusesWhatCannotMakeACell(t *testing.T) {
	dirs := func(res map[string]any) map[string]any { return res["directions"].(map[string]any) }
	cases := map[string]struct {
		edit func(res map[string]any)
		want string
	}{
		"no reply":        {func(res map[string]any) { res["received"] = 0 }, "had 0 replies"},
		"probe version 1": {func(res map[string]any) { res["directions"] = nil }, "no one-way figures"},
		"clocks disagree": {func(res map[string]any) { dirs(res)["clock_suspect"] = true }, "clocks disagree"},
	}
	for name, c := range cases {
		if _, err := parsePair(pairRecord(t, c.edit)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
	}
	// A split the responder could not count is read, but not exact.
	got, err := parsePair(pairRecord(t, func(res map[string]any) { dirs(res)["exact"] = false }))
	if err != nil || got.Exact {
		t.Errorf("inexact split: %+v %v", got, err)
	}
}

func TestCellFigures_TheoryAndBands(t *testing.T) {
	base := pairRun{P50: 0.2, OneWay: 0.05}
	run := pairRun{Sent: 1000, Received: 900, P50: 20.9, P99: 30, Loss: 10, OneWay: 20.7, OneLoss: 5, Exact: true}
	ex := matrix.Expected{RTT: 20 * time.Millisecond, Loss: 9.75, OneWay: 20 * time.Millisecond, OneLoss: 5}
	figs := cellFigures("a", "b", run, base, ex, 3*time.Millisecond)
	if len(figs) != len(matrix.Kinds) {
		t.Fatalf("%d figures, want one per kind %v", len(figs), matrix.Kinds)
	}
	by := map[string]Figure{}
	for i, f := range figs {
		kind, from, to, ok := matrix.ParseMetric(f.Metric)
		if !ok || from != "a" || to != "b" || kind != matrix.Kinds[i] {
			t.Errorf("figure %d is %q, want %s[a→b]", i, f.Metric, matrix.Kinds[i])
		}
		by[kind] = f
	}
	near := func(name string, got *float64, want float64) {
		t.Helper()
		if got == nil || math.Abs(*got-want) > 1e-9 {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	rtt := by[matrix.RTTP50]
	near("rtt theory", rtt.Theory, 20.2) // base + both hops' delays
	near("rtt band low", rtt.BandLow, 17.2)
	near("rtt band high", rtt.BandHigh, 23.2)
	if p99 := by[matrix.RTTP99]; p99.Value != 30 || p99.Theory != nil || p99.BandLow != nil {
		t.Errorf("p99 %+v: the measured figure, without theory", p99)
	}
	loss := by[matrix.Loss]
	lo, hi := matrix.LossBand(9.75, 1000)
	near("loss theory", loss.Theory, 9.75)
	near("loss band low", loss.BandLow, lo)
	near("loss band high", loss.BandHigh, hi)
	if loss.Samples != 1000 || rtt.Samples != 900 {
		t.Errorf("samples: loss %d (want sent), rtt %d (want replies)", loss.Samples, rtt.Samples)
	}
	near("one-way theory", by[matrix.OneWayP50].Theory, 20.05)
	near("one-way loss theory", by[matrix.OneWayLos].Theory, 5)
	// An unimpaired cell's band starts at 0, not below.
	free := cellFigures("a", "c", run, base, matrix.Expected{}, 3*time.Millisecond)
	near("unimpaired rtt band low", free[0].BandLow, 0)
	// Without an exact split the one-way loss has theory but no band.
	run.Exact = false
	if f := cellFigures("a", "b", run, base, ex, time.Millisecond)[4]; f.Theory == nil || f.BandLow != nil {
		t.Errorf("inexact one-way loss: %+v", f)
	}
}

func TestMatrixNodes_FirstNReplicasInOrder(t *testing.T) {
	cs := []stack.Container{
		{ID: "c3", Service: "udp-responder", Number: 3}, {ID: "e1", Service: "tcp-echo", Number: 1},
		{ID: "c1", Service: "udp-responder", Number: 1}, {ID: "c2", Service: "udp-responder", Number: 2},
	}
	got, err := matrixNodes(cs, 2)
	if err != nil || len(got) != 2 || got[0].ID != "c1" || got[1].ID != "c2" {
		t.Errorf("got %+v %v, want udp-responder-1 and -2", got, err)
	}
	if _, err := matrixNodes(cs, 4); err == nil || !strings.Contains(err.Error(), spec.MatrixNode(4)) {
		t.Errorf("a missing replica: %v", err)
	}
	if pairs := orderedPairs(got); len(pairs) != 2 || pairs[0][0].ID != "c1" || pairs[1][0].ID != "c2" {
		t.Errorf("pairs %+v, want c1→c2 and c2→c1", pairs)
	}
	if pairs := orderedPairs(cs[:3]); len(pairs) != 6 {
		t.Errorf("%d ordered pairs of 3, want 6", len(pairs))
	}
}
