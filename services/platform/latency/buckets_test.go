package latency_test

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/latency"
)

func snapshotOf(samples []time.Duration) *latency.Snapshot {
	var h latency.Histogram
	for _, d := range samples {
		h.Record(d)
	}
	var s latency.Snapshot
	s.Add(&h)
	return &s
}

// A saved histogram reads back to the same snapshot, and merging two read
// back is the same as merging the originals: nothing is lost on the way.
func TestHistogramJSON_RoundTripAndMergeAreExact(t *testing.T) {
	sets := sampleSets()
	a, b := snapshotOf(sets["log-uniform"]), snapshotOf(sets["loopback"])
	var merged latency.Snapshot
	merged.Merge(a)
	merged.Merge(b)

	var fromFiles latency.Snapshot
	for _, s := range []*latency.Snapshot{a, b} {
		raw, err := json.Marshal(s.Histogram())
		if err != nil {
			t.Fatal(err)
		}
		var h latency.HistogramJSON
		if err := json.Unmarshal(raw, &h); err != nil {
			t.Fatal(err)
		}
		back, err := h.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if back.Stats() != s.Stats() {
			t.Errorf("read back %v, saved %v", back.Stats(), s.Stats())
		}
		fromFiles.Merge(back)
	}
	if fromFiles.Stats() != merged.Stats() {
		t.Errorf("merged from files %v, merged in memory %v", fromFiles.Stats(), merged.Stats())
	}
	if got, want := fromFiles.Histogram(), merged.Histogram(); !equalHist(got, want) {
		t.Error("merged buckets differ")
	}
}

func equalHist(a, b latency.HistogramJSON) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestHistogramJSON_RefusesWhatItDidNotWrite(t *testing.T) {
	good := snapshotOf([]time.Duration{100, 300 * time.Microsecond}).Histogram()
	for name, mutate := range map[string]func(*latency.HistogramJSON){
		"other scheme":   func(h *latency.HistogramJSON) { h.Scheme = "hdr" },
		"count mismatch": func(h *latency.HistogramJSON) { h.N++ },
		"not a bucket":   func(h *latency.HistogramJSON) { h.Buckets[1][1]++ },
		"zero count":     func(h *latency.HistogramJSON) { h.Buckets[0][2] = 0 },
		"min above max":  func(h *latency.HistogramJSON) { h.MinNs = h.MaxNs + 1 },
		"min below":      func(h *latency.HistogramJSON) { h.MinNs = 1 },
		"max beyond":     func(h *latency.HistogramJSON) { h.MaxNs = h.Buckets[1][1] },
		"out of order":   func(h *latency.HistogramJSON) { h.Buckets[0], h.Buckets[1] = h.Buckets[1], h.Buckets[0] },
		"count overflow": func(h *latency.HistogramJSON) { h.Buckets[0][2] = math.MaxInt64 },
		"no buckets":     func(h *latency.HistogramJSON) { h.Buckets = nil },
	} {
		h := good
		h.Buckets = [][3]int64{good.Buckets[0], good.Buckets[1]}
		mutate(&h)
		if _, err := h.Snapshot(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := good.Snapshot(); err != nil {
		t.Errorf("good histogram refused: %v", err)
	}
}

func TestSnapshot_WriteTextRowsCoverEveryValue(t *testing.T) {
	samples := []time.Duration{}
	for range 80 {
		samples = append(samples, 60*time.Microsecond)
	}
	for range 19 {
		samples = append(samples, 150*time.Microsecond)
	}
	samples = append(samples, 3*time.Millisecond)
	var out strings.Builder
	if err := snapshotOf(samples).WriteText(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, row := range []string{"50µs - 100µs", "100µs - 200µs", "2ms - 5ms"} {
		if !strings.Contains(text, row) {
			t.Errorf("no row %q in\n%s", row, text)
		}
	}
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	last := strings.Fields(lines[len(lines)-1])
	if !strings.HasPrefix(lines[0], "    50µs") || last[len(last)-2] != "100.0%" {
		t.Errorf("want rows from 50µs to a cumulative 100%%:\n%s", text)
	}
	if !strings.Contains(lines[0], " 80 ") || !strings.Contains(lines[0], strings.Repeat("#", 40)) {
		t.Errorf("first row should hold the 80 values with the longest bar:\n%s", text)
	}
}
