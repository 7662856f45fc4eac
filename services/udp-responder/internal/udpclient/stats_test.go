package udpclient_test

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/latency"
	"github.com/netlab/netlab/services/udp-responder/internal/udpclient"
)

const us = time.Microsecond

// event is one step of a crafted probe run.
type event struct {
	kind string // "sent", "unsent", "reply", "corrupt", "foreign"
	flow int
	seq  uint64
	at   time.Duration
	want udpclient.Outcome // for "reply"
}

func sent(seq uint64, at time.Duration) event { return event{kind: "sent", seq: seq, at: at} }
func reply(seq uint64, at time.Duration, want udpclient.Outcome) event {
	return event{kind: "reply", seq: seq, at: at, want: want}
}
func replyOn(flow int, seq uint64, at time.Duration, want udpclient.Outcome) event {
	return event{kind: "reply", flow: flow, seq: seq, at: at, want: want}
}

// sentEvery sends seqs 0..n-1, one every 10µs from 0.
func sentEvery(n int) []event {
	var ev []event
	for i := range n {
		ev = append(ev, sent(uint64(i), time.Duration(i)*10*us))
	}
	return ev
}

func play(t *testing.T, count, flows int, events []event) udpclient.Stats {
	t.Helper()
	r := udpclient.NewRecorder(count, flows)
	for i, e := range events {
		switch e.kind {
		case "sent":
			r.Sent(e.seq, e.at)
		case "unsent":
			r.Unsent(e.seq)
		case "reply":
			if got := r.Reply(e.flow, e.seq, e.at); got != e.want {
				t.Errorf("event %d: reply seq %d on flow %d: %v, want %v", i, e.seq, e.flow, got, e.want)
			}
		case "corrupt":
			r.Corrupted()
		case "foreign":
			r.Foreign()
		default:
			t.Fatalf("bad event kind %q", e.kind)
		}
	}
	return r.Stats()
}

func TestRecorder_Counts(t *testing.T) {
	const (
		in  = udpclient.InOrder
		re  = udpclient.Reordered
		dup = udpclient.Duplicate
		un  = udpclient.Unexpected
	)
	tests := []struct {
		name   string
		count  int
		flows  int
		events []event
		want   udpclient.Stats // RTT and Jitter not compared
	}{
		{
			name: "in order", count: 5, flows: 1,
			events: append(sentEvery(5),
				reply(0, 100*us, in), reply(1, 110*us, in), reply(2, 120*us, in), reply(3, 130*us, in), reply(4, 140*us, in)),
			want: udpclient.Stats{Sent: 5, Received: 5},
		},
		{
			name: "loss", count: 5, flows: 1,
			events: append(sentEvery(5), reply(0, 100*us, in), reply(1, 110*us, in), reply(3, 130*us, in)),
			want:   udpclient.Stats{Sent: 5, Received: 3, Lost: 2, LossPercent: 40},
		},
		{
			name: "nothing back", count: 4, flows: 1,
			events: sentEvery(4),
			want:   udpclient.Stats{Sent: 4, Lost: 4, LossPercent: 100},
		},
		{
			name: "nothing sent", count: 4, flows: 1,
			want: udpclient.Stats{},
		},
		{
			name: "one swap", count: 4, flows: 1,
			events: append(sentEvery(4), reply(0, 100*us, in), reply(2, 110*us, in), reply(1, 120*us, re), reply(3, 130*us, in)),
			want:   udpclient.Stats{Sent: 4, Received: 4, Reordered: 1, ReorderExtentMax: 1},
		},
		{
			name: "last first", count: 4, flows: 1,
			events: append(sentEvery(4), reply(3, 100*us, in), reply(0, 110*us, re), reply(1, 120*us, re), reply(2, 130*us, re)),
			want:   udpclient.Stats{Sent: 4, Received: 4, Reordered: 3, ReorderExtentMax: 3},
		},
		{
			name: "reordered and lost", count: 4, flows: 1,
			events: append(sentEvery(4), reply(2, 100*us, in), reply(0, 110*us, re)),
			want:   udpclient.Stats{Sent: 4, Received: 2, Lost: 2, LossPercent: 50, Reordered: 1, ReorderExtentMax: 1},
		},
		{
			name: "order is per flow", count: 4, flows: 2,
			events: append(sentEvery(4),
				replyOn(0, 0, 100*us, in), replyOn(0, 2, 110*us, in), replyOn(1, 1, 120*us, in), replyOn(1, 3, 130*us, in)),
			want: udpclient.Stats{Sent: 4, Received: 4},
		},
		{
			name: "duplicates", count: 3, flows: 1,
			events: append(sentEvery(3),
				reply(0, 100*us, in), reply(1, 110*us, in), reply(1, 111*us, dup), reply(2, 120*us, in), reply(1, 130*us, dup)),
			want: udpclient.Stats{Sent: 3, Received: 3, Duplicated: 2},
		},
		{
			name: "a duplicate is not a reorder", count: 3, flows: 1,
			events: append(sentEvery(3), reply(0, 100*us, in), reply(2, 110*us, in), reply(0, 120*us, dup)),
			want:   udpclient.Stats{Sent: 3, Received: 2, Lost: 1, LossPercent: 100.0 / 3, Duplicated: 1},
		},
		{
			name: "corrupted", count: 3, flows: 1,
			events: append(sentEvery(3), reply(0, 100*us, in), event{kind: "corrupt"}, reply(2, 120*us, in), event{kind: "corrupt"}),
			want:   udpclient.Stats{Sent: 3, Received: 2, Lost: 1, LossPercent: 100.0 / 3, Corrupted: 2},
		},
		{
			name: "foreign", count: 3, flows: 1,
			events: []event{
				sent(0, 0), sent(1, 10*us),
				reply(2, 50*us, un), // never sent
				reply(3, 60*us, un), // beyond the count
				reply(1<<63, 60*us, un),
				{kind: "foreign"},
				reply(0, 100*us, in), reply(1, 110*us, in),
			},
			want: udpclient.Stats{Sent: 2, Received: 2, Foreign: 4},
		},
		{
			name: "unsent", count: 3, flows: 1,
			events: append(sentEvery(3), event{kind: "unsent", seq: 1}, event{kind: "unsent", seq: 1}, event{kind: "unsent", seq: 7},
				reply(0, 100*us, in), reply(1, 110*us, un), reply(2, 120*us, in)),
			want: udpclient.Stats{Sent: 2, Received: 2, Foreign: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := play(t, tt.count, tt.flows, tt.events)
			got.RTT, got.Jitter = latency.Stats{}, 0
			if got != tt.want {
				t.Errorf("stats\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestRecorder_Jitter(t *testing.T) {
	tests := []struct {
		name   string
		flows  int
		events []event
		want   time.Duration
	}{
		{
			name:   "constant transit",
			flows:  1,
			events: append(sentEvery(4), reply(0, 100*us, 0), reply(1, 110*us, 0), reply(2, 120*us, 0), reply(3, 130*us, 0)),
			want:   0,
		},
		{
			name:  "one reply",
			flows: 1,
			// A single reply gives no transit difference.
			events: []event{sent(0, 0), reply(0, 500*us, 0)},
			want:   0,
		},
		{
			// Transit times 100, 120, 110, 150µs: D = 20, 10, 40µs.
			// J = 0 + (20000 - 0)/16           = 1250
			// J = 1250 + (10000 - 1250)/16     = 1796.875
			// J = 1796.875 + (40000 - 1796.875)/16 = 4184.5703125 -> 4185ns
			name:  "hand computed",
			flows: 1,
			events: append(sentEvery(4),
				reply(0, 100*us, 0), reply(1, 130*us, 0), reply(2, 130*us, 0), reply(3, 180*us, 0)),
			want: 4185,
		},
		{
			// Arrival order, not seq order: transits in arrival order are
			// seq 1: 120, seq 0: 140, seq 2: 100µs: D = 20, 40µs.
			// J = 1250; J = 1250 + (40000-1250)/16 = 3671.875 -> 3672ns
			name:  "arrival order",
			flows: 1,
			events: append(sentEvery(3),
				reply(1, 130*us, 0), reply(0, 140*us, udpclient.Reordered), reply(2, 120*us, 0)),
			want: 3672,
		},
		{
			// Duplicates and unknown seqs do not count: only 100 then 120µs.
			name:  "duplicates ignored",
			flows: 1,
			events: append(sentEvery(2),
				reply(0, 100*us, 0), reply(0, 900*us, udpclient.Duplicate), reply(5, 1, udpclient.Unexpected), reply(1, 130*us, 0)),
			want: 1250,
		},
		{
			// Flow 0: transits 100, 120 -> 1250 (1 update). Flow 1: 100,
			// 140, 100 -> 2500, then 2500 + (40000-2500)/16 = 4843.75 (2
			// updates). Weighted: (1250 + 2*4843.75) / 3 = 3645.833 -> 3646ns.
			name:  "flows weighted",
			flows: 2,
			events: append(sentEvery(5),
				replyOn(0, 0, 100*us, 0), replyOn(1, 1, 110*us, 0), replyOn(0, 2, 140*us, 0),
				replyOn(1, 3, 170*us, 0), replyOn(1, 4, 140*us, 0)),
			want: 3646,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := play(t, 8, tt.flows, tt.events).Jitter; got != tt.want {
				t.Errorf("jitter %d ns, want %d ns", got, tt.want)
			}
		})
	}
}

func TestRecorder_RTT(t *testing.T) {
	// seqs sent at 0 and answered after rtts[i].
	run := func(rtts ...time.Duration) latency.Stats {
		r := udpclient.NewRecorder(len(rtts), 1)
		for i := range rtts {
			r.Sent(uint64(i), time.Duration(i)*time.Millisecond)
		}
		// Answer in reverse: the order of arrival does not matter.
		for i := len(rtts) - 1; i >= 0; i-- {
			r.Reply(0, uint64(i), time.Duration(i)*time.Millisecond+rtts[i])
		}
		return r.Stats().RTT
	}
	oneToHundred := make([]time.Duration, 100)
	for i := range oneToHundred {
		oneToHundred[i] = time.Duration(i+1) * us
	}
	tests := []struct {
		name string
		rtts []time.Duration
		want latency.Stats // percentiles within the histogram's 0.4%
	}{
		{"none", nil, latency.Stats{}},
		{"one", []time.Duration{7 * us}, latency.Stats{N: 1, Min: 7 * us, Avg: 7 * us, P50: 7 * us, P90: 7 * us, P99: 7 * us, P999: 7 * us, Max: 7 * us}},
		{"1..100µs", oneToHundred, latency.Stats{N: 100, Min: us, Avg: 50500, P50: 50 * us, P90: 90 * us, P99: 99 * us, P999: 100 * us, Max: 100 * us}},
		{"1..10µs", oneToHundred[:10], latency.Stats{N: 10, Min: us, Avg: 5500, P50: 5 * us, P90: 9 * us, P99: 10 * us, P999: 10 * us, Max: 10 * us}},
		{"outlier", []time.Duration{100 * us, 100 * us, 100 * us, 5 * time.Millisecond},
			latency.Stats{N: 4, Min: 100 * us, Avg: 1325 * us, P50: 100 * us, P90: 5 * time.Millisecond, P99: 5 * time.Millisecond, P999: 5 * time.Millisecond, Max: 5 * time.Millisecond}},
		{"reply before send counts as zero", []time.Duration{-5 * us, 10 * us},
			latency.Stats{N: 2, Min: 0, Avg: 5 * us, P50: 0, P90: 10 * us, P99: 10 * us, P999: 10 * us, Max: 10 * us}},
	}
	near := func(got, want time.Duration) bool { return math.Abs(float64(got-want)) <= float64(want)/256 }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want := run(tt.rtts...), tt.want
			if got.N != want.N || got.Min != want.Min || got.Avg != want.Avg || got.Max != want.Max ||
				!near(got.P50, want.P50) || !near(got.P90, want.P90) || !near(got.P99, want.P99) || !near(got.P999, want.P999) {
				t.Errorf("rtt\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestRecorder_StatsTwice(t *testing.T) {
	r := udpclient.NewRecorder(3, 1)
	r.Sent(0, 0)
	r.Sent(1, 0)
	r.Reply(0, 1, 30*us)
	r.Reply(0, 0, 10*us)
	first, second := r.Stats(), r.Stats()
	if first != second || first.RTT.N != 2 || first.RTT.Max != 30*us {
		t.Errorf("Stats twice: %+v then %+v", first, second)
	}
}

func TestRecorder_Progress(t *testing.T) {
	r := udpclient.NewRecorder(10, 1)
	for i := range 4 {
		r.Sent(uint64(i), 0)
	}
	r.Reply(0, 1, us)
	r.Reply(0, 0, us)
	r.Reply(0, 0, us)
	r.Corrupted()
	r.Foreign()
	want := udpclient.Progress{Count: 10, Sent: 4, Received: 2, Reordered: 1, Duplicated: 1, Corrupted: 1, Foreign: 1}
	if got := r.Progress(); got != want || got.Unanswered() != 2 || r.Outstanding() != 2 {
		t.Errorf("Progress() = %+v (unanswered %d), want %+v", got, got.Unanswered(), want)
	}
}

// TestRecorder_Concurrent records from one sender goroutine per flow and
// one receiver per flow at once, as Client.Probe does; run with -race.
func TestRecorder_Concurrent(t *testing.T) {
	const flows, perFlow = 4, 2000
	r := udpclient.NewRecorder(flows*perFlow, flows)
	var wg sync.WaitGroup
	for f := range flows {
		ch := make(chan uint64, 64)
		wg.Go(func() {
			defer close(ch)
			for i := range perFlow {
				seq := uint64(i*flows + f)
				r.Sent(seq, time.Duration(seq))
				ch <- seq
			}
		})
		wg.Go(func() {
			for seq := range ch {
				r.Reply(f, seq, time.Duration(seq)+us)
				if seq%100 == 0 {
					r.Reply(f, seq, time.Duration(seq)+2*us) // a duplicate
				}
			}
		})
		wg.Go(func() { _ = r.Progress() })
	}
	wg.Wait()
	s := r.Stats()
	want := udpclient.Stats{Sent: flows * perFlow, Received: flows * perFlow, Duplicated: flows * perFlow / 100,
		RTT: latency.Stats{N: flows * perFlow, Min: us, Avg: us, P50: us, P90: us, P99: us, P999: us, Max: us}}
	if s != want {
		t.Errorf("stats\n got %+v\nwant %+v", s, want)
	}
}

func TestRecorder_RecordDoesNotAllocate(t *testing.T) {
	r := udpclient.NewRecorder(1000, 1)
	seq := uint64(0)
	allocs := testing.AllocsPerRun(500, func() {
		r.Sent(seq, time.Duration(seq))
		r.Reply(0, seq, time.Duration(seq)+us)
		seq++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per probe, want 0", allocs)
	}
}

func BenchmarkStats_Record(b *testing.B) {
	const size = 1 << 20
	r := udpclient.NewRecorder(size, 1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		seq := uint64(i % size)
		if seq == 0 && i > 0 {
			b.StopTimer()
			r = udpclient.NewRecorder(size, 1)
			b.StartTimer()
		}
		r.Sent(seq, time.Duration(i))
		r.Reply(0, seq, time.Duration(i)+50*us)
	}
}
