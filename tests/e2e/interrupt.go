package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
)

// interrupted holds the cleanups that must run even when the test process
// is stopped by SIGINT or SIGTERM (Ctrl-C, a CI job cancelled), when
// t.Cleanup never runs: those that undo changes to the engine's global
// state, such as a swarm the test made.
var interrupted struct {
	mu    sync.Mutex
	fns   []func()
	start sync.Once
}

// CleanupEvenIfInterrupted registers f with t.Cleanup and also runs it if
// the process gets SIGINT or SIGTERM before t ends; then every such
// cleanup runs, the latest first, and the process exits with status 1.
// f runs once either way.
func CleanupEvenIfInterrupted(t testing.TB, f func()) {
	var once sync.Once
	run := func() { once.Do(f) }
	onInterrupt(run)
	t.Cleanup(run)
}

// atExit holds what RunAtExit runs once every test has ended.
var atExit struct {
	mu  sync.Mutex
	fns []func() error
}

// AtExitEvenIfInterrupted registers f to run after the last test, when
// TestMain calls RunAtExit, or on SIGINT or SIGTERM before that (as
// CleanupEvenIfInterrupted does). It is for a change to the engine that
// must outlive the test that made it: see RequireSwarm.
func AtExitEvenIfInterrupted(f func() error) {
	var once sync.Once
	var err error
	run := func() error {
		once.Do(func() { err = f() })
		return err
	}
	onInterrupt(func() {
		if err := run(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		}
	})
	atExit.mu.Lock()
	atExit.fns = append(atExit.fns, run)
	atExit.mu.Unlock()
}

// RunAtExit runs what AtExitEvenIfInterrupted registered, the latest
// first, and returns their errors joined.
func RunAtExit() error {
	atExit.mu.Lock()
	fns := atExit.fns
	atExit.fns = nil
	atExit.mu.Unlock()
	var errs []error
	for i := len(fns) - 1; i >= 0; i-- {
		errs = append(errs, fns[i]())
	}
	return errors.Join(errs...)
}

// onInterrupt adds run to what the signal handler runs, starting the
// handler on first use.
func onInterrupt(run func()) {
	interrupted.mu.Lock()
	interrupted.fns = append(interrupted.fns, run)
	interrupted.mu.Unlock()
	interrupted.start.Do(func() {
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		go func() {
			sig := <-sigs
			// A second signal gets the default action: the process ends.
			signal.Stop(sigs)
			fmt.Fprintf(os.Stderr, "e2e: %v: cleaning up what changes the engine before exiting\n", sig)
			interrupted.mu.Lock()
			fns := interrupted.fns
			interrupted.mu.Unlock()
			for i := len(fns) - 1; i >= 0; i-- {
				fns[i]()
			}
			os.Exit(1)
		}()
	})
}
