package clientcli_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/latency"
)

// fakeWorkload is a workload's counters and latencies, sampled the way a
// client samples its run.
type fakeWorkload struct {
	ops, errs atomic.Int64
	hist      latency.Histogram
}

// sample counts every operation as sent, with 64 bytes.
func (r *fakeWorkload) sample() clientcli.Totals {
	var snap latency.Snapshot
	snap.Add(&r.hist)
	n := r.ops.Load()
	return clientcli.Totals{Sent: n, Ops: n, Bytes: 64 * n, Errors: r.errs.Load(), Latency: &snap}
}

// collector keeps the intervals a report emits and closes reached once it
// has kept n.
type collector struct {
	mu      sync.Mutex
	got     []clientcli.Interval
	n       int
	reached chan struct{}
}

func newCollector(n int) *collector { return &collector{n: n, reached: make(chan struct{})} }

func (c *collector) emit(iv clientcli.Interval) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.got = append(c.got, iv); len(c.got) == c.n {
		close(c.reached)
	}
}

// TestReporting_IntervalsAddUpToTheRun runs a fake workload under a report
// every 5ms until 10 intervals were emitted, and checks that the intervals
// follow each other without gaps and add up to the run's final totals.
func TestReporting_IntervalsAddUpToTheRun(t *testing.T) {
	var run fakeWorkload
	c := newCollector(10)
	stop := clientcli.Reporting{Every: 5 * time.Millisecond, Emit: c.emit}.Start(run.sample)
	func() {
		for i := int64(1); ; i++ {
			select {
			case <-c.reached:
				return
			default:
			}
			run.hist.Record(time.Duration(i%1000) * time.Microsecond)
			run.ops.Add(1)
			if i%1000 == 0 {
				run.errs.Add(1)
			}
		}
	}()
	stop()
	stop() // a second stop does nothing

	total, got := run.sample(), c.got
	var (
		sum       clientcli.Totals
		end       time.Duration
		latencies int64
	)
	for i, iv := range got {
		if iv.Start != end || iv.End < iv.Start {
			t.Errorf("interval %d: %v-%v after one ending at %v", i, iv.Start, iv.End, end)
		}
		// The counters and the histogram are read one after the other
		// while the run goes on, so only their sums must agree.
		if iv.Bytes != 64*iv.Ops || iv.Sent != iv.Ops {
			t.Errorf("interval %d: %d ops, %d bytes, %d sent", i, iv.Ops, iv.Bytes, iv.Sent)
		}
		end = iv.End
		sum.Sent += iv.Sent
		sum.Ops += iv.Ops
		sum.Bytes += iv.Bytes
		sum.Errors += iv.Errors
		latencies += iv.Latency.N
	}
	if len(got) < 10 || sum.Ops != total.Ops || sum.Bytes != total.Bytes || sum.Errors != total.Errors ||
		latencies != total.Latency.Count() || total.Ops == 0 {
		t.Errorf("%d intervals summing to %+v and %d latencies, want at least 10 summing to %+v and %d",
			len(got), sum, latencies, total, total.Latency.Count())
	}
}

func TestReporting_Off(t *testing.T) {
	called := false
	stop := clientcli.Reporting{}.Start(func() clientcli.Totals { called = true; return clientcli.Totals{} })
	stop()
	if called {
		t.Error("a report with no interval sampled the run")
	}
}

// TestReporting_LastPartialInterval: a run shorter than one interval still
// gets one line, with everything it did.
func TestReporting_LastPartialInterval(t *testing.T) {
	var n atomic.Int64
	var got []clientcli.Interval
	stop := clientcli.Reporting{Every: time.Hour, Emit: func(iv clientcli.Interval) { got = append(got, iv) }}.
		Start(func() clientcli.Totals { return clientcli.Totals{Ops: n.Load(), Lost: 2 * n.Load()} })
	n.Store(5)
	stop()
	if len(got) != 1 || got[0].Ops != 5 || got[0].Lost != 10 || got[0].Latency.N != 0 {
		t.Errorf("intervals %+v, want one with 5 ops and 10 lost", got)
	}
}

// TestReporting_LastLatencies: a latency that reached the histogram only
// after its operation's counter was sampled still gets a last line, so the
// lines add up.
func TestReporting_LastLatencies(t *testing.T) {
	var run fakeWorkload
	c := newCollector(1)
	run.ops.Add(1) // counted before the report starts: in no line
	stop := clientcli.Reporting{Every: 5 * time.Millisecond, Emit: c.emit}.Start(run.sample)
	<-c.reached
	run.hist.Record(time.Millisecond) // its operation was counted long before
	stop()
	got := c.got
	var latencies int64
	for _, iv := range got {
		latencies += iv.Latency.N
	}
	if latencies != 1 {
		t.Errorf("intervals %+v hold %d latencies, want 1", got, latencies)
	}
}

func TestInterval_Write(t *testing.T) {
	iv := clientcli.Interval{Start: time.Second, End: 2 * time.Second, Sent: 10, Ops: 8, Bytes: 2_000_000, Lost: 2, Errors: 1,
		Latency: latency.Stats{N: 8, Min: 90 * time.Microsecond, Avg: 100 * time.Microsecond, P50: 92 * time.Microsecond,
			P90: 130 * time.Microsecond, P99: 260 * time.Microsecond, P999: 1100 * time.Microsecond, Max: 3100 * time.Microsecond}}
	var text bytes.Buffer
	if err := clientcli.Print(&text, false, iv); err != nil {
		t.Fatal(err)
	}
	want := "[   1.00-   2.00 s] 8 ops 8.0/s 2.00 MB/s 16.00 Mbit/s lost 2 errors 1 latency p50/p90/p99/p99.9/max = 92µs/130µs/260µs/1.1ms/3.1ms\n"
	if text.String() != want {
		t.Errorf("text %q\nwant %q", text.String(), want)
	}
	iv.Latency = latency.Stats{}
	text.Reset()
	_ = iv.WriteText(&text)
	if strings.Contains(text.String(), "latency") {
		t.Errorf("an interval without latencies prints some: %q", text.String())
	}

	var js bytes.Buffer
	if err := clientcli.Print(&js, true, iv); err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(js.Bytes(), &v); err != nil || bytes.Count(js.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("not one JSON line (%v): %s", err, js.String())
	}
	for key, want := range map[string]any{"type": "interval", "start_s": 1.0, "end_s": 2.0, "sent": 10.0, "ops": 8.0,
		"ops_per_second": 8.0, "bytes": 2e6, "bytes_per_second": 2e6, "bits_per_second": 16e6, "lost": 2.0, "errors": 1.0} {
		if v[key] != want {
			t.Errorf("%s = %v, want %v", key, v[key], want)
		}
	}
	if l, ok := v["latency"].(map[string]any); !ok || len(l) != 8 || l["n"] != 0.0 {
		t.Errorf("latency = %v, want the 8 latency keys", v["latency"])
	}
}

func TestSyncWriter_KeepsWritesWhole(t *testing.T) {
	var buf bytes.Buffer
	w := clientcli.SyncWriter(&buf)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			line := strings.Repeat(string(rune('a'+g)), 100) + "\n"
			for range 200 {
				_, _ = w.Write([]byte(line))
			}
		})
	}
	wg.Wait()
	for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		if len(line) != 100 || strings.Count(line, line[:1]) != 100 {
			t.Fatalf("mixed line %q", line)
		}
	}
}
