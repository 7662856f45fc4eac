package ratelimit

import (
	"context"
	"time"
)

// WithFakeClock makes l read time from now and record sleeps instead of
// sleeping.
func WithFakeClock(l *Limiter, now func() time.Time, slept *[]time.Duration) {
	l.now = now
	l.sleep = func(_ context.Context, d time.Duration) error {
		*slept = append(*slept, d)
		return nil
	}
}
