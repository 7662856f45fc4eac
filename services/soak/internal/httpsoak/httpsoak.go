// Package httpsoak keeps a thousand slowloris connections open against
// http-hello — each trickling a header byte every few seconds and never
// finishing — while normal clients request GET / in a loop, and checks that
// the normal requests keep succeeding quickly.
package httpsoak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netlab/netlab/services/soak/internal/proc"
	"github.com/netlab/netlab/services/soak/internal/report"
	"github.com/netlab/netlab/services/soak/internal/watch"
)

// Config is one http phase.
type Config struct {
	Bin      string // directory with http-hello
	Procs    *proc.Group
	Log      io.Writer
	Duration time.Duration // of the normal load
	Slow     int           // slowloris connections kept open
	Clients  int           // normal clients, each one request at a time
}

const (
	// trickle is how often a slow client sends its next header byte.
	trickle = 2 * time.Second
	// readHeaderTimeout is http-hello's default READ_HEADER_TIMEOUT.
	readHeaderTimeout = 5 * time.Second
	// maxP99 bounds the normal requests' p99: a hello on loopback takes
	// well under a millisecond; 100 ms means they queued behind the slow
	// clients. A bound, not a speed claim.
	maxP99 = 100 * time.Millisecond
	// requestTimeout fails a normal request that takes this long.
	requestTimeout = 5 * time.Second
)

// Run runs the phase.
func Run(ctx context.Context, cfg Config) report.Phase {
	start := time.Now()
	ph := report.Phase{Name: "http", About: fmt.Sprintf("http-hello with %d slowloris connections and %d clients looping GET / for %s",
		cfg.Slow, cfg.Clients, cfg.Duration)}
	ph.Fail(run(ctx, cfg, &ph))
	ph.Elapsed = time.Since(start)
	return ph
}

func run(ctx context.Context, cfg Config, ph *report.Phase) error {
	ports, err := proc.FreePorts(1)
	if err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	ph.Note("http-hello at its defaults: READ_HEADER_TIMEOUT=%s, MAX_CONCURRENT=1000, access log on", readHeaderTimeout)
	ph.Note("each slow client sends a partial request, then one header byte every %s; when cut off it reconnects", trickle)
	srv, admin, err := cfg.Procs.StartService(ctx, "http-hello", filepath.Join(cfg.Bin, "http-hello"), addr)
	if err != nil {
		return err
	}
	defer srv.Stop()
	metrics := admin + "/metrics"
	before, err := watch.Take(ctx, metrics)
	if err != nil {
		return err
	}
	sampler := watch.Start(ctx, metrics, time.Second)

	// The slow clients first, so the normal load meets all of them.
	slowCtx, stopSlow := context.WithCancel(ctx)
	defer stopSlow()
	var slow slowStats
	var slowWG sync.WaitGroup
	opened := make(chan struct{}, cfg.Slow)
	for i := range cfg.Slow {
		slowWG.Go(func() { slowClient(slowCtx, addr, i, &slow, opened) })
	}
	for range cfg.Slow {
		select {
		case <-opened:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	slowOpen := time.Now()
	fmt.Fprintf(cfg.Log, "http: %d slow connections open; normal load for %s\n", cfg.Slow, cfg.Duration)

	loadCtx, stopLoad := context.WithTimeout(ctx, cfg.Duration)
	defer stopLoad()
	tr := &http.Transport{MaxIdleConnsPerHost: cfg.Clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: requestTimeout}
	url := "http://" + addr + "/"
	results := make([]loadResult, cfg.Clients)
	var loadWG sync.WaitGroup
	loadStart := time.Now()
	for i := range results {
		loadWG.Go(func() { results[i] = normalClient(loadCtx, client, url) })
	}
	loadWG.Wait()
	elapsed := time.Since(loadStart)
	// Short runs still see every slow client cut off at least once.
	if wait := readHeaderTimeout + trickle + time.Second - time.Since(slowOpen); wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
	}
	stopSlow()
	slowWG.Wait()
	series, scrapeErrs := sampler.Stop()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// Every client gone: the server's goroutines and files must come back.
	tr.CloseIdleConnections()
	after, settledIn, err := waitBaseline(ctx, metrics, before, 15*time.Second)
	if err != nil {
		return err
	}

	var all loadResult
	for _, r := range results {
		all.ok += r.ok
		all.failed += r.failed
		all.latencies = append(all.latencies, r.latencies...)
		if all.firstErr == "" {
			all.firstErr = r.firstErr
		}
	}
	slices.Sort(all.latencies)
	p50, p99 := report.Percentile(all.latencies, 0.50), report.Percentile(all.latencies, 0.99)
	lifetimes := slow.lifetimes()
	peak := series.Peak()

	ph.Add("normal requests succeeded", float64(all.ok), "")
	ph.Add("normal requests failed", float64(all.failed), "")
	if all.firstErr != "" {
		ph.AddText("first failure", all.firstErr)
	}
	ph.Add("normal requests per second", float64(all.ok)/elapsed.Seconds(), "/s")
	ph.Add("normal latency p50", report.Ms(p50), "ms")
	ph.Add("normal latency p99", report.Ms(p99), "ms")
	if len(all.latencies) > 0 {
		ph.Add("normal latency max", report.Ms(all.latencies[len(all.latencies)-1]), "ms")
	}
	ph.Add("slow connections opened", float64(slow.dialed.Load()), "")
	ph.Add("slow connections cut off by the server", float64(len(lifetimes)), "")
	ph.Add("slow connection lifetime when cut, median", report.Percentile(lifetimes, 0.5).Seconds(), "s")
	ph.Add("slow connection lifetime when cut, max", report.Percentile(lifetimes, 1).Seconds(), "s")
	ph.Add("slow connections answered with data instead", float64(slow.answered.Load()), "")
	ph.Add("slow dial failures", float64(slow.dialErrs.Load()), "")
	ph.Add("server RSS before", report.MiB(before.RSS), "MiB")
	ph.Add("server RSS peak", report.MiB(peak.RSS), "MiB")
	ph.Add("server goroutines peak", float64(peak.Goroutines), "")
	ph.Add("server open fds peak", float64(peak.FDs), "")
	ph.Add("server 503s (MAX_CONCURRENT)", after.Metrics.Sum("netlab_http_hello_requests_rejected_total"), "")
	ph.Add("failed scrapes", float64(scrapeErrs), "")
	ph.AddText("server goroutines before / after the clients left", fmt.Sprintf("%d / %d", before.Goroutines, after.Goroutines))
	ph.AddText("server open fds before / after the clients left", fmt.Sprintf("%d / %d", before.FDs, after.FDs))
	if settledIn >= 0 {
		ph.Add("time for them to come back", settledIn.Seconds(), "s")
	}

	ph.Check(report.AtLeast("normal requests succeeded", float64(all.ok), 1, ""))
	ph.Check(report.AtMost("normal requests failed", float64(all.failed), 0, ""))
	ph.Check(report.AtMost("normal latency p99", report.Ms(p99), report.Ms(maxP99), "ms"))
	// The defence acted: slow clients were cut off at READ_HEADER_TIMEOUT,
	// not held until the run ended.
	ph.Check(report.AtLeast("slow connections cut off", float64(len(lifetimes)), float64(cfg.Slow), ""))
	ph.Check(report.AtMost("slow lifetime when cut, median", report.Percentile(lifetimes, 0.5).Seconds(), (readHeaderTimeout + trickle).Seconds(), "s"))
	ph.Check(report.AtMost(fmt.Sprintf("goroutines back to baseline (+%d)", slack), float64(after.Goroutines), float64(before.Goroutines+slack), ""))
	ph.Check(report.AtMost(fmt.Sprintf("open fds back to baseline (+%d)", slack), float64(after.FDs), float64(before.FDs+slack), ""))
	if exited, exitErr := srv.Exited(); exited {
		return fmt.Errorf("http-hello exited during the soak: %v\n%s", exitErr, srv.Stderr())
	}
	return nil
}

// slack is what "back to baseline" allows: a /metrics scrape in flight
// holds a goroutine or two and a socket.
const slack = 5

// waitBaseline polls the server until its goroutines and files are within
// slack of base, or bound passes. It returns the last snapshot and how long
// that took (-1: it did not).
func waitBaseline(ctx context.Context, metrics string, base watch.Snapshot, bound time.Duration) (watch.Snapshot, time.Duration, error) {
	start := time.Now()
	for {
		now, err := watch.Take(ctx, metrics)
		if err != nil {
			return now, -1, err
		}
		if now.Goroutines <= base.Goroutines+slack && now.FDs <= base.FDs+slack {
			return now, time.Since(start), nil
		}
		if time.Since(start) >= bound {
			return now, -1, nil
		}
		select {
		case <-ctx.Done():
			return now, -1, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

type loadResult struct {
	ok, failed int
	firstErr   string
	latencies  []time.Duration
}

// normalClient requests url in a loop until ctx ends.
func normalClient(ctx context.Context, client *http.Client, url string) loadResult {
	var r loadResult
	fail := func(err error) {
		r.failed++
		if r.firstErr == "" {
			r.firstErr = err.Error()
		}
	}
	for ctx.Err() == nil {
		// Not ctx: the load's end must not fail a request in flight.
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			fail(err)
			continue
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		took := time.Since(start)
		switch {
		case err != nil:
			fail(err)
		case resp.StatusCode != http.StatusOK || string(body) != "Hello, World!":
			fail(fmt.Errorf("%s: %q", resp.Status, body))
		default:
			r.ok++
			r.latencies = append(r.latencies, took)
		}
	}
	return r
}

type slowStats struct {
	dialed, dialErrs, answered atomic.Int64
	mu                         sync.Mutex
	cut                        []time.Duration // lifetime of each connection the server closed
}

func (s *slowStats) lifetimes() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.cut)
	slices.Sort(out)
	return out
}

// slowClient keeps one slowloris connection open until ctx ends: a
// request line and one header, then one more byte of a header name every
// trickle. When the server closes it, it notes how long it lived and
// connects again, as an attacker would. opened gets a value once, after
// the first connection is up.
func slowClient(ctx context.Context, addr string, id int, st *slowStats, opened chan<- struct{}) {
	// Spread the first dials over half a second.
	time.Sleep(time.Duration(id%500) * time.Millisecond)
	d := net.Dialer{Timeout: 5 * time.Second}
	first := true
	buf := make([]byte, 512)
	for ctx.Err() == nil {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			if ctx.Err() == nil {
				st.dialErrs.Add(1)
				time.Sleep(100 * time.Millisecond)
			}
			continue
		}
		st.dialed.Add(1)
		if first {
			opened <- struct{}{}
			first = false
		}
		start := time.Now()
		answered := false
		_, err = fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nX-Slow-%d: ", addr, id)
		for err == nil && ctx.Err() == nil {
			_ = c.SetReadDeadline(time.Now().Add(trickle))
			var n int
			n, err = c.Read(buf)
			if n > 0 {
				// The server answered a request it never fully got.
				answered = true
				st.answered.Add(1)
				break
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				_, err = c.Write([]byte{'x'})
			}
		}
		if err != nil && !answered && ctx.Err() == nil {
			st.mu.Lock()
			st.cut = append(st.cut, time.Since(start))
			st.mu.Unlock()
		}
		c.Close()
	}
	if first {
		opened <- struct{}{} // never connected: do not block the phase
	}
}
