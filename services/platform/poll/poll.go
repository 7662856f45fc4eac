// Package poll waits in tests for a condition to hold, polling it instead
// of sleeping a fixed time, so a test waits no longer than it must and a
// bug fails it instead of hanging it.
package poll

import (
	"testing"
	"time"
)

// interval is how often Until checks its condition: short beside any wait
// a test has, long enough not to busy-loop.
const interval = 10 * time.Millisecond

// Until checks cond until it holds and fails the test if it still does not
// after timeout; what says in the failure what was awaited.
func Until(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		<-tick.C
	}
}
