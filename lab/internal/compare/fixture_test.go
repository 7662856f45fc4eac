package compare_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/latency"
	"github.com/netlab/netlab/services/platform/loadgen"
)

// fixture describes a made-up run: latencies drawn from a log-normal
// around median with a slow tail, and a rate per second that wobbles.
type fixture struct {
	label    string
	file     string // in the example
	seed     uint64
	median   time.Duration
	tail     float64 // share of operations 8× slower
	samples  int
	rate     float64 // operations per second
	seconds  int
	dipAt    int     // an interval at a fraction of the rate (0: none)
	openLoop float64 // asked rate; 0: closed loop
}

// record builds the saved run f describes, as a client would write it.
func (f fixture) record() clientcli.Record {
	rng := rand.New(rand.NewPCG(f.seed, 7))
	var h latency.Histogram
	for range f.samples {
		d := float64(f.median) * math.Exp(0.3*rng.NormFloat64())
		if rng.Float64() < f.tail {
			d *= 8
		}
		h.Record(time.Duration(d))
	}
	var snap latency.Snapshot
	snap.Add(&h)
	hist := snap.Histogram()
	var ivs []clientcli.IntervalJSON
	var ops int64
	for i := range f.seconds {
		rate := f.rate * (1 + 0.03*math.Sin(float64(i)) + 0.01*rng.NormFloat64())
		if f.dipAt > 0 && (i == f.dipAt || i == f.dipAt+1) {
			rate *= 0.55
		}
		n := int64(rate)
		ops += n
		ivs = append(ivs, clientcli.IntervalJSON{Type: "interval", StartSeconds: float64(i), EndSeconds: float64(i + 1),
			Ops: n, OpsPerSecond: float64(n), Bytes: 64 * n, BytesPerSecond: 64 * float64(n)})
	}
	secs := float64(f.seconds)
	rec := clientcli.Record{
		Schema: clientcli.RecordSchema, Client: "tcp-echo-client", Label: f.label,
		Args:    []string{"--load", "127.0.0.1:65432"},
		Started: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		Summary: clientcli.RecordSummary{Mode: "load", Target: "127.0.0.1:65432",
			DurationNs: int64(f.seconds) * int64(time.Second), Ops: ops, Bytes: 64 * ops,
			OpsPerSecond: float64(ops) / secs, BitsPerSecond: 8 * 64 * float64(ops) / secs,
			Latency: snap.Stats().JSON()},
		Histogram: &hist, Intervals: ivs, Result: json.RawMessage(`{}`),
	}
	if f.openLoop > 0 {
		missed := int64(f.openLoop*secs) - ops
		rec.Schedule = &loadgen.JSON{TargetRate: f.openLoop, AchievedRate: float64(ops) / secs,
			Scheduled: ops + missed, Started: ops, Missed: missed, Late: ops / 50,
			LateAfterNs: int64(time.Millisecond), MaxLatenessNs: int64(30 * time.Millisecond)}
	}
	return rec
}

// write saves rec as dir/name and returns the path.
func write(t *testing.T, dir, name string, rec clientcli.Record) string {
	t.Helper()
	data, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// exampleRuns are the runs of the README's example: a base, a faster
// build, and an open-loop run that could not keep its rate.
func exampleRuns() []fixture {
	return []fixture{
		{label: "main", file: "main.json", seed: 1, median: 180 * time.Microsecond, tail: 0.004, samples: 200_000, rate: 48_000, seconds: 30},
		{label: "tuned", file: "tuned.json", seed: 2, median: 140 * time.Microsecond, tail: 0.002, samples: 200_000, rate: 56_000, seconds: 30},
		{label: "open loop 60k/s", file: "open-loop.json", seed: 3, median: 220 * time.Microsecond, tail: 0.02, samples: 200_000, rate: 57_000,
			seconds: 30, dipAt: 17, openLoop: 60_000},
	}
}
