package e2e

import (
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
	t.Cleanup(run)
}
