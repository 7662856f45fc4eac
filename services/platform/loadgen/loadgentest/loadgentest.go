// Package loadgentest is a fake loadgen.Clock for tests of code that keeps
// time with one: time moves only when the code sleeps or the test says
// so, so the tests check times exactly without waiting for them.
package loadgentest

import (
	"context"
	"sync"
	"time"
)

// Clock jumps to whatever time a sleeper waits for. Its methods may be
// called from several goroutines.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that reads start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// SleepUntil moves the clock to t, unless it is past t already, and
// reports whether ctx is still going.
func (c *Clock) SleepUntil(ctx context.Context, t time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
	return ctx.Err() == nil
}

// Advance moves the clock on by d, as time spent working would.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t, even backwards.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
