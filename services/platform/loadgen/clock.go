package loadgen

import (
	"context"
	"time"

	"github.com/netlab/netlab/services/platform/lifecycle"
)

// Clock is the time a timetable keeps: the wall clock in a run, a fake one
// in tests, so that scheduling is tested without waiting.
type Clock interface {
	Now() time.Time
	// SleepUntil returns once t has come (true) or ctx has ended (false).
	SleepUntil(ctx context.Context, t time.Time) bool
}

// Wall is the real clock.
var Wall Clock = wall{}

type wall struct{}

func (wall) Now() time.Time { return time.Now() }

func (wall) SleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	return lifecycle.Sleep(ctx, d) == nil
}
