package soak

// The http phase keeps a thousand slowloris connections open against
// http-hello — each trickling a header byte every few seconds and never
// finishing — while normal clients request GET / in a loop, and checks
// that the normal requests keep succeeding quickly.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/netlab/netlab/lab/internal/proc"
)

// httpSoak is the http phase.
type httpSoak struct {
	duration time.Duration // of the normal load
	slow     int           // slowloris connections kept open
	clients  int           // normal clients, each one request at a time
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

func (h *httpSoak) describe() (string, string) {
	return "http", fmt.Sprintf("http-hello with %d slowloris connections and %d clients looping GET / for %s",
		h.slow, h.clients, h.duration)
}

func (h *httpSoak) run(ctx context.Context, env Env, ph *Phase) error {
	addr, err := proc.FreeAddr()
	if err != nil {
		return err
	}
	ph.Note("http-hello at its defaults: READ_HEADER_TIMEOUT=%s, MAX_CONCURRENT=1000, access log on", readHeaderTimeout)
	ph.Note("each slow client sends a partial request, then one header byte every %s; when cut off it reconnects", trickle)
	srv, admin, err := env.Procs.StartService(ctx, "http-hello", env.bin("http-hello"), addr)
	if err != nil {
		return err
	}
	defer srv.Stop()
	metrics := admin + "/metrics"
	before, err := TakeSnapshot(ctx, metrics)
	if err != nil {
		return err
	}
	res, err := h.load(ctx, env, addr, metrics)
	if err != nil {
		return err
	}
	// Every client gone: the server's goroutines and files must come back.
	settled := func(now Snapshot) bool { return backToBaseline(before, now) }
	after, settledIn, err := waitFor(ctx, metrics, 15*time.Second, 250*time.Millisecond, settled)
	if err != nil {
		return err
	}
	h.check(ph, res, before, after, settledIn)
	if exited, exitErr := srv.Exited(); exited {
		return fmt.Errorf("http-hello exited during the soak: %v\n%s", exitErr, srv.Stderr())
	}
	return nil
}

// httpLoad is what the load measured.
type httpLoad struct {
	normal     loadResult    // every normal client's, together
	elapsed    time.Duration // of the normal load
	slow       *slowStats
	peak       Snapshot
	scrapeErrs int
}

// load opens the slow connections first, so the normal load meets all of
// them, then runs the normal clients for the duration; it ends once every
// slow client has been cut off at least once.
func (h *httpSoak) load(ctx context.Context, env Env, addr, metrics string) (*httpLoad, error) {
	sampler := StartSampler(ctx, metrics, time.Second)
	defer sampler.Stop()
	l := &httpLoad{slow: &slowStats{}}
	var slowWG sync.WaitGroup
	defer slowWG.Wait()
	slowCtx, stopSlow := context.WithCancel(ctx)
	defer stopSlow()
	opened := make(chan struct{}, h.slow)
	for i := range h.slow {
		slowWG.Go(func() { slowClient(slowCtx, addr, i, l.slow, opened) })
	}
	for range h.slow {
		select {
		case <-opened:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	slowOpen := time.Now()
	fmt.Fprintf(env.Log, "http: %d slow connections open; normal load for %s\n", h.slow, h.duration)
	l.normal, l.elapsed = h.normalLoad(ctx, "http://"+addr+"/")
	// Short runs still see every slow client cut off at least once.
	proc.Sleep(ctx, readHeaderTimeout+trickle+time.Second-time.Since(slowOpen))
	stopSlow()
	slowWG.Wait()
	series, scrapeErrs := sampler.Stop()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	l.peak, l.scrapeErrs = series.Peak(), scrapeErrs
	return l, nil
}

// normalLoad runs the normal clients for the duration and returns their
// results together and how long they ran.
func (h *httpSoak) normalLoad(ctx context.Context, url string) (loadResult, time.Duration) {
	loadCtx, stopLoad := context.WithTimeout(ctx, h.duration)
	defer stopLoad()
	tr := &http.Transport{MaxIdleConnsPerHost: h.clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: requestTimeout}
	results := make([]loadResult, h.clients)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range results {
		wg.Go(func() { results[i] = normalClient(loadCtx, client, url) })
	}
	wg.Wait()
	elapsed := time.Since(start)
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
	return all, elapsed
}

// check records what the load measured and checks it.
func (h *httpSoak) check(ph *Phase, l *httpLoad, before, after Snapshot, settledIn time.Duration) {
	all := l.normal
	p50, p99 := Percentile(all.latencies, 0.50), Percentile(all.latencies, 0.99)
	lifetimes := l.slow.lifetimes()
	ph.Add("normal requests succeeded", float64(all.ok), "")
	ph.Add("normal requests failed", float64(all.failed), "")
	if all.firstErr != "" {
		ph.AddText("first failure", all.firstErr)
	}
	ph.Add("normal requests per second", float64(all.ok)/l.elapsed.Seconds(), "/s")
	ph.Add("normal latency p50", Ms(p50), "ms")
	ph.Add("normal latency p99", Ms(p99), "ms")
	if len(all.latencies) > 0 {
		ph.Add("normal latency max", Ms(all.latencies[len(all.latencies)-1]), "ms")
	}
	ph.Add("slow connections opened", float64(l.slow.dialed.Load()), "")
	ph.Add("slow connections cut off by the server", float64(len(lifetimes)), "")
	ph.Add("slow connection lifetime when cut, median", Percentile(lifetimes, 0.5).Seconds(), "s")
	ph.Add("slow connection lifetime when cut, max", Percentile(lifetimes, 1).Seconds(), "s")
	ph.Add("slow connections answered with data instead", float64(l.slow.answered.Load()), "")
	ph.Add("slow dial failures", float64(l.slow.dialErrs.Load()), "")
	ph.Add("server RSS before", MiB(before.RSS), "MiB")
	ph.Add("server RSS peak", MiB(l.peak.RSS), "MiB")
	ph.Add("server goroutines peak", float64(l.peak.Goroutines), "")
	ph.Add("server open fds peak", float64(l.peak.FDs), "")
	ph.Add("server 503s (MAX_CONCURRENT)", after.Metrics.Sum("netlab_http_hello_requests_rejected_total"), "")
	ph.Add("failed scrapes", float64(l.scrapeErrs), "")
	ph.AddText("server goroutines before / after the clients left", fmt.Sprintf("%d / %d", before.Goroutines, after.Goroutines))
	ph.AddText("server open fds before / after the clients left", fmt.Sprintf("%d / %d", before.FDs, after.FDs))
	if settledIn >= 0 {
		ph.Add("time for them to come back", settledIn.Seconds(), "s")
	}
	ph.Check(AtLeast("normal requests succeeded", float64(all.ok), 1, ""))
	ph.Check(AtMost("normal requests failed", float64(all.failed), 0, ""))
	ph.Check(AtMost("normal latency p99", Ms(p99), Ms(maxP99), "ms"))
	// The defence acted: slow clients were cut off at READ_HEADER_TIMEOUT,
	// not held until the run ended.
	ph.Check(AtLeast("slow connections cut off", float64(len(lifetimes)), float64(h.slow), ""))
	ph.Check(AtMost("slow lifetime when cut, median", Percentile(lifetimes, 0.5).Seconds(), (readHeaderTimeout + trickle).Seconds(), "s"))
	ph.Check(AtMost(fmt.Sprintf("goroutines back to baseline (+%d)", baselineSlack), float64(after.Goroutines), float64(before.Goroutines+baselineSlack), ""))
	ph.Check(AtMost(fmt.Sprintf("open fds back to baseline (+%d)", baselineSlack), float64(after.FDs), float64(before.FDs+baselineSlack), ""))
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
