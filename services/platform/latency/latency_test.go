package latency_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/latency"
)

// exact is the nearest-rank summary of samples, computed the slow way.
func exact(samples []time.Duration) latency.Stats {
	if len(samples) == 0 {
		return latency.Stats{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	var sum float64
	for _, d := range s {
		sum += float64(d)
	}
	rank := func(p float64) time.Duration {
		k := int(math.Ceil(p * float64(len(s)) / 100))
		return s[max(1, min(k, len(s)))-1]
	}
	return latency.Stats{N: int64(len(s)), Min: s[0], Avg: time.Duration(math.Round(sum / float64(len(s)))),
		P50: rank(50), P90: rank(90), P99: rank(99), P999: rank(99.9), Max: s[len(s)-1]}
}

func summarize(samples []time.Duration) latency.Stats {
	var h latency.Histogram
	for _, d := range samples {
		h.Record(d)
	}
	var s latency.Snapshot
	s.Add(&h)
	return s.Stats()
}

// within reports whether got is want within the histogram's 1/256 (half a
// bucket of 1/128).
func within(got, want time.Duration) bool {
	return math.Abs(float64(got-want)) <= float64(want)/256+0.5
}

func sampleSets() map[string][]time.Duration {
	rng := rand.New(rand.NewPCG(1, 2))
	logUniform := make([]time.Duration, 100_000)
	for i := range logUniform {
		logUniform[i] = time.Duration(math.Pow(10, 2+8*rng.Float64()))
	}
	loopback := make([]time.Duration, 10_000)
	for i := range loopback {
		loopback[i] = time.Duration(20_000 + rng.IntN(5_000))
		if i%100 == 0 {
			loopback[i] = time.Duration(rng.IntN(int(time.Second)))
		}
	}
	return map[string][]time.Duration{
		"one":                         {42 * time.Microsecond},
		"tiny values are exact":       {1, 2, 3, 200, 255},
		"negative counts as zero":     {-5, 0, 7},
		"log-uniform 100ns..10s":      logUniform,
		"loopback-like with outliers": loopback,
	}
}

func TestStats_PercentilesWithinABucket(t *testing.T) {
	for name, samples := range sampleSets() {
		t.Run(name, func(t *testing.T) {
			clipped := make([]time.Duration, len(samples))
			for i, d := range samples {
				clipped[i] = max(d, 0)
			}
			got, want := summarize(samples), exact(clipped)
			if got.N != want.N || got.Min != want.Min || got.Max != want.Max || math.Abs(float64(got.Avg-want.Avg)) > 1 {
				t.Errorf("stats %+v, want %+v", got, want)
			}
			for _, p := range [][2]time.Duration{{got.P50, want.P50}, {got.P90, want.P90}, {got.P99, want.P99}, {got.P999, want.P999}} {
				if !within(p[0], p[1]) {
					t.Errorf("percentile %v, want %v within 0.4%%", p[0], p[1])
				}
			}
		})
	}
}

func TestStats_Empty(t *testing.T) {
	var s latency.Snapshot
	s.Add(new(latency.Histogram))
	if got := s.Stats(); got != (latency.Stats{}) || s.Count() != 0 {
		t.Errorf("empty histogram: %+v", got)
	}
}

// TestSnapshot_MergesWorkers records from many goroutines into several
// histograms and checks the merge equals one histogram of every sample.
func TestSnapshot_MergesWorkers(t *testing.T) {
	const workers, perWorker = 8, 5000
	hists := make([]latency.Histogram, 3)
	var all []time.Duration
	for w := range workers {
		for i := range perWorker {
			all = append(all, time.Duration(1000+w*perWorker+i*7))
		}
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for _, d := range all[w*perWorker : (w+1)*perWorker] {
				hists[w%len(hists)].Record(d)
			}
		})
	}
	wg.Wait()
	var merged, viaMerge latency.Snapshot
	for i := range hists {
		merged.Add(&hists[i])
		var one latency.Snapshot
		one.Add(&hists[i])
		viaMerge.Merge(&one)
	}
	want := summarize(all)
	if got := merged.Stats(); got != want {
		t.Errorf("Add of %d histograms: %+v, want %+v", len(hists), got, want)
	}
	if got := viaMerge.Stats(); got != want {
		t.Errorf("Merge of snapshots: %+v, want %+v", got, want)
	}
}

// TestSnapshot_Since checks that the difference of two snapshots is the
// interval's own distribution.
func TestSnapshot_Since(t *testing.T) {
	var h latency.Histogram
	first := []time.Duration{time.Millisecond, 2 * time.Millisecond, 50 * time.Millisecond}
	second := []time.Duration{10 * time.Microsecond, 20 * time.Microsecond, 30 * time.Microsecond, 40 * time.Microsecond}
	for _, d := range first {
		h.Record(d)
	}
	var before latency.Snapshot
	before.Add(&h)
	for _, d := range second {
		h.Record(d)
	}
	var after latency.Snapshot
	after.Add(&h)
	got, want := after.Since(&before).Stats(), exact(second)
	if got.N != want.N || got.Avg != want.Avg || !within(got.Min, want.Min) || !within(got.Max, want.Max) ||
		!within(got.P50, want.P50) || !within(got.P99, want.P99) {
		t.Errorf("interval %+v, want %+v", got, want)
	}
	if got := after.Since(&after).Stats(); got != (latency.Stats{}) {
		t.Errorf("nothing recorded in between: %+v", got)
	}
	if got := after.Since(&latency.Snapshot{}).Stats(); got != after.Stats() {
		t.Errorf("since the start: %+v, want %+v", got, after.Stats())
	}
}

func TestStats_JSONAndString(t *testing.T) {
	s := latency.Stats{N: 3, Min: 98 * time.Microsecond, Avg: 153 * time.Microsecond, P50: 150 * time.Microsecond,
		P90: 190 * time.Microsecond, P99: 201 * time.Microsecond, P999: 240 * time.Microsecond, Max: 1234567 * time.Nanosecond}
	b, err := json.Marshal(s.JSON())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"n":3,"min_ns":98000,"avg_ns":153000,"p50_ns":150000,"p90_ns":190000,"p99_ns":201000,"p999_ns":240000,"max_ns":1234567}`
	if string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
	if got, want := s.String(), "min/avg/p50/p90/p99/p99.9/max = 98µs/153µs/150µs/190µs/201µs/240µs/1.235ms"; got != want {
		t.Errorf("String %q, want %q", got, want)
	}
	if got := latency.Format(42); got != "42ns" {
		t.Errorf("Format(42ns) = %q", got)
	}
}

func TestHistogram_RecordAllocatesNothing(t *testing.T) {
	var h latency.Histogram
	d := time.Duration(0)
	if allocs := testing.AllocsPerRun(1000, func() { d += 977; h.Record(d) }); allocs != 0 {
		t.Errorf("%v allocations per Record", allocs)
	}
}

func BenchmarkHistogram_RecordParallel(b *testing.B) {
	var h latency.Histogram
	b.RunParallel(func(pb *testing.PB) {
		d := time.Duration(20_000)
		for pb.Next() {
			h.Record(d)
			d = d*7%1_000_000 + 10_000
		}
	})
}
