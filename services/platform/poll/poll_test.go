package poll_test

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/poll"
)

func TestUntil_ReturnsOnceTheConditionHolds(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	poll.Until(t, "the third call", 5*time.Second, func() bool { return calls.Add(1) == 3 })
	if got := calls.Load(); got != 3 {
		t.Errorf("cond called %d times, want 3", got)
	}
}

// fatal records a failure the way testing.T does: the message, then the
// end of the goroutine.
type fatal struct {
	testing.TB
	msg string
}

func (f *fatal) Helper() {}
func (f *fatal) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestUntil_FailsAfterTheTimeout(t *testing.T) {
	t.Parallel()
	f := &fatal{TB: t}
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		poll.Until(f, "never", 50*time.Millisecond, func() bool { return false })
	}()
	<-done
	if elapsed := time.Since(start); elapsed < 50*time.Millisecond {
		t.Errorf("gave up after %v, before the timeout", elapsed)
	}
	if want := "timed out after 50ms waiting for never"; f.msg != want {
		t.Errorf("failure %q, want %q", f.msg, want)
	}
}
