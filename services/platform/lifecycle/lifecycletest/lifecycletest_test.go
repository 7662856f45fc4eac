package lifecycletest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/lifecycle/lifecycletest"
)

// server serves until canceled, then returns err after delay.
type server struct {
	delay time.Duration
	err   error
}

func (s server) Serve(ctx context.Context) error {
	<-ctx.Done()
	time.Sleep(s.delay) // a drain that takes this long
	return s.err
}

func TestServing_StopAndWait(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	for _, tt := range []struct {
		name    string
		srv     server
		wait    time.Duration
		wantErr string
	}{
		{"returns nil", server{}, 5 * time.Second, ""},
		{"returns an error", server{err: boom}, 5 * time.Second, "serve: boom"},
		{"does not return in time", server{delay: time.Second}, 10 * time.Millisecond, "serve did not return within 10ms"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := lifecycletest.Serve(&fakeTB{TB: t}, tt.srv, 5*time.Second)
			select {
			case <-s.Done():
				t.Fatal("Serve returned before Stop")
			default:
			}
			s.Stop()
			err := s.Wait(tt.wait)
			if got := errString(err); got != tt.wantErr {
				t.Errorf("Wait = %q, want %q", got, tt.wantErr)
			}
		})
	}
}

// The end of the test stops the server and reports what Serve returned.
func TestServe_CleanupStopsTheServer(t *testing.T) {
	t.Parallel()
	tb := &fakeTB{TB: t}
	s := lifecycletest.Serve(tb, server{err: errors.New("boom")}, 5*time.Second)
	tb.cleanup()
	select {
	case <-s.Done():
	default:
		t.Fatal("Serve still running after the cleanup")
	}
	if want := []string{"at the end of the test: serve: boom"}; !slices.Equal(tb.errors, want) {
		t.Errorf("cleanup reported %q, want %q", tb.errors, want)
	}
}

// fakeTB keeps cleanups and errors, for the test to run and read.
type fakeTB struct {
	testing.TB
	cleanups []func()
	errors   []string
}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeTB) cleanup() {
	for _, fn := range slices.Backward(f.cleanups) {
		fn()
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
