package tests_test

// The fault drivers tcp-echo, udp-responder and http-hello share: a crash
// and the restart after it, and SIGTERM under load, where one driver runs
// the load around the signal and the two TCP services tally what became of
// each request the same way.
//
// Lines starting with "FIGURE" are the measured results, one per line with
// key=value fields, collected for docs/reliability.md.

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlab/netlab/tests/e2e"
)

// runCrashRecovers runs the subtest "crash is restarted and serves again":
// it kills the service's process as a crash would, waits until its restart
// policy has it healthy again, and then requires that it serves (the host
// port may change with the new start; the container's address does not).
func runCrashRecovers(t *testing.T, svc *e2e.Service, serves func(t *testing.T)) {
	t.Run("crash is restarted and serves again", func(t *testing.T) {
		took := e2e.CrashAndRecover(t, svc.Container())
		serves(t)
		t.Logf("FIGURE restart %s healthy_after=%s", svc.Name, took.Round(10*time.Millisecond))
	})
}

// exitWithin bounds how long a service may take to exit after SIGTERM.
const exitWithin = 30 * time.Second

// loadPlan says how the load runs around the signal.
type loadPlan struct {
	// warmup is how long the load runs before the signal: load, not
	// readiness (the stack is healthy already).
	warmup time.Duration
	// drain is how long the load may go on after the signal; it ends
	// sooner once every worker has ended by itself.
	drain time.Duration
	// untilExit keeps the load up until the service has exited, in place
	// of drain.
	untilExit bool
}

// worker is one goroutine of load: it runs until stop is closed or it ends
// by itself.
type worker func(stop <-chan struct{})

// stopped reports whether stop is closed.
func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// loadUntilSIGTERM runs the workers, sends SIGTERM to the service after the
// warm-up, ends the load as plan says and requires the service to exit 0.
// It returns when the signal was sent.
func loadUntilSIGTERM(t *testing.T, svc *e2e.Service, plan loadPlan, workers ...worker) time.Time {
	t.Helper()
	ctr := svc.Container()
	stop := make(chan struct{})
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w(stop) })
	}
	go func() { wg.Wait(); close(done) }()
	var stopOnce sync.Once
	end := func() { stopOnce.Do(func() { close(stop) }); <-done }
	defer end() // also when the test fails before the load has ended

	time.Sleep(plan.warmup)
	sigAt := e2e.SendSIGTERM(t, ctr)
	if plan.untilExit {
		e2e.RequireExitedZero(t, ctr, exitWithin)
		end()
		return sigAt
	}
	select {
	case <-done:
	case <-time.After(plan.drain):
	}
	end()
	e2e.RequireExitedZero(t, ctr, exitWithin)
	return sigAt
}

// reqOutcome is what became of one request (tcp-echo and http-hello).
type reqOutcome int

const (
	// answered: the full reply came back, and it was right.
	reqAnswered reqOutcome = iota
	// cleanClose: the connection ended (end of stream, reset or refused)
	// before any byte of the reply. Acceptable only if the server never
	// accepted (or handled) it; the server's log decides that.
	reqCleanClose
	// lost: a partial or wrong reply, a timeout, or any other failure.
	reqLost
)

// request records one request of the load.
type request struct {
	local   string // the client's address, as the server logs it
	path    string // the HTTP path; empty for tcp-echo
	wroteAt time.Time
	outcome reqOutcome
	err     error
}

// requestLog collects the requests of the load's workers.
type requestLog struct {
	mu       sync.Mutex
	requests []request
}

func (l *requestLog) add(r request) {
	l.mu.Lock()
	l.requests = append(l.requests, r)
	l.mu.Unlock()
}

// tcpLoad is what the loads of the TCP services share: the address their
// connections go to, what became of each request, and the dials refused.
type tcpLoad struct {
	addr    string
	log     requestLog
	refused atomic.Int64 // dials refused after the signal: nothing sent
}

// dial opens a connection of the load; a refusal (the listener is closed:
// nothing sent) is counted, any other failure recorded as lost.
func (l *tcpLoad) dial(ctx context.Context) (net.Conn, bool) {
	c, err := e2e.DialWithin(ctx, l.addr, 2*time.Second)
	switch {
	case e2e.IsRefused(err):
		l.refused.Add(1)
		return nil, false
	case err != nil:
		l.log.add(request{wroteAt: time.Now(), outcome: reqLost, err: err})
		return nil, false
	}
	return c, true
}

// tally counts the requests written before and after the signal by outcome.
// served says why a request that saw a clean close was in fact accepted or
// handled by the server (then it is lost), or nil. It returns up to ten
// lost requests, described.
func (l *requestLog) tally(sigAt time.Time, served func(request) error) (before, after tally, failures []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.requests {
		if r.outcome == reqCleanClose {
			if err := served(r); err != nil {
				r.outcome, r.err = reqLost, fmt.Errorf("%w, but %w", r.err, err)
			}
		}
		when := "after"
		if r.wroteAt.Before(sigAt) {
			before.add(r.outcome)
			when = "before"
		} else {
			after.add(r.outcome)
		}
		if r.outcome == reqLost && len(failures) < 10 {
			failures = append(failures, strings.TrimSpace(fmt.Sprintf("%s %s", r.local, r.path))+
				fmt.Sprintf(" (written %s the signal): %v", when, r.err))
		}
	}
	return before, after, failures
}

// tally counts requests by outcome, for those written before the signal
// and those written after it.
type tally struct {
	sent, answered, cleanClose, lost int
}

func (t *tally) add(o reqOutcome) {
	t.sent++
	switch o {
	case reqAnswered:
		t.answered++
	case reqCleanClose:
		t.cleanClose++
	case reqLost:
		t.lost++
	}
}

// reportSIGTERM logs the FIGURE line of service and fails t for every lost
// or miscounted request, and unless every request written before the signal
// was answered or cleanly closed.
func reportSIGTERM(t *testing.T, service string, before, after tally, refusedDials int64, failures []string) {
	t.Helper()
	t.Logf("FIGURE sigterm %s sent=%d answered=%d clean_close=%d lost=%d sent_after=%d answered_after=%d clean_close_after=%d lost_after=%d refused_dials=%d",
		service, before.sent, before.answered, before.cleanClose, before.lost,
		after.sent, after.answered, after.cleanClose, after.lost, refusedDials)
	if len(failures) > 0 {
		t.Errorf("lost or miscounted requests:\n%s", strings.Join(failures, "\n"))
	}
	if before.sent == 0 {
		t.Error("no request was written before the signal")
	}
	if before.lost+after.lost > 0 || before.answered+before.cleanClose != before.sent {
		t.Errorf("written before the signal: %d, answered %d, clean closes %d, lost %d; after it: %d lost",
			before.sent, before.answered, before.cleanClose, before.lost, after.lost)
	}
}
