// Package lifecycletest serves a server in the background of a test, as
// lifecycle.Run would, and stops it at the end of the test. Start also
// builds it, from a server package's New.
package lifecycletest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

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

// Started is a server that Start built and serves, with the registry its
// metrics went to.
type Started[S lifecycle.Server] struct {
	*Serving
	Server   S
	Registry *prometheus.Registry
}

// Start builds a server with newServer (a server package's New) from cfg,
// a no-op logger and a fresh registry, and serves it as Serve does. A
// failing newServer fails the test.
func Start[C any, S lifecycle.Server](tb testing.TB, newServer func(C, *zap.Logger, prometheus.Registerer) (S, error), cfg C, wait time.Duration) *Started[S] {
	tb.Helper()
	srv, reg, err := Build(newServer, cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return &Started[S]{Serving: Serve(tb, srv, wait), Server: srv, Registry: reg}
}

// Build calls newServer with cfg, a no-op logger and a fresh registry, for
// tests of what New refuses and for Start.
func Build[C, S any](newServer func(C, *zap.Logger, prometheus.Registerer) (S, error), cfg C) (S, *prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	srv, err := newServer(cfg, zap.NewNop(), reg)
	return srv, reg, err
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
