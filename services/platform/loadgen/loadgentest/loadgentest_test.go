package loadgentest_test

import (
	"context"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/loadgen"
	"github.com/netlab/netlab/services/platform/loadgen/loadgentest"
)

var _ loadgen.Clock = (*loadgentest.Clock)(nil)

func TestClock_MovesOnlyWhenTold(t *testing.T) {
	start := time.Unix(1_000_000, 0)
	c := loadgentest.NewClock(start)
	if !c.SleepUntil(t.Context(), start.Add(5*time.Second)) || !c.Now().Equal(start.Add(5*time.Second)) {
		t.Fatalf("after a sleep to +5s: %v", c.Now().Sub(start))
	}
	// A time already past leaves the clock where it is.
	c.SleepUntil(t.Context(), start.Add(time.Second))
	c.Advance(2 * time.Second)
	if got := c.Now().Sub(start); got != 7*time.Second {
		t.Errorf("after +2s of work: %v, want 7s", got)
	}
	c.Set(start)
	if !c.Now().Equal(start) {
		t.Errorf("after Set: %v", c.Now())
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if c.SleepUntil(ctx, start.Add(time.Minute)) {
		t.Error("SleepUntil with an ended context reported true")
	}
}
