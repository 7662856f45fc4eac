// Package tcpsoak holds tcp-echo at thousands of connections — most idle,
// some echoing in a loop — and checks that the server gives back its
// goroutines, files and memory once the clients leave.
package tcpsoak

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netlab/netlab/services/soak/internal/proc"
	"github.com/netlab/netlab/services/soak/internal/report"
	"github.com/netlab/netlab/services/soak/internal/watch"
)

// Config is one tcp phase.
type Config struct {
	Bin    string // directory with tcp-echo
	Procs  *proc.Group
	Log    io.Writer
	Conns  int           // connections held at once
	Active int           // of those, how many echo in a loop
	Hold   time.Duration // how long all of them stay open
	Settle time.Duration // bound on the wait for goroutines and files to return to baseline
	// RSSWait bounds the wait for memory, from the moment the clients
	// left. Go frees dead goroutines' stacks at the next GC and pooled
	// echo buffers at the one after; an idle server's GCs are the
	// periodic ones, two minutes apart.
	RSSWait time.Duration
}

// msgSize is the size of each active connection's message.
const msgSize = 64

// Run runs the phase until the clients have left and the server's
// goroutines and files are back. Go returns freed memory lazily — an idle
// server frees dead goroutines' stacks only at its next GC, the periodic one
// up to two minutes later — so resident memory is checked by a second
// phase, "tcp-rss": the returned function waits for it (meanwhile the run
// can go on with other phases) and stops the server. It is nil when the
// first part failed.
func Run(ctx context.Context, cfg Config) (report.Phase, func(context.Context) report.Phase) {
	start := time.Now()
	ph := report.Phase{Name: "tcp", About: fmt.Sprintf("tcp-echo holding %d connections (%d idle, %d echoing %d-byte messages) for %s",
		cfg.Conns, cfg.Conns-cfg.Active, cfg.Active, msgSize, cfg.Hold)}
	mem, err := run(ctx, cfg, &ph)
	ph.Fail(err)
	ph.Elapsed = time.Since(start)
	if mem == nil {
		return ph, nil
	}
	if cfg.RSSWait <= 0 {
		mem.srv.Stop()
		ph.Note("memory not checked after the clients left (-tcp-rss-wait 0)")
		return ph, nil
	}
	return ph, func(ctx context.Context) report.Phase {
		start := time.Now()
		defer mem.srv.Stop()
		rp := report.Phase{Name: "tcp-rss", About: "tcp-echo's resident memory once Go has collected the closed connections"}
		rp.Fail(mem.wait(ctx, cfg.RSSWait, &rp))
		rp.Elapsed = time.Since(start)
		return rp
	}
}

func run(ctx context.Context, cfg Config, ph *report.Phase) (*memoryCheck, error) {
	ports, err := proc.FreePorts(1)
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	// The defaults would interfere with what is measured: MAX_CONNS is
	// exactly 10,000, and idle connections must outlive the hold.
	maxConns := cfg.Conns + 1000
	idle := max(5*time.Minute, 2*cfg.Hold+time.Minute)
	ph.Note("tcp-echo MAX_CONNS=%d (default 10000) so the soak's connections are not at the limit", maxConns)
	ph.Note("tcp-echo IDLE_TIMEOUT=%s so idle connections outlive the %s hold", idle, cfg.Hold)
	srv, admin, err := cfg.Procs.StartService(ctx, "tcp-echo", filepath.Join(cfg.Bin, "tcp-echo"), addr,
		fmt.Sprintf("MAX_CONNS=%d", maxConns), "IDLE_TIMEOUT="+idle.String())
	if err != nil {
		return nil, err
	}
	handedOver := false
	defer func() {
		if !handedOver {
			srv.Stop()
		}
	}()
	metrics := admin + "/metrics"

	// Baseline: a moment after readiness, so start-up goroutines are gone.
	time.Sleep(500 * time.Millisecond)
	base, err := watch.Take(ctx, metrics)
	if err != nil {
		return nil, err
	}
	ph.Add("baseline RSS", report.MiB(base.RSS), "MiB")
	ph.Add("baseline goroutines", float64(base.Goroutines), "")
	ph.Add("baseline open fds", float64(base.FDs), "")

	sampler := watch.Start(ctx, metrics, time.Second)
	fmt.Fprintf(cfg.Log, "tcp: opening %d connections to %s\n", cfg.Conns, addr)
	openStart := time.Now()
	conns, dialErrs := dialAll(ctx, addr, cfg.Conns)
	defer closeAll(conns)
	ph.Add("connections opened", float64(len(conns)), "")
	ph.Add("time to open them", time.Since(openStart).Seconds(), "s")
	ph.Check(report.AtMost("dial errors", float64(dialErrs), 0, ""))
	if len(conns) < cfg.Conns {
		sampler.Stop()
		return nil, fmt.Errorf("opened %d of %d connections", len(conns), cfg.Conns)
	}

	// The active ones echo until the hold ends; the rest stay silent.
	active, idleConns := conns[:cfg.Active], conns[cfg.Active:]
	holdCtx, stopEcho := context.WithTimeout(ctx, cfg.Hold)
	defer stopEcho()
	var stats echoStats
	var wg sync.WaitGroup
	for i, c := range active {
		wg.Go(func() { echoLoop(holdCtx, c, i, &stats) })
	}
	fmt.Fprintf(cfg.Log, "tcp: holding %d connections for %s\n", len(conns), cfg.Hold)
	<-holdCtx.Done()
	wg.Wait()
	if ctx.Err() != nil {
		sampler.Stop()
		return nil, ctx.Err()
	}
	during, err := watch.Take(ctx, metrics)
	if err != nil {
		sampler.Stop()
		return nil, err
	}
	// A silent connection the server had dropped would fail here.
	idleAlive := pingAll(ctx, idleConns)
	series, scrapeErrs := sampler.Stop()
	peak := series.Peak()

	ph.Add("peak RSS", report.MiB(peak.RSS), "MiB")
	ph.Add("peak goroutines", float64(peak.Goroutines), "")
	ph.Add("peak open fds", float64(peak.FDs), "")
	ph.Add("RSS per connection (peak-baseline)/conns", float64(peak.RSS-base.RSS)/float64(cfg.Conns)/1024, "KiB")
	ph.Add("server connections_active at end of hold", during.Metrics.Sum("netlab_tcp_echo_connections_active"), "")
	ph.Add("echo round trips (verified byte for byte)", float64(stats.echoes.Load()), "")
	ph.Add("echo round trips per second", float64(stats.echoes.Load())/cfg.Hold.Seconds(), "/s")
	ph.Add("idle connections answering after the hold", float64(idleAlive), "")
	ph.Add("metric scrapes failed", float64(scrapeErrs), "")
	ph.Check(report.AtMost("echo errors (timeout, short, mismatch, reset)", float64(stats.errors.Load()), 0, ""))
	ph.Check(report.AtLeast("idle connections still open after the hold", float64(idleAlive), float64(len(idleConns)), ""))
	ph.Check(report.AtMost("connections rejected by the server", during.Metrics.Sum("netlab_tcp_echo_connections_rejected_total"), 0, ""))

	// The clients leave; the server must give everything back.
	closeAll(conns)
	conns = nil
	fmt.Fprintf(cfg.Log, "tcp: closed every connection; waiting up to %s for the server to settle\n", cfg.Settle)
	closed := time.Now()
	gcs := during.Metrics.Sum("go_gc_duration_seconds_count")
	after, settledIn, err := waitSettled(ctx, metrics, base, cfg.Settle)
	if err != nil {
		return nil, err
	}
	ph.Add("goroutines after the clients left", float64(after.Goroutines), "")
	ph.Add("open fds after the clients left", float64(after.FDs), "")
	ph.Add("RSS right after the clients left (see tcp-rss)", report.MiB(after.RSS), "MiB")
	if settledIn >= 0 {
		ph.Add("time to settle", settledIn.Seconds(), "s")
	} else {
		ph.Add("time waited (did not settle)", time.Since(closed).Seconds(), "s")
	}
	ph.Add("server connections_active after", after.Metrics.Sum("netlab_tcp_echo_connections_active"), "")
	for _, c := range settleChecks(base, after) {
		ph.Check(c)
	}
	if exited, exitErr := srv.Exited(); exited {
		return nil, fmt.Errorf("tcp-echo exited during the soak: %v\n%s", exitErr, srv.Stderr())
	}
	handedOver = true
	return &memoryCheck{srv: srv, metrics: metrics, base: base, peak: peak, closed: closed, gcs: gcs}, nil
}

// Tolerances for "back to baseline". A scrape of /metrics itself runs a
// goroutine or two and holds a socket on the admin listener while it is
// answered; anything beyond a handful is a leak.
const (
	goroutineSlack = 5
	fdSlack        = 5
	// rssSlack is what a settled server may keep above its baseline
	// however small the run: the runtime's own bookkeeping grows with
	// the goroutines it has seen (it never frees a goroutine's descriptor,
	// only its stack), and the scavenger returns pages gradually.
	rssSlack = 32 << 20
)

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
// once (memory is checked later, see Run).
func settleChecks(base, after watch.Snapshot) []report.Check {
	return []report.Check{
		report.AtMost(fmt.Sprintf("goroutines back to baseline (+%d)", goroutineSlack), float64(after.Goroutines), float64(base.Goroutines+goroutineSlack), ""),
		report.AtMost(fmt.Sprintf("open fds back to baseline (+%d)", fdSlack), float64(after.FDs), float64(base.FDs+fdSlack), ""),
		report.AtMost("server connections_active after", after.Metrics.Sum("netlab_tcp_echo_connections_active"), 0, ""),
	}
}

func allOK(checks []report.Check) bool {
	for _, c := range checks {
		if !c.OK {
			return false
		}
	}
	return true
}

// waitSettled polls the server until every settle check holds or bound
// passes. It returns the last snapshot and how long settling took (-1: it
// did not).
func waitSettled(ctx context.Context, metrics string, base watch.Snapshot, bound time.Duration) (watch.Snapshot, time.Duration, error) {
	start := time.Now()
	for {
		now, err := watch.Take(ctx, metrics)
		if err != nil {
			return now, -1, err
		}
		if allOK(settleChecks(base, now)) {
			return now, time.Since(start), nil
		}
		if time.Since(start) >= bound {
			return now, -1, nil
		}
		if !sleep(ctx, 500*time.Millisecond) {
			return now, -1, ctx.Err()
		}
	}
}

// memoryCheck is the server kept running after the clients left, until
// its memory is checked.
type memoryCheck struct {
	srv        *proc.Proc
	metrics    string
	base, peak watch.Snapshot
	closed     time.Time // when the clients left
	gcs        float64   // the server's GC count before they left
}

// wait polls the server's resident memory until it is within rssLimit or
// bound has passed since the clients left.
func (m *memoryCheck) wait(ctx context.Context, bound time.Duration, ph *report.Phase) error {
	limit := rssLimit(m.base.RSS, m.peak.RSS)
	var now watch.Snapshot
	for {
		var err error
		if now, err = watch.Take(ctx, m.metrics); err != nil {
			return err
		}
		if now.RSS <= limit || time.Since(m.closed) >= bound {
			break
		}
		if !sleep(ctx, time.Second) {
			return ctx.Err()
		}
	}
	ph.Add("baseline RSS", report.MiB(m.base.RSS), "MiB")
	ph.Add("peak RSS", report.MiB(m.peak.RSS), "MiB")
	ph.Add("RSS now", report.MiB(now.RSS), "MiB")
	ph.Add("time since the clients left", time.Since(m.closed).Seconds(), "s")
	ph.Add("server GCs since the clients left", now.Metrics.Sum("go_gc_duration_seconds_count")-m.gcs, "")
	ph.Add("server heap in use, baseline", report.MiB(int64(m.base.Metrics.Sum("go_memstats_heap_inuse_bytes"))), "MiB")
	ph.Add("server heap in use now", report.MiB(int64(now.Metrics.Sum("go_memstats_heap_inuse_bytes"))), "MiB")
	ph.Add("server stacks in use now", report.MiB(int64(now.Metrics.Sum("go_memstats_stack_inuse_bytes"))), "MiB")
	ph.Add("goroutines now", float64(now.Goroutines), "")
	ph.Check(report.AtMost("RSS back down: baseline + max(32 MiB, growth/4)", report.MiB(now.RSS), report.MiB(limit), "MiB"))
	ph.Check(report.AtMost(fmt.Sprintf("goroutines still at baseline (+%d)", goroutineSlack), float64(now.Goroutines), float64(m.base.Goroutines+goroutineSlack), ""))
	if exited, exitErr := m.srv.Exited(); exited {
		return fmt.Errorf("tcp-echo exited: %v\n%s", exitErr, m.srv.Stderr())
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// dialAll opens n connections, 64 dials at a time.
func dialAll(ctx context.Context, addr string, n int) ([]net.Conn, int) {
	conns := make([]net.Conn, n)
	var failed atomic.Int64
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	d := net.Dialer{Timeout: 5 * time.Second}
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				failed.Add(1)
				return
			}
			conns[i] = c
		})
	}
	wg.Wait()
	out := conns[:0]
	for _, c := range conns {
		if c != nil {
			out = append(out, c)
		}
	}
	return out, int(failed.Load())
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

type echoStats struct {
	echoes atomic.Int64
	errors atomic.Int64
}

// echoLoop sends a message, reads it back and compares, until ctx ends.
// Messages differ per connection and per round so a crossed or stale echo
// is caught.
func echoLoop(ctx context.Context, c net.Conn, id int, st *echoStats) {
	msg := make([]byte, msgSize)
	got := make([]byte, msgSize)
	for round := 0; ctx.Err() == nil; round++ {
		for i := range msg {
			msg[i] = byte(id + round + i)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(msg); err != nil {
			st.errors.Add(1)
			return
		}
		if _, err := io.ReadFull(c, got); err != nil {
			st.errors.Add(1)
			return
		}
		if !bytes.Equal(msg, got) {
			st.errors.Add(1)
			return
		}
		st.echoes.Add(1)
	}
}

// pingAll sends one byte on each connection and counts those echoed.
func pingAll(ctx context.Context, conns []net.Conn) int {
	var alive atomic.Int64
	sem := make(chan struct{}, 256)
	var wg sync.WaitGroup
	for _, c := range conns {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if ping(c) == nil {
				alive.Add(1)
			}
		})
	}
	wg.Wait()
	return int(alive.Load())
}

func ping(c net.Conn) error {
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte{'p'}); err != nil {
		return err
	}
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return err
	}
	if b[0] != 'p' {
		return errors.New("wrong byte echoed")
	}
	return nil
}
