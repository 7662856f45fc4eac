package poll_test

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/poll"
	"github.com/netlab/netlab/services/platform/tbtest"
)

func TestUntil_ReturnsOnceTheConditionHolds(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	poll.Until(t, "the third call", 5*time.Second, func() bool { return calls.Add(1) == 3 })
	if got := calls.Load(); got != 3 {
		t.Errorf("cond called %d times, want 3", got)
	}
}

func TestUntil_FailsAfterTheTimeout(t *testing.T) {
	t.Parallel()
	start := time.Now()
	msgs := tbtest.Report(t, func(tb testing.TB) {
		poll.Until(tb, "never", 50*time.Millisecond, func() bool { return false })
	})
	if elapsed := time.Since(start); elapsed < 50*time.Millisecond {
		t.Errorf("gave up after %v, before the timeout", elapsed)
	}
	if want := []string{"timed out after 50ms waiting for never"}; !slices.Equal(msgs, want) {
		t.Errorf("failures %q, want %q", msgs, want)
	}
}
