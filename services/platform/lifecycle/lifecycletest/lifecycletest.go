// Package lifecycletest serves a server in the background of a test, as
// lifecycle.Run would, and stops it at the end of the test.
package lifecycletest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/lifecycle"
)

// Serving is a server serving in the background of a test.
type Serving struct {
	stop context.CancelFunc
	done chan struct{}
	err  error // what Serve returned, once done is closed
}

// Serve runs srv.Serve until Stop or the end of the test. At the end it
// stops the server and fails the test unless Serve returns nil within
// wait.
func Serve(tb testing.TB, srv lifecycle.Server, wait time.Duration) *Serving {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Serving{stop: cancel, done: make(chan struct{})}
	go func() {
		s.err = srv.Serve(ctx)
		close(s.done)
	}()
	tb.Cleanup(func() {
		cancel()
		if err := s.Wait(wait); err != nil {
			tb.Errorf("at the end of the test: %v", err)
		}
	})
	return s
}

// Stop cancels Serve's context, as a signal does: the server starts
// shutting down.
func (s *Serving) Stop() { s.stop() }

// Done is closed once Serve has returned.
func (s *Serving) Done() <-chan struct{} { return s.done }

// Wait waits up to d for Serve to return, and returns its error or one
// saying it did not return.
func (s *Serving) Wait(d time.Duration) error {
	select {
	case <-s.done:
		if s.err != nil {
			return fmt.Errorf("serve: %w", s.err)
		}
		return nil
	case <-time.After(d):
		return fmt.Errorf("serve did not return within %v", d)
	}
}
