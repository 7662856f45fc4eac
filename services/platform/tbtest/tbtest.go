// Package tbtest is a testing.TB for the tests of test helpers: it keeps
// what a helper reports, so that the test can check it, instead of
// failing that test.
package tbtest

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// Recorder hands everything to the TB it wraps except failures and
// cleanups: Error, Errorf, Fatal and Fatalf keep their message, and the
// last two then end the goroutine, as testing.T's do (run the helper
// with Run); Cleanup keeps its function for RunCleanups.
type Recorder struct {
	testing.TB
	mu       sync.Mutex
	msgs     []string
	cleanups []func()
}

// New returns a Recorder wrapping tb.
func New(tb testing.TB) *Recorder { return &Recorder{TB: tb} }

// Report runs check with a new Recorder wrapping tb, as Run does, and
// returns what check reported.
func Report(tb testing.TB, check func(tb testing.TB)) []string {
	r := New(tb)
	r.Run(func() { check(r) })
	return r.Messages()
}

// Run calls f on a goroutine of its own, so that a Fatal ends f only, and
// waits for it.
func (r *Recorder) Run(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

// Helper marks nothing: the helper's lines are not the test's.
func (r *Recorder) Helper() {}

// Errorf keeps the message.
func (r *Recorder) Errorf(format string, args ...any) { r.keep(fmt.Sprintf(format, args...)) }

// Error keeps the message.
func (r *Recorder) Error(args ...any) { r.keep(fmt.Sprint(args...)) }

// Fatalf keeps the message and ends the goroutine.
func (r *Recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

// Fatal keeps the message and ends the goroutine.
func (r *Recorder) Fatal(args ...any) {
	r.Error(args...)
	runtime.Goexit()
}

// Failed reports whether anything was reported.
func (r *Recorder) Failed() bool { return len(r.Messages()) > 0 }

// Messages returns what was reported, in order.
func (r *Recorder) Messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

// Cleanup keeps f for RunCleanups.
func (r *Recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

// RunCleanups calls the kept cleanups, the last one first, as the end of
// a test does.
func (r *Recorder) RunCleanups() {
	r.mu.Lock()
	fs := r.cleanups
	r.cleanups = nil
	r.mu.Unlock()
	for _, f := range slices.Backward(fs) {
		f()
	}
}

func (r *Recorder) keep(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, msg)
}
