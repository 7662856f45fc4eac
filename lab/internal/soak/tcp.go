package soak

// The tcp phase holds tcp-echo at thousands of connections — most idle,
// some echoing in a loop — and checks that the server gives back its
// goroutines, files and memory once the clients leave.

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/netlab/netlab/lab/internal/proc"
)

// tcpSoak is the tcp phase. Go returns freed memory lazily — an idle
// server frees dead goroutines' stacks only at its next GC, the periodic
// one up to two minutes later — so resident memory is checked by a second
// phase, "tcp-rss", which runs after the others (see later).
type tcpSoak struct {
	conns  int           // connections held at once
	active int           // of those, how many echo in a loop
	hold   time.Duration // how long all of them stay open
	settle time.Duration // bound on the wait for goroutines and files to return to baseline
	// rssWait bounds the wait for memory, from the moment the clients
	// left; 0 skips it. Go frees dead goroutines' stacks at the next GC
	// and pooled echo buffers at the one after; an idle server's GCs are
	// the periodic ones, two minutes apart.
	rssWait time.Duration

	mem *memoryCheck // set by run for the tcp-rss phase
}

// msgSize is the size of each active connection's message.
const msgSize = 64

func (t *tcpSoak) describe() (string, string) {
	return "tcp", fmt.Sprintf("tcp-echo holding %d connections (%d idle, %d echoing %d-byte messages) for %s",
		t.conns, t.conns-t.active, t.active, msgSize, t.hold)
}

// later is the tcp-rss phase, when the first part ended with the server
// settled and the memory check wanted.
func (t *tcpSoak) later() phase {
	if t.mem == nil {
		return nil
	}
	return t.mem
}

func (t *tcpSoak) run(ctx context.Context, env Env, ph *Phase) error {
	srv, err := t.start(ctx, env, ph)
	if err != nil {
		return err
	}
	handedOver := false
	defer func() {
		if !handedOver {
			srv.Stop()
		}
	}()
	load, err := t.load(ctx, env, srv, ph)
	if err != nil {
		return err
	}
	t.check(ph, srv, load)
	mem, err := t.settleAfter(ctx, env, srv, load, ph)
	if err != nil {
		return err
	}
	if exited, exitErr := srv.Exited(); exited {
		return fmt.Errorf("tcp-echo exited during the soak: %v\n%s", exitErr, srv.Stderr())
	}
	if t.rssWait <= 0 {
		ph.Note("memory not checked after the clients left (-tcp-rss-wait 0)")
		return nil
	}
	t.mem, handedOver = mem, true
	return nil
}

// tcpServer is the tcp-echo a tcp phase runs, and its baseline.
type tcpServer struct {
	*proc.Proc
	addr    string
	metrics string
	base    Snapshot
}

// start runs tcp-echo with limits that stay out of the way and takes its
// baseline.
func (t *tcpSoak) start(ctx context.Context, env Env, ph *Phase) (*tcpServer, error) {
	addr, err := proc.FreeAddr()
	if err != nil {
		return nil, err
	}
	// The defaults would interfere with what is measured: MAX_CONNS is
	// exactly 10,000, and idle connections must outlive the hold.
	maxConns := t.conns + 1000
	idle := max(5*time.Minute, 2*t.hold+time.Minute)
	ph.Note("tcp-echo MAX_CONNS=%d (default 10000) so the soak's connections are not at the limit", maxConns)
	ph.Note("tcp-echo IDLE_TIMEOUT=%s so idle connections outlive the %s hold", idle, t.hold)
	p, admin, err := env.Procs.StartService(ctx, "tcp-echo", env.bin("tcp-echo"), addr,
		fmt.Sprintf("MAX_CONNS=%d", maxConns), "IDLE_TIMEOUT="+idle.String())
	if err != nil {
		return nil, err
	}
	srv := &tcpServer{Proc: p, addr: addr, metrics: admin + "/metrics"}
	// Baseline: a moment after readiness, so start-up goroutines are gone.
	proc.Sleep(ctx, 500*time.Millisecond)
	if srv.base, err = TakeSnapshot(ctx, srv.metrics); err != nil {
		p.Stop()
		return nil, err
	}
	ph.Add("baseline RSS", MiB(srv.base.RSS), "MiB")
	ph.Add("baseline goroutines", float64(srv.base.Goroutines), "")
	ph.Add("baseline open fds", float64(srv.base.FDs), "")
	return srv, nil
}

// tcpLoad is what the hold measured.
type tcpLoad struct {
	conns      []net.Conn
	idle       int // of conns, the silent ones
	idleAlive  int // idle connections that still echoed after the hold
	during     Snapshot
	peak       Snapshot
	scrapeErrs int
	echo       echoStats
}

// load opens every connection and holds them for the hold, the active
// ones echoing, then pings the idle ones. The connections stay open for
// settleAfter to close.
func (t *tcpSoak) load(ctx context.Context, env Env, srv *tcpServer, ph *Phase) (*tcpLoad, error) {
	sampler := StartSampler(ctx, srv.metrics, time.Second)
	defer sampler.Stop()
	fmt.Fprintf(env.Log, "tcp: opening %d connections to %s\n", t.conns, srv.addr)
	openStart := time.Now()
	conns, dialErrs := dialAll(ctx, srv.addr, t.conns)
	ph.Add("connections opened", float64(len(conns)), "")
	ph.Add("time to open them", time.Since(openStart).Seconds(), "s")
	ph.Check(AtMost("dial errors", float64(dialErrs), 0, ""))
	if len(conns) < t.conns {
		closeAll(conns)
		return nil, fmt.Errorf("opened %d of %d connections", len(conns), t.conns)
	}
	l := &tcpLoad{conns: conns, idle: len(conns) - t.active}
	// The active ones echo until the hold ends; the rest stay silent.
	holdCtx, stopEcho := context.WithTimeout(ctx, t.hold)
	defer stopEcho()
	var wg sync.WaitGroup
	for i, c := range conns[:t.active] {
		wg.Go(func() { echoLoop(holdCtx, c, i, &l.echo) })
	}
	fmt.Fprintf(env.Log, "tcp: holding %d connections for %s\n", len(conns), t.hold)
	<-holdCtx.Done()
	wg.Wait()
	var err error
	if err = ctx.Err(); err == nil {
		l.during, err = TakeSnapshot(ctx, srv.metrics)
	}
	if err != nil {
		closeAll(conns)
		return nil, err
	}
	// A silent connection the server had dropped would fail here.
	l.idleAlive = pingAll(ctx, conns[t.active:])
	series, scrapeErrs := sampler.Stop()
	l.peak, l.scrapeErrs = series.Peak(), scrapeErrs
	return l, nil
}

// check records what the hold measured and checks it.
func (t *tcpSoak) check(ph *Phase, srv *tcpServer, l *tcpLoad) {
	echoes := float64(l.echo.echoes.Load())
	ph.Add("peak RSS", MiB(l.peak.RSS), "MiB")
	ph.Add("peak goroutines", float64(l.peak.Goroutines), "")
	ph.Add("peak open fds", float64(l.peak.FDs), "")
	ph.Add("RSS per connection (peak-baseline)/conns", float64(l.peak.RSS-srv.base.RSS)/float64(t.conns)/1024, "KiB")
	ph.Add("server connections_active at end of hold", l.during.Metrics.Sum("netlab_tcp_echo_connections_active"), "")
	ph.Add("echo round trips (verified byte for byte)", echoes, "")
	ph.Add("echo round trips per second", echoes/t.hold.Seconds(), "/s")
	ph.Add("idle connections answering after the hold", float64(l.idleAlive), "")
	ph.Add("metric scrapes failed", float64(l.scrapeErrs), "")
	ph.Check(AtMost("echo errors (timeout, short, mismatch, reset)", float64(l.echo.errors.Load()), 0, ""))
	ph.Check(AtLeast("idle connections still open after the hold", float64(l.idleAlive), float64(l.idle), ""))
	ph.Check(AtMost("connections rejected by the server", l.during.Metrics.Sum("netlab_tcp_echo_connections_rejected_total"), 0, ""))
}

// settleAfter closes every connection and waits for the server to give
// back its goroutines and files. It returns the memory check for later.
func (t *tcpSoak) settleAfter(ctx context.Context, env Env, srv *tcpServer, l *tcpLoad, ph *Phase) (*memoryCheck, error) {
	closeAll(l.conns)
	fmt.Fprintf(env.Log, "tcp: closed every connection; waiting up to %s for the server to settle\n", t.settle)
	closed := time.Now()
	settled := func(now Snapshot) bool { return allOK(settleChecks(srv.base, now)) }
	after, settledIn, err := waitFor(ctx, srv.metrics, t.settle, 500*time.Millisecond, settled)
	if err != nil {
		return nil, err
	}
	ph.Add("goroutines after the clients left", float64(after.Goroutines), "")
	ph.Add("open fds after the clients left", float64(after.FDs), "")
	ph.Add("RSS right after the clients left (see tcp-rss)", MiB(after.RSS), "MiB")
	if settledIn >= 0 {
		ph.Add("time to settle", settledIn.Seconds(), "s")
	} else {
		ph.Add("time waited (did not settle)", time.Since(closed).Seconds(), "s")
	}
	ph.Add("server connections_active after", after.Metrics.Sum("netlab_tcp_echo_connections_active"), "")
	for _, c := range settleChecks(srv.base, after) {
		ph.Check(c)
	}
	return &memoryCheck{srv: srv, peak: l.peak, closed: closed, bound: t.rssWait,
		gcs: l.during.Metrics.Sum("go_gc_duration_seconds_count")}, nil
}

// rssSlack is what a settled server may keep above its baseline however
// small the run: the runtime's own bookkeeping grows with the goroutines
// it has seen (it never frees a goroutine's descriptor, only its stack),
// and the scavenger returns pages gradually.
const rssSlack = 32 << 20

// rssLimit is the resident memory a settled server may keep: within
// rssSlack of its baseline, or a quarter of what the connections added,
// whichever is more. A leak of per-connection state would keep nearly all
// of the growth; requiring three quarters back catches any leak above a
// quarter of a connection's cost.
func rssLimit(base, peak int64) int64 {
	return base + max(rssSlack, (peak-base)/4)
}

// settleChecks compares the server after the clients left with its
// baseline: goroutines, files and connections, which must come back at
// once (memory is checked later, by the tcp-rss phase).
func settleChecks(base, after Snapshot) []Check {
	return []Check{
		AtMost(fmt.Sprintf("goroutines back to baseline (+%d)", baselineSlack), float64(after.Goroutines), float64(base.Goroutines+baselineSlack), ""),
		AtMost(fmt.Sprintf("open fds back to baseline (+%d)", baselineSlack), float64(after.FDs), float64(base.FDs+baselineSlack), ""),
		AtMost("server connections_active after", after.Metrics.Sum("netlab_tcp_echo_connections_active"), 0, ""),
	}
}

func allOK(checks []Check) bool {
	for _, c := range checks {
		if !c.OK {
			return false
		}
	}
	return true
}

// memoryCheck is the tcp-rss phase: the server kept running after the
// clients left, until its memory is checked.
type memoryCheck struct {
	srv    *tcpServer
	peak   Snapshot
	closed time.Time     // when the clients left
	bound  time.Duration // from closed
	gcs    float64       // the server's GC count before they left
}

func (m *memoryCheck) describe() (string, string) {
	return "tcp-rss", "tcp-echo's resident memory once Go has collected the closed connections"
}

// run polls the server's resident memory until it is within rssLimit or
// the bound has passed since the clients left, then stops the server.
func (m *memoryCheck) run(ctx context.Context, env Env, ph *Phase) error {
	defer m.srv.Stop()
	base := m.srv.base
	limit := rssLimit(base.RSS, m.peak.RSS)
	down := func(now Snapshot) bool { return now.RSS <= limit }
	now, _, err := waitFor(ctx, m.srv.metrics, m.bound-time.Since(m.closed), time.Second, down)
	if err != nil {
		return err
	}
	ph.Add("baseline RSS", MiB(base.RSS), "MiB")
	ph.Add("peak RSS", MiB(m.peak.RSS), "MiB")
	ph.Add("RSS now", MiB(now.RSS), "MiB")
	ph.Add("time since the clients left", time.Since(m.closed).Seconds(), "s")
	ph.Add("server GCs since the clients left", now.Metrics.Sum("go_gc_duration_seconds_count")-m.gcs, "")
	ph.Add("server heap in use, baseline", MiB(int64(base.Metrics.Sum("go_memstats_heap_inuse_bytes"))), "MiB")
	ph.Add("server heap in use now", MiB(int64(now.Metrics.Sum("go_memstats_heap_inuse_bytes"))), "MiB")
	ph.Add("server stacks in use now", MiB(int64(now.Metrics.Sum("go_memstats_stack_inuse_bytes"))), "MiB")
	ph.Add("goroutines now", float64(now.Goroutines), "")
	ph.Check(AtMost("RSS back down: baseline + max(32 MiB, growth/4)", MiB(now.RSS), MiB(limit), "MiB"))
	ph.Check(AtMost(fmt.Sprintf("goroutines still at baseline (+%d)", baselineSlack), float64(now.Goroutines), float64(base.Goroutines+baselineSlack), ""))
	if exited, exitErr := m.srv.Exited(); exited {
		return fmt.Errorf("tcp-echo exited: %v\n%s", exitErr, m.srv.Stderr())
	}
	return nil
}
