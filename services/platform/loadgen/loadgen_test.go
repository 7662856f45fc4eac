package loadgen_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/loadgen"
	"github.com/netlab/netlab/services/platform/loadgen/loadgentest"
)

func newFakeClock() *loadgentest.Clock { return loadgentest.NewClock(time.Unix(1_000_000, 0)) }

// runOne drives tt with a single worker whose request number seq takes
// service(seq), and returns the slots it was given.
func runOne(ctx context.Context, clock *loadgentest.Clock, tt *loadgen.Timetable, service func(seq int64) time.Duration) []loadgen.Slot {
	var slots []loadgen.Slot
	for {
		s, ok := tt.Next(ctx)
		if !ok {
			return slots
		}
		slots = append(slots, s)
		clock.Advance(service(s.Seq))
		tt.Record(0, s, clock.Now())
	}
}

func constant(d time.Duration) func(int64) time.Duration {
	return func(int64) time.Duration { return d }
}

func TestOpenLoop_EveryRequestStartsAtItsSlot(t *testing.T) {
	clock := newFakeClock()
	tt := loadgen.New(clock, loadgen.Plan{Rate: 100, Count: 10})
	slots := runOne(context.Background(), clock, tt, constant(2*time.Millisecond))
	if len(slots) != 10 {
		t.Fatalf("%d requests, want 10", len(slots))
	}
	for k, s := range slots {
		want := tt.Started().Add(time.Duration(k) * 10 * time.Millisecond)
		if s.Seq != int64(k) || !s.Due.Equal(want) || !s.Start.Equal(want) {
			t.Errorf("request %d: seq %d due %v start %v, want both at %v", k, s.Seq, s.Due, s.Start, want)
		}
	}
	sum := tt.Summary()
	if sum.Scheduled != 10 || sum.Started != 10 || sum.Missed != 0 || sum.Late != 0 || !sum.KeptRate() {
		t.Errorf("summary %+v: want 10 scheduled and started, none missed or late", sum)
	}
	if sum.Latency.P50 != 2*time.Millisecond || sum.Uncorrected.Max != 2*time.Millisecond {
		t.Errorf("latency %v / uncorrected %v, want 2ms throughout", sum.Latency, sum.Uncorrected)
	}
}

// A server that takes 25ms per request against a 10ms timetable: request
// k starts at 25ms·k, 15ms·k late, and the ones due after the first 40
// never start within the second.
func TestOpenLoop_SlowServerAccountsLatenessAndMissedRequests(t *testing.T) {
	clock := newFakeClock()
	tt := loadgen.New(clock, loadgen.Plan{Rate: 100, Duration: time.Second})
	slots := runOne(context.Background(), clock, tt, constant(25*time.Millisecond))
	if len(slots) != 40 {
		t.Fatalf("%d requests started, want 40 (25ms each in 1s)", len(slots))
	}
	for k, s := range slots {
		if want := time.Duration(k) * 15 * time.Millisecond; s.Lateness() != want {
			t.Errorf("request %d late by %v, want %v", k, s.Lateness(), want)
		}
	}
	sum := tt.Summary()
	want := loadgen.Summary{Rate: 100, Elapsed: time.Second, Scheduled: 100, Started: 40, Missed: 60, Late: 39,
		LateAfter: loadgen.DefaultLateAfter, MaxLateness: 39 * 15 * time.Millisecond}
	sum.Latency, sum.Uncorrected = want.Latency, want.Uncorrected
	if sum != want {
		t.Errorf("summary\n %+v\nwant\n %+v", sum, want)
	}
	got := tt.Summary()
	// From the due time, request k took 25ms + 15ms·k: 610ms for the last.
	if !near(got.Latency.Max, 610*time.Millisecond) || !near(got.Uncorrected.Max, 25*time.Millisecond) {
		t.Errorf("max latency %v corrected, %v uncorrected; want 610ms and 25ms", got.Latency.Max, got.Uncorrected.Max)
	}
	if got.KeptRate() || !strings.Contains(got.String(), "could not keep it") {
		t.Errorf("summary %q: want it to say the rate was not kept", got)
	}
}

func TestClosedLoop_RequestsAreDueWhenAWorkerIsFree(t *testing.T) {
	clock := newFakeClock()
	tt := loadgen.New(clock, loadgen.Plan{Count: 5})
	slots := runOne(context.Background(), clock, tt, constant(3*time.Millisecond))
	for k, s := range slots {
		want := tt.Started().Add(time.Duration(k) * 3 * time.Millisecond)
		if !s.Due.Equal(s.Start) || !s.Start.Equal(want) {
			t.Errorf("request %d due %v start %v, want both %v", k, s.Due, s.Start, want)
		}
	}
	sum := tt.Summary()
	if sum.Started != 5 || sum.Scheduled != 5 || sum.Missed != 0 || !sum.KeptRate() || sum.JSON() != nil {
		t.Errorf("summary %+v: want 5 started, nothing missed, no schedule JSON", sum)
	}
	if sum.Latency != sum.Uncorrected || sum.Latency.P99 != 3*time.Millisecond {
		t.Errorf("latency %v, uncorrected %v: want both 3ms", sum.Latency, sum.Uncorrected)
	}
}

// A 1s stall in the middle of a 5s run at 1000/s: the open loop's p99
// shows it, because the ~1000 requests due during the stall wait for it;
// the closed loop sent none of them and its p99 stays at the service time.
func TestCoordinatedOmission_OpenLoopSeesTheStallClosedLoopHides(t *testing.T) {
	stallAt := 2500 * time.Millisecond
	for _, c := range []struct {
		name    string
		rate    float64
		wantP99 func(time.Duration) bool
	}{
		{"open loop", 1000, func(p99 time.Duration) bool { return p99 >= 500*time.Millisecond }},
		{"closed loop", 0, func(p99 time.Duration) bool { return p99 < time.Millisecond }},
	} {
		t.Run(c.name, func(t *testing.T) {
			clock := newFakeClock()
			tt := loadgen.New(clock, loadgen.Plan{Rate: c.rate, Duration: 5 * time.Second})
			stalled := false
			runOne(context.Background(), clock, tt, func(int64) time.Duration {
				if !stalled && clock.Now().Sub(tt.Started()) >= stallAt {
					stalled = true
					return time.Second
				}
				return 100 * time.Microsecond
			})
			sum := tt.Summary()
			if !c.wantP99(sum.Latency.P99) {
				t.Errorf("p99 %v (uncorrected %v) over %d requests", sum.Latency.P99, sum.Uncorrected.P99, sum.Latency.N)
			}
			if sum.Uncorrected.P99 >= time.Millisecond {
				t.Errorf("uncorrected p99 %v: want the service time, the stall being one request", sum.Uncorrected.P99)
			}
		})
	}
}

func TestNext_StopsAtTheFirstBound(t *testing.T) {
	for _, c := range []struct {
		name string
		plan loadgen.Plan
		want int
	}{
		{"count first", loadgen.Plan{Rate: 1000, Count: 7, Duration: time.Second}, 7},
		{"duration first", loadgen.Plan{Rate: 1000, Count: 5000, Duration: 20 * time.Millisecond}, 20},
		{"closed loop by duration", loadgen.Plan{Duration: 10 * time.Millisecond}, 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			clock := newFakeClock()
			tt := loadgen.New(clock, c.plan)
			if n := len(runOne(context.Background(), clock, tt, constant(time.Millisecond))); n != c.want {
				t.Errorf("%d requests, want %d", n, c.want)
			}
		})
	}
}

func TestStop_RequestsDueAfterTheStopAreNotMissed(t *testing.T) {
	clock := newFakeClock()
	tt := loadgen.New(clock, loadgen.Plan{Rate: 1000, Duration: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	runOne(ctx, clock, tt, func(seq int64) time.Duration {
		if seq == 99 {
			tt.Stop()
			cancel()
		}
		return 0
	})
	sum := tt.Summary()
	if sum.Started != 100 || sum.Scheduled != 100 || sum.Missed != 0 {
		t.Errorf("summary %+v: want 100 started and scheduled before the stop, none missed", sum)
	}
}

// With the wall clock and several workers, every request of the
// timetable is handed out exactly once.
func TestNext_WorkersShareOneTimetable(t *testing.T) {
	tt := loadgen.New(loadgen.Wall, loadgen.Plan{Rate: 20_000, Count: 400})
	seen := make([]int, 400)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for {
				s, ok := tt.Next(context.Background())
				if !ok {
					return
				}
				mu.Lock()
				seen[s.Seq]++
				mu.Unlock()
				tt.Record(w, s, time.Now())
			}
		})
	}
	wg.Wait()
	for seq, n := range seen {
		if n != 1 {
			t.Errorf("request %d handed out %d times", seq, n)
		}
	}
	if sum := tt.Summary(); sum.Started != 400 || sum.Latency.N != 400 {
		t.Errorf("summary %+v: want 400 started and recorded", sum)
	}
}

func TestPlanValidate_NamesTheField(t *testing.T) {
	for _, c := range []struct {
		plan loadgen.Plan
		want string
	}{
		{loadgen.Plan{Rate: -1, Count: 1}, "rate"},
		{loadgen.Plan{Rate: loadgen.MaxRate + 1, Count: 1}, "rate"},
		{loadgen.Plan{Count: -1}, "count"},
		{loadgen.Plan{Duration: -time.Second}, "duration"},
		{loadgen.Plan{Duration: 25 * time.Hour}, "duration"},
		{loadgen.Plan{}, "count or duration"},
		{loadgen.Plan{Count: 1, LateAfter: -1}, "late-after"},
	} {
		err := c.plan.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one about %s", c.plan, err, c.want)
		}
	}
	if err := (loadgen.Plan{Rate: 10, Duration: time.Second}).Validate(); err != nil {
		t.Errorf("valid plan refused: %v", err)
	}
}

// near: within the histogram's 0.4%.
func near(got, want time.Duration) bool {
	diff := got - want
	return diff < want/250 && -diff < want/250
}
