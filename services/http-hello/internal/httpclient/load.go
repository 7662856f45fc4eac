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
	"github.com/netlab/netlab/services/platform/loadgen"
)

// LoadOptions configures Load. Count, Duration or both bound the run.
type LoadOptions struct {
	Count    int           // requests, 0..MaxCount; 0: until Duration
	Duration time.Duration // 0..MaxDuration; 0: until Count
	// Connections is the number of connections (1..MaxConnections; 0
	// means 1). Over HTTP/1.1 each has a worker with one request in flight
	// on it; with h2c each carries Streams workers' requests at once.
	Connections int
	// Streams is the requests in flight at once on each h2c connection
	// (1..MaxStreams; 0 means 1). Only with Config.Proto ProtoH2C.
	Streams int
	// Rate is the requests per second over all workers, on a fixed
	// timetable (open loop): latency is then measured from each request's
	// scheduled start. 0 sends as fast as the workers go (closed loop).
	Rate float64
	// Pages, when above 0, makes the run Pages pages of Count requests
	// each (1..MaxPages), one after another, closed loop and bounded by
	// count only: each page opens its connections anew, as a browser's
	// first visit does, and the summary gives each page's time.
	Pages int
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
	Count       int           // requests asked for; 0: until Duration
	Period      time.Duration // the --duration asked for; 0: until Count
	Connections int
	Streams     int // per h2c connection
	Rate        float64
	// PagesAsked is --pages (0: not paged); Pages are the pages done,
	// each Count requests (a page cut short by the end of ctx is not
	// there).
	PagesAsked int
	Pages      []Page

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
	// response, whatever its status, from each request's actual start;
	// Connect over the connections they opened (--new-conn shows it for
	// every request).
	Total, FirstByte, Connect latency.Stats
	// Latency is the total time of the same requests as the run measures
	// it: from the scheduled start in an open loop (corrected for
	// coordinated omission), else from the actual start.
	Latency *latency.Snapshot
	// Schedule is the timetable's account: kept or not, missed and late
	// requests, the uncorrected latency.
	Schedule    loadgen.Summary
	Duration    time.Duration
	Interrupted bool  // ctx ended before every request was sent
	LastErr     error // the last request error, if any
}

// Page is one page of a paged run: its time, from the start of its first
// request to the end of its last response, and its requests.
type Page struct {
	Duration              time.Duration
	Requests, Errors, New int64 // New: requests that opened a connection
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

func (o LoadOptions) normalize(proto Proto) (LoadOptions, error) {
	o.Connections, o.Streams = max(o.Connections, 1), max(o.Streams, 1)
	switch {
	case o.Count < 0 || o.Count > MaxCount:
		return o, fmt.Errorf("count %d is not between 1 and %d", o.Count, MaxCount)
	case o.Duration < 0 || o.Duration > MaxDuration:
		return o, fmt.Errorf("duration %s is not between 0 and %s", o.Duration, MaxDuration)
	case o.Count == 0 && o.Duration == 0:
		return o, errors.New("a load run needs a count, a duration or both")
	case o.Connections > MaxConnections:
		return o, fmt.Errorf("connections %d is not between 1 and %d", o.Connections, MaxConnections)
	case o.Streams > MaxStreams || o.Streams > 1 && proto != ProtoH2C:
		return o, fmt.Errorf("streams %d: 1..%d, and more than 1 only over h2c", o.Streams, MaxStreams)
	case o.Connections*o.Streams > MaxConnections:
		return o, fmt.Errorf("connections × streams %d is over %d requests in flight", o.Connections*o.Streams, MaxConnections)
	case math.IsNaN(o.Rate) || o.Rate < 0 || o.Rate > MaxRate:
		return o, fmt.Errorf("rate %g is not between 0 and %d", o.Rate, MaxRate)
	case o.Pages < 0 || o.Pages > MaxPages:
		return o, fmt.Errorf("pages %d is not between 0 (not paged) and %d", o.Pages, MaxPages)
	case o.Pages > 0 && (o.Count == 0 || o.Duration > 0 || o.Rate > 0):
		return o, errors.New("pages need a count, and neither a duration nor a rate")
	case o.Pages > 0 && int64(o.Count)*int64(o.Pages) > MaxCount:
		return o, fmt.Errorf("count %d × pages %d is over %d requests", o.Count, o.Pages, MaxCount)
	}
	if o.Count > 0 && o.Streams == 1 {
		o.Connections = min(o.Connections, o.Count)
	}
	return o, nil
}

// Load sends the request from opts.Connections × opts.Streams workers, each
// sending its next request when the previous one is done — and, with
// opts.Rate, not before that request's slot on the timetable — until
// opts.Count requests were sent or opts.Duration has passed. With
// opts.Pages it does that Pages times, each page on new connections.
//
// A failed request is counted and the run goes on. When ctx ends, no new
// request starts, requests in flight are cancelled and not counted, and Load
// returns the summary so far with Interrupted set and ctx's error; otherwise
// the error is non-nil only for invalid options. A run bounded by a
// duration lets the requests in flight at its end finish.
//
// Memory is fixed: a few 58 KiB latency histograms, whatever the count.
func (c *Client) Load(ctx context.Context, opts LoadOptions) (Summary, error) {
	opts, err := opts.normalize(c.cfg.Proto)
	sum := Summary{Method: c.method, URL: c.url, Count: opts.Count, Period: opts.Duration,
		Connections: opts.Connections, Streams: opts.Streams, Rate: opts.Rate, PagesAsked: opts.Pages}
	if err != nil {
		return sum, err
	}
	asked := int64(opts.Count) * int64(max(opts.Pages, 1))
	rec := &recorder{tt: loadgen.New(loadgen.Wall, loadgen.Plan{Rate: opts.Rate, Count: asked, Duration: opts.Duration})}
	stopReport := opts.Report.Start(rec.totals)
	if opts.Pages > 0 {
		sum.Pages, err = c.pages(ctx, opts, rec)
	} else {
		var clients []*Client
		if clients, err = c.perConnection(opts); err == nil {
			work(ctx, clients, opts, round{tt: rec.tt}, rec)
		}
	}
	sum.Duration = time.Since(rec.tt.Started())
	if ctx.Err() != nil {
		rec.tt.Stop()
	}
	stopReport()
	rec.fill(&sum)
	if err != nil {
		return sum, err
	}
	if ctx.Err() != nil && (opts.Count == 0 || sum.Requests < asked) && (opts.Duration == 0 || sum.Duration < opts.Duration) {
		sum.Interrupted = true
		return sum, ctx.Err()
	}
	return sum, nil
}

// pages runs opts.Pages pages one after another, each of opts.Count
// requests from clients of its own, so that each opens its connections
// anew; a page cut short by the end of ctx is left out.
func (c *Client) pages(ctx context.Context, opts LoadOptions, rec *recorder) ([]Page, error) {
	var out []Page
	for i := range opts.Pages {
		pc, err := New(c.cfg)
		if err != nil {
			return out, err
		}
		clients, err := pc.perConnection(opts)
		if err != nil {
			return out, err
		}
		before := rec.page()
		r := round{tt: loadgen.New(loadgen.Wall, loadgen.Plan{Count: int64(opts.Count)}), first: i * opts.Count}
		work(ctx, clients, opts, r, rec)
		pc.Close()
		p := rec.page().since(before, r.tt.Started())
		if ctx.Err() != nil || p.Requests < int64(opts.Count) {
			return out, nil
		}
		out = append(out, p)
	}
	return out, nil
}

// perConnection gives each worker its client: c for every worker over
// HTTP/1.1 (its pool keeps a connection per worker); over h2c, one client
// (so one connection) per Streams workers.
func (c *Client) perConnection(opts LoadOptions) ([]*Client, error) {
	clients := make([]*Client, opts.Connections*opts.Streams)
	for w := range clients {
		clients[w] = c
	}
	if c.cfg.Proto != ProtoH2C {
		return clients, nil
	}
	for conn := 1; conn < opts.Connections; conn++ {
		other, err := New(c.cfg)
		if err != nil {
			return nil, err
		}
		for s := range opts.Streams {
			clients[conn*opts.Streams+s] = other
		}
	}
	return clients, nil
}

// round is one timetable the workers follow: the whole run, or a page
// whose requests are numbered from first.
type round struct {
	tt    *loadgen.Timetable
	first int
}

// work runs one worker per client until the round's timetable is done or
// ctx ends; the requests are recorded in rec.
func work(ctx context.Context, clients []*Client, opts LoadOptions, r round, rec *recorder) {
	var (
		outMu sync.Mutex // serialises OnResult
		wg    sync.WaitGroup
	)
	for w, c := range clients {
		wg.Go(func() {
			for {
				slot, ok := r.tt.Next(ctx)
				if !ok {
					return
				}
				resp, err := c.Do(ctx, nil)
				if err != nil && ctx.Err() != nil {
					return // cut short by the end of the run: not counted
				}
				rec.add(w, slot, resp, err)
				if opts.OnResult != nil {
					outMu.Lock()
					opts.OnResult(Result{Seq: r.first + int(slot.Seq) + 1, Response: resp, Err: err})
					outMu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for _, c := range clients[1:] {
		if c != clients[0] {
			c.Close()
		}
	}
}

// maxStatus bounds the status codes counted one by one; the client accepts
// any three-digit code.
const maxStatus = 1000

// recorder accumulates a load run. add may be called from any goroutine;
// fill once the workers are done.
type recorder struct {
	// tt times the requests: it holds the total time of each request that
	// got a complete response, whatever its status, from its scheduled and
	// from its actual start. first is the time to the first byte, connect
	// the time to open each new connection.
	tt             *loadgen.Timetable
	first, connect latency.Histogram

	requests, ok, bytes, truncated, newConns, reused atomic.Int64
	kinds                                            [numKinds]atomic.Int64
	codes                                            [maxStatus]atomic.Int64

	// lastEnd is when the latest request so far ended (Unix ns): a
	// page's end.
	lastEnd atomic.Int64

	mu      sync.Mutex
	lastErr error
}

// pageMark is what a page reads of the recorder before and after it.
type pageMark struct{ requests, errors, newConns, lastEnd int64 }

func (r *recorder) page() pageMark {
	n := r.requests.Load()
	return pageMark{requests: n, errors: n - r.ok.Load(), newConns: r.newConns.Load(), lastEnd: r.lastEnd.Load()}
}

// since is the page between mark b and m that began at start.
func (m pageMark) since(b pageMark, start time.Time) Page {
	return Page{Duration: max(time.Unix(0, m.lastEnd).Sub(start), 0), Requests: m.requests - b.requests,
		Errors: m.errors - b.errors, New: m.newConns - b.newConns}
}

func (r *recorder) add(worker int, slot loadgen.Slot, resp Response, err error) {
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
			if resp.Timings.Connect != NotMeasured {
				r.connect.Record(resp.Timings.Connect)
			}
		}
	}
	r.bytes.Add(resp.Bytes)
	if resp.Truncated {
		r.truncated.Add(1)
	}
	end := slot.Start.Add(resp.Timings.Total)
	if complete {
		r.tt.Record(worker, slot, end)
	}
	for e := r.lastEnd.Load(); end.UnixNano() > e && !r.lastEnd.CompareAndSwap(e, end.UnixNano()); e = r.lastEnd.Load() {
	}

	if resp.Timings.FirstByte != NotMeasured && resp.StatusCode > 0 {
		r.first.Record(resp.Timings.FirstByte)
	}
	r.requests.Add(1)
}

// totals are the run's counters so far, for the interval report: requests
// done, body bytes, failed requests and the time of each (see Latency).
func (r *recorder) totals() clientcli.Totals {
	n := r.requests.Load()
	return clientcli.Totals{Sent: n, Ops: n, Bytes: r.bytes.Load(), Errors: n - r.ok.Load(), Latency: r.tt.Latency()}
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
	var first, connect latency.Snapshot
	first.Add(&r.first)
	connect.Add(&r.connect)
	s.Schedule = r.tt.Summary()
	s.Latency = r.tt.Latency()
	s.Total, s.FirstByte, s.Connect = s.Schedule.Uncorrected, first.Stats(), connect.Stats()
	r.mu.Lock()
	s.LastErr = r.lastErr
	r.mu.Unlock()
}
