package httpclient

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/latency"
)

// LoadOptions configures Load.
type LoadOptions struct {
	Count int // requests, 1..MaxCount
	// Connections is the number of workers, each with one request in
	// flight on a keep-alive connection of its own (HTTP/2 streams may
	// share one): 1..MaxConnections; 0 means 1; more than Count is cut to
	// Count.
	Connections int
	// Rate is the requests per second over all workers, each request
	// starting no earlier than its slot; 0 sends as fast as the workers go.
	Rate float64
	// OnResult, if set, is called after each request, one call at a time,
	// in the order the requests finish; never after Load returns.
	OnResult func(Result)
	// Report, if set, gets the requests of each interval of the run.
	Report clientcli.Reporting
}

// Result is the outcome of one request of a load run.
type Result struct {
	Seq int // from 1, in the order the requests were started
	Response
	Err error
}

// String renders the result as
// "#1 HTTP/1.1 200 OK 13 bytes new conn dns - connect 0.2ms tls - first-byte 1.1ms total 1.3ms",
// or "#2 error: cannot reach 127.0.0.1:8000: connection refused".
func (r Result) String() string {
	var se *StatusError
	if r.Err != nil && !errors.As(r.Err, &se) {
		return fmt.Sprintf("#%d error: %v", r.Seq, r.Err)
	}
	conn := "new conn"
	if r.Reused {
		conn = "reused conn"
	}
	s := fmt.Sprintf("#%d %s %d bytes", r.Seq, r.StatusLine(), r.Bytes)
	if r.Truncated {
		s += " (truncated)"
	}
	s += " " + conn + " " + r.Timings.String()
	if se != nil {
		s += fmt.Sprintf(" (expected %d)", se.Expect)
	}
	return s
}

// Summary is the outcome of Load.
type Summary struct {
	Method, URL string
	Count       int // requests asked for
	Connections int
	Rate        float64

	Requests    int64 // finished (OK + Errors); requests cut short by the end of ctx are not counted
	OK          int64 // the expected status and a complete body
	Errors      int64
	ErrorKinds  []KindCount   // non-zero counts, in Kind order
	StatusCodes []StatusCount // by code
	NewConns    int64         // requests that opened a connection
	ReusedConns int64         // requests sent on a kept-alive connection
	Bytes       int64         // body bytes read
	Truncated   int64         // responses longer than MaxBody
	// Total and FirstByte are over the requests that got a complete
	// response, whatever its status.
	Total, FirstByte latency.Stats
	Duration         time.Duration
	Interrupted      bool  // ctx ended before every request was sent
	LastErr          error // the last request error, if any
}

// KindCount is the number of failures of one kind.
type KindCount struct {
	Kind Kind
	N    int64
}

// StatusCount is the number of responses with one status code.
type StatusCount struct {
	Code int
	N    int64
}

// RequestsPerSecond is Requests over Duration (0 for no duration).
func (s Summary) RequestsPerSecond() float64 {
	if s.Duration <= 0 {
		return 0
	}
	return float64(s.Requests) / s.Duration.Seconds()
}

func (o LoadOptions) normalize() (LoadOptions, error) {
	if o.Connections == 0 {
		o.Connections = 1
	}
	switch {
	case o.Count < 1 || o.Count > MaxCount:
		return o, fmt.Errorf("count %d is not between 1 and %d", o.Count, MaxCount)
	case o.Connections < 1 || o.Connections > MaxConnections:
		return o, fmt.Errorf("connections %d is not between 1 and %d", o.Connections, MaxConnections)
	case math.IsNaN(o.Rate) || o.Rate < 0 || o.Rate > MaxRate:
		return o, fmt.Errorf("rate %g is not between 0 and %d", o.Rate, MaxRate)
	}
	o.Connections = min(o.Connections, o.Count)
	return o, nil
}

// Load sends the request opts.Count times from opts.Connections workers,
// each sending its next request when the previous one is done (at
// opts.Rate, if set), over the client's keep-alive connections.
//
// A failed request is counted and the run goes on. When ctx ends, no new
// request starts, requests in flight are cancelled and not counted, and Load
// returns the summary so far with Interrupted set and ctx's error; otherwise
// the error is non-nil only for invalid options.
//
// Memory is fixed: two 58 KiB latency histograms, whatever the count.
func (c *Client) Load(ctx context.Context, opts LoadOptions) (Summary, error) {
	opts, err := opts.normalize()
	sum := Summary{Method: c.method, URL: c.url, Count: opts.Count, Connections: opts.Connections, Rate: opts.Rate}
	if err != nil {
		return sum, err
	}
	rec := new(recorder)
	start := time.Now()
	stopReport := opts.Report.Start(rec.totals)
	c.work(ctx, opts, rec, start)
	sum.Duration = time.Since(start)
	stopReport()
	rec.fill(&sum)
	if ctx.Err() != nil && sum.Requests < int64(opts.Count) {
		sum.Interrupted = true
		return sum, ctx.Err()
	}
	return sum, nil
}

// work runs the workers of a load run until every request is done or ctx
// ends.
func (c *Client) work(ctx context.Context, opts LoadOptions, rec *recorder, start time.Time) {
	var (
		next  atomic.Int64
		outMu sync.Mutex // serialises OnResult
		wg    sync.WaitGroup
	)
	for range opts.Connections {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(opts.Count) {
					return
				}
				if opts.Rate > 0 && !waitUntil(ctx, start.Add(time.Duration(float64(i)*float64(time.Second)/opts.Rate))) {
					return
				}
				resp, err := c.Do(ctx, nil)
				if err != nil && ctx.Err() != nil {
					return // cut short by the end of the run: not counted
				}
				rec.add(resp, err)
				if opts.OnResult != nil {
					outMu.Lock()
					opts.OnResult(Result{Seq: int(i) + 1, Response: resp, Err: err})
					outMu.Unlock()
				}
			}
		})
	}
	wg.Wait()
}

// waitUntil sleeps until t and reports whether ctx is still alive.
func waitUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// maxStatus bounds the status codes counted one by one; the client accepts
// any three-digit code.
const maxStatus = 1000

// recorder accumulates a load run. add may be called from any goroutine;
// fill once the workers are done.
type recorder struct {
	// total is the time of each request that got a complete response,
	// whatever its status; first the time to its first byte.
	total, first latency.Histogram

	requests, ok, bytes, truncated, newConns, reused atomic.Int64
	kinds                                            [numKinds]atomic.Int64
	codes                                            [maxStatus]atomic.Int64

	mu      sync.Mutex
	lastErr error
}

func (r *recorder) add(resp Response, err error) {
	var se *StatusError
	complete := err == nil || errors.As(err, &se)
	if err != nil {
		r.kinds[KindOf(err)].Add(1)
		r.mu.Lock()
		r.lastErr = err
		r.mu.Unlock()
	} else {
		r.ok.Add(1)
	}
	if resp.StatusCode > 0 && resp.StatusCode < maxStatus {
		r.codes[resp.StatusCode].Add(1)
	}
	if resp.StatusCode > 0 || resp.RemoteAddr != "" {
		if resp.Reused {
			r.reused.Add(1)
		} else {
			r.newConns.Add(1)
		}
	}
	r.bytes.Add(resp.Bytes)
	if resp.Truncated {
		r.truncated.Add(1)
	}
	if complete {
		r.total.Record(resp.Timings.Total)
	}
	if resp.Timings.FirstByte != NotMeasured && resp.StatusCode > 0 {
		r.first.Record(resp.Timings.FirstByte)
	}
	r.requests.Add(1)
}

// totals are the run's counters so far, for the interval report: requests
// done, body bytes, failed requests and the total time of each.
func (r *recorder) totals() clientcli.Totals {
	var snap latency.Snapshot
	snap.Add(&r.total)
	n := r.requests.Load()
	return clientcli.Totals{Sent: n, Ops: n, Bytes: r.bytes.Load(), Errors: n - r.ok.Load(), Latency: &snap}
}

func (r *recorder) fill(s *Summary) {
	s.Requests = r.requests.Load()
	s.OK = r.ok.Load()
	s.Errors = s.Requests - s.OK
	for k := range numKinds {
		if n := r.kinds[k].Load(); n > 0 {
			s.ErrorKinds = append(s.ErrorKinds, KindCount{Kind: k, N: n})
		}
	}
	for code := range r.codes {
		if n := r.codes[code].Load(); n > 0 {
			s.StatusCodes = append(s.StatusCodes, StatusCount{Code: code, N: n})
		}
	}
	s.NewConns = r.newConns.Load()
	s.ReusedConns = r.reused.Load()
	s.Bytes = r.bytes.Load()
	s.Truncated = r.truncated.Load()
	var total, first latency.Snapshot
	total.Add(&r.total)
	first.Add(&r.first)
	s.Total, s.FirstByte = total.Stats(), first.Stats()
	r.mu.Lock()
	s.LastErr = r.lastErr
	r.mu.Unlock()
}
