package client

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/latency"
	"github.com/netlab/netlab/services/platform/loadgen"
)

// Defaults and limits of Load.
const (
	DefaultLoadConnections = 8
	DefaultLoadSize        = 64
	DefaultLoadDuration    = 10 * time.Second

	MaxLoadConnections = 10_000
	MaxLoadSize        = MaxMessageSize
	MinLoadDuration    = 100 * time.Millisecond
	MaxLoadDuration    = time.Hour
)

const (
	loadDialParallel = 64          // dials in flight at once
	loadReadChunk    = 32 << 10    // largest read per call; the read buffer of a connection
	maxDrain         = time.Second // longest wait for the last echoes when a run stops
)

// LoadOptions configures Load. Count, Duration or both bound the run.
type LoadOptions struct {
	Connections int // 1..MaxLoadConnections
	Size        int // bytes per message, 1..MaxLoadSize
	// Duration is how long the run lasts once every connection is open:
	// MinLoadDuration..MaxLoadDuration, or 0 with a Count.
	Duration time.Duration
	// Count is the round trips in all, over every connection,
	// 0..MaxLoadCount; 0: until Duration.
	Count int64
	// Rate is the round trips per second over all connections on a fixed
	// timetable (open loop): latency is then measured from each round
	// trip's scheduled start. 0: each connection sends its next message as
	// soon as the last echo is in (closed loop).
	Rate float64
	// Report, if set, gets the round trips of each interval of the run,
	// from when every connection is open.
	Report clientcli.Reporting
}

// MaxLoadCount bounds LoadOptions.Count.
const MaxLoadCount = loadgen.MaxCount

func (o LoadOptions) validate() error {
	switch {
	case o.Connections < 1 || o.Connections > MaxLoadConnections:
		return fmt.Errorf("connections %d is not between 1 and %d", o.Connections, MaxLoadConnections)
	case o.Size < 1 || o.Size > MaxLoadSize:
		return fmt.Errorf("size %d is not between 1 and %d", o.Size, MaxLoadSize)
	case o.Count < 0 || o.Count > MaxLoadCount:
		return fmt.Errorf("count %d is not between 1 and %d", o.Count, int64(MaxLoadCount))
	case o.Count == 0 && o.Duration == 0:
		return errors.New("a load run needs a count, a duration or both")
	case o.Duration != 0 && (o.Duration < MinLoadDuration || o.Duration > MaxLoadDuration):
		return fmt.Errorf("duration %s is not between %s and %s", o.Duration, MinLoadDuration, MaxLoadDuration)
	case math.IsNaN(o.Rate) || o.Rate < 0 || o.Rate > loadgen.MaxRate:
		return fmt.Errorf("rate %g is not between 0 and %d", o.Rate, loadgen.MaxRate)
	}
	return nil
}

// LoadErrors counts failed connections by what ended them.
type LoadErrors struct {
	Dial      int `json:"dial"`       // could not connect
	Timeout   int `json:"timeout"`    // no echo (or no progress sending) within the timeout
	ShortRead int `json:"short_read"` // the server closed the connection before echoing a whole message
	Mismatch  int `json:"mismatch"`   // an echoed byte differed from the sent one
	Reset     int `json:"reset"`      // the connection was reset or the pipe broke
	Other     int `json:"other"`      // any other I/O error
}

// Total is the number of failed connections.
func (e LoadErrors) Total() int {
	return e.Dial + e.Timeout + e.ShortRead + e.Mismatch + e.Reset + e.Other
}

func (e *LoadErrors) count(err error) {
	var (
		de *DialError
		te *TimeoutError
		se *ShortEchoError
		me *MismatchError
	)
	switch {
	case errors.As(err, &de):
		e.Dial++
	case errors.As(err, &te):
		e.Timeout++
	case errors.As(err, &se):
		e.ShortRead++
	case errors.As(err, &me):
		e.Mismatch++
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		e.Reset++
	default:
		e.Other++
	}
}

// LoadResult summarises Load.
type LoadResult struct {
	Addr        string
	Connections int // asked for
	Size        int
	Count       int64         // asked for; 0: until Period
	Period      time.Duration // the duration asked for; 0: until Count
	Rate        float64       // asked for; 0: closed loop
	// Duration is the measured run: from when every connection was open
	// until the run stopped (Duration elapsed, Count round trips were
	// done, the context ended, or every connection failed).
	Duration time.Duration
	Sent     int64 // messages sent (an interrupted one included)
	Ops      int64 // round trips completed and verified
	// Latency is per round trip from its actual start; percentiles within
	// 0.4%, min, avg and max exact.
	Latency latency.Stats
	// Hist is the latency as the run measures it: from the scheduled start
	// in an open loop (corrected for coordinated omission), else from the
	// actual start.
	Hist *latency.Snapshot
	// Schedule is the timetable's account: kept or not, missed and late
	// round trips, both latencies.
	Schedule    loadgen.Summary
	TCP         *clientcli.TCP // the kernel's figures over the connections; nil where it has none
	Errors      LoadErrors
	Failed      int   // connections that failed (Errors.Total())
	FirstErr    error // the error of the lowest-numbered failed connection
	Interrupted bool  // the context ended the run early
}

// OpsPerSec is the number of round trips per second.
func (r LoadResult) OpsPerSec() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Duration.Seconds()
}

// BytesPerSec is the payload rate in each direction, in bytes per second.
func (r LoadResult) BytesPerSec() float64 { return r.OpsPerSec() * float64(r.Size) }

// loadPattern is the bulk pattern extended so that any MaxLoadSize bytes
// from any offset below patternPeriod are one contiguous slice. Read-only.
var loadPattern = sync.OnceValue(func() []byte {
	base := pattern()
	p := make([]byte, patternPeriod+MaxLoadSize)
	copy(p, base[:patternPeriod])
	copy(p[patternPeriod:], base[:MaxLoadSize])
	return p
})

// Load runs request/response load: it opens opts.Connections connections
// (up to 64 dials at a time), then on each, in its own goroutine, claims
// the next round trip of the run's timetable, sends an opts.Size-byte
// message, reads exactly opts.Size bytes back and verifies them, and
// repeats, one message outstanding per connection, until opts.Count round
// trips were claimed or opts.Duration has passed since the last connection
// opened. Without opts.Rate a connection goes on as soon as its echo is in
// (closed loop); with it, each round trip waits for its time on the
// timetable (open loop), and its latency counts from that time.
//
// A connection that fails (dial, timeout, short echo, mismatch, reset)
// stops and is counted in the result; the others go on. The run ends early
// when every connection has failed, or when ctx ends: then the result so
// far is returned with Interrupted set and ctx's error. Other errors are
// only for invalid options. A round trip cut short by the end is not
// counted. When the run stops, each connection half-closes, reads the
// echoes still in flight and closes after the server does, so a clean run
// leaves no reset or broken pipe behind on the server. Memory is bounded:
// latencies go to fixed-size histograms, buffers are reused, and the round
// trip allocates nothing.
func (c *Client) Load(ctx context.Context, opts LoadOptions) (LoadResult, error) {
	res := LoadResult{Addr: c.Addr, Connections: opts.Connections, Size: opts.Size,
		Count: opts.Count, Period: opts.Duration, Rate: opts.Rate}
	if err := opts.validate(); err != nil {
		return res, err
	}
	loadPattern()
	conns, errs := c.dialAll(ctx, opts.Connections)
	if ctx.Err() != nil {
		for _, nc := range conns {
			if nc != nil {
				_ = nc.Close()
			}
		}
		res.summarize(errs, nil)
		res.Interrupted = true
		return res, ctx.Err()
	}
	tt := loadgen.New(loadgen.Wall, loadgen.Plan{Rate: opts.Rate, Count: opts.Count, Duration: opts.Duration})
	r := newLoadRun(conns, opts.Size, c.timeout(), tt)
	stopReport := opts.Report.Start(r.totals)
	res.Duration = r.run(ctx, opts.Duration, errs)
	stopReport()
	res.summarize(errs, r)
	if ctx.Err() != nil && (opts.Duration == 0 || res.Duration < opts.Duration) && (opts.Count == 0 || res.Ops < opts.Count) {
		res.Interrupted = true
		return res, ctx.Err()
	}
	return res, nil
}

// loadRun is one Load once its connections are open.
type loadRun struct {
	lcs     []*loadConn // nil where the dial failed
	tt      *loadgen.Timetable
	watch   *tcpWatch
	size    int
	sent    atomic.Int64
	failed  atomic.Int64 // connections that failed so far
	stop    atomic.Bool
	stopped chan struct{} // closed once every connection is interrupted
}

func newLoadRun(conns []net.Conn, size int, timeout time.Duration, tt *loadgen.Timetable) *loadRun {
	r := &loadRun{size: size, tt: tt, watch: newTCPWatch(len(conns)), stopped: make(chan struct{}), lcs: make([]*loadConn, len(conns))}
	sh := loadShared{size: size, timeout: timeout, tt: tt, sent: &r.sent, stop: &r.stop, watch: r.watch}
	for i, nc := range conns {
		if nc != nil {
			r.watch.add(i, nc)
			r.lcs[i] = newLoadConn(nc, i, sh)
		}
	}
	return r
}

// run drives every connection until the timetable is done (duration
// passed, count reached), ctx ends or all of them failed, puts each
// failure into errs and returns how long the run lasted.
func (r *loadRun) run(ctx context.Context, duration time.Duration, errs []error) time.Duration {
	var stopAt time.Time
	start := r.tt.Started()
	runCtx, cancel := ctx, context.CancelFunc(func() {})
	if duration > 0 {
		runCtx, cancel = context.WithDeadline(ctx, start.Add(duration))
	}
	defer cancel()
	unregister := context.AfterFunc(runCtx, func() {
		defer close(r.stopped)
		stopAt = time.Now()
		r.stop.Store(true)
		r.tt.Stop() // no effect on the account once the end has passed
		for _, lc := range r.lcs {
			if lc != nil {
				lc.interrupt() // unblocks every read and write
			}
		}
	})
	var wg sync.WaitGroup
	for i, lc := range r.lcs {
		if lc != nil {
			wg.Go(func() {
				if errs[i] = lc.run(runCtx); errs[i] != nil {
					r.failed.Add(1)
				}
			})
		}
	}
	wg.Wait()
	end := time.Now()
	if unregister() {
		r.tt.Stop() // the count was reached or every connection failed
	} else {
		<-r.stopped
		end = stopAt
	}
	return end.Sub(start)
}

// totals are the run's counters so far, for the interval report. The
// round trips are the latencies recorded, so every interval's count and
// latencies agree.
func (r *loadRun) totals() clientcli.Totals {
	lat := r.tt.Latency()
	ops := lat.Count()
	return clientcli.Totals{Sent: r.sent.Load(), Ops: ops, Bytes: ops * int64(r.size), Errors: r.failed.Load(),
		Latency: lat, TCP: r.watch.sample(false)}
}

// dialAll opens n connections, at most loadDialParallel at a time. A
// connection that could not be opened is nil with a *DialError; when ctx
// ends, the remaining ones are nil with no error.
func (c *Client) dialAll(ctx context.Context, n int) ([]net.Conn, []error) {
	conns := make([]net.Conn, n)
	errs := make([]error, n)
	d := net.Dialer{Timeout: c.timeout()}
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(n, loadDialParallel) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				nc, err := d.DialContext(ctx, "tcp", c.Addr)
				switch {
				case err == nil:
					conns[i] = nc
				case ctx.Err() == nil:
					errs[i] = &DialError{Addr: c.Addr, Timeout: c.timeout(), Err: err}
				}
			}
		})
	}
	wg.Wait()
	return conns, errs
}

func (r *LoadResult) summarize(errs []error, run *loadRun) {
	for _, err := range errs {
		if err == nil {
			continue
		}
		r.Errors.count(err)
		if r.FirstErr == nil {
			r.FirstErr = err
		}
	}
	r.Failed = r.Errors.Total()
	if run != nil {
		r.Schedule = run.tt.Summary()
		r.Hist = run.tt.Latency()
		r.Latency = r.Schedule.Uncorrected
		r.Ops = r.Latency.N
		r.Sent = run.sent.Load()
		r.TCP = run.watch.sample(false)
	}
}
