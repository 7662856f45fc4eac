package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/latency"
	"github.com/netlab/netlab/services/platform/neterr"
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
	loadDialParallel = 64       // dials in flight at once
	loadReadChunk    = 32 << 10 // largest read per call; the read buffer of a connection
	maxHistShards    = 64
	maxDrain         = time.Second // longest wait for the last echoes when a run stops
)

// LoadOptions configures Load.
type LoadOptions struct {
	Connections int           // 1..MaxLoadConnections
	Size        int           // bytes per message, 1..MaxLoadSize
	Duration    time.Duration // MinLoadDuration..MaxLoadDuration, from when every connection is open
	// Report, if set, gets the round trips of each interval of the run,
	// from when every connection is open.
	Report clientcli.Reporting
}

func (o LoadOptions) validate() error {
	switch {
	case o.Connections < 1 || o.Connections > MaxLoadConnections:
		return fmt.Errorf("connections %d is not between 1 and %d", o.Connections, MaxLoadConnections)
	case o.Size < 1 || o.Size > MaxLoadSize:
		return fmt.Errorf("size %d is not between 1 and %d", o.Size, MaxLoadSize)
	case o.Duration < MinLoadDuration || o.Duration > MaxLoadDuration:
		return fmt.Errorf("duration %s is not between %s and %s", o.Duration, MinLoadDuration, MaxLoadDuration)
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
	// Duration is the measured run: from when every connection was open
	// until the run stopped (Duration elapsed, the context ended, or every
	// connection failed).
	Duration    time.Duration
	Ops         int64         // round trips completed and verified
	Latency     latency.Stats // per round trip; percentiles within 0.4%, min, avg and max exact
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

// errStopped ends a connection's loop when the run is over.
var errStopped = errors.New("load run stopped")

// loadConn is one connection of a load run, driven by one goroutine. Each
// message is the next Size bytes of the pattern stream, from an offset that
// differs between connections, so an echo that is shifted, repeated or
// crossed with another connection's does not match.
type loadConn struct {
	nc      net.Conn
	pat     []byte
	off     int // of the next message in pat, < patternPeriod
	size    int
	timeout time.Duration
	buf     []byte // min(size, loadReadChunk) bytes
	hist    *latency.Histogram
	stop    *atomic.Bool
	// stopped is closed once every connection of the run is interrupted;
	// a graceful close waits for it, so no interrupt lands on its drain.
	stopped <-chan struct{}

	// A writer goroutine for messages too large to write before reading.
	wreq  chan []byte
	wres  chan error
	wdone chan struct{}
}

func newLoadConn(nc net.Conn, i, size int, timeout time.Duration, hist *latency.Histogram, stop *atomic.Bool, stopped <-chan struct{}) *loadConn {
	lc := &loadConn{
		nc:      nc,
		pat:     loadPattern(),
		off:     int(uint64(i) * patternSeed % patternPeriod),
		size:    size,
		timeout: timeout,
		buf:     make([]byte, min(size, loadReadChunk)),
		hist:    hist,
		stop:    stop,
		stopped: stopped,
	}
	if size > inlineWriteMax {
		lc.wreq = make(chan []byte)
		lc.wres = make(chan error, 1)
		lc.wdone = make(chan struct{})
		go func() {
			defer close(lc.wdone)
			for msg := range lc.wreq {
				_, err := nc.Write(msg)
				lc.wres <- err
			}
		}()
	}
	return lc
}

// close closes the connection and waits for the writer goroutine.
func (lc *loadConn) close() {
	lc.stopWriter()
	_ = lc.nc.Close()
}

func (lc *loadConn) stopWriter() {
	if lc.wreq != nil {
		close(lc.wreq)
		<-lc.wdone
		lc.wreq = nil
	}
}

// interrupt makes a blocked read or write return at once without closing
// the connection, so that it can still be closed gracefully.
func (lc *loadConn) interrupt() {
	_ = lc.nc.SetDeadline(time.Unix(1, 0))
}

// closeGracefully ends a connection whose run is over: it half-closes,
// reads and discards the echo of whatever was still in flight until the
// server closes too, and only then closes. Closing with bytes unread would
// send a reset, and the server would count a clean run as read and write
// errors.
func (lc *loadConn) closeGracefully() {
	lc.stopWriter()
	defer lc.nc.Close()
	cw, ok := lc.nc.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	if lc.nc.SetDeadline(time.Now().Add(min(lc.timeout, maxDrain))) != nil {
		return
	}
	_, _ = io.Copy(io.Discard, lc.nc)
}

// run does round trips until the run stops (nil) or one fails, then closes
// the connection: gracefully after a stop, at once after a failure.
func (lc *loadConn) run() error {
	for {
		if err := lc.step(); err != nil {
			if err == errStopped || lc.stop.Load() {
				<-lc.stopped
				lc.closeGracefully()
				return nil // an error caused by the stop is not a failure
			}
			lc.close()
			return err
		}
	}
}

// step does one round trip and records it. It allocates nothing unless it
// fails.
func (lc *loadConn) step() error {
	msg := lc.pat[lc.off : lc.off+lc.size]
	start := time.Now()
	if err := lc.nc.SetDeadline(start.Add(lc.timeout)); err != nil {
		return &neterr.OpError{Op: "send", Err: err}
	}
	// Checked after setting the deadline: a stop that came before it has
	// been seen here, and one that comes after it interrupts this step.
	if lc.stop.Load() {
		return errStopped
	}
	if lc.wreq == nil {
		if _, err := lc.nc.Write(msg); err != nil {
			return writeError(err, lc.timeout)
		}
	} else {
		lc.wreq <- msg
	}
	err := lc.readEcho(msg)
	if lc.wreq != nil {
		if err != nil {
			_ = lc.nc.SetWriteDeadline(time.Unix(1, 0)) // unblock the writer now
		}
		if werr := <-lc.wres; werr != nil && err == nil {
			err = writeError(werr, lc.timeout)
		}
	}
	if err != nil {
		return err
	}
	d := time.Since(start)
	if lc.stop.Load() {
		return errStopped // finished after the end of the run: not counted
	}
	lc.hist.Record(d)
	lc.off += lc.size
	if lc.off >= patternPeriod {
		lc.off -= patternPeriod
	}
	return nil
}

func (lc *loadConn) readEcho(msg []byte) error {
	got := 0
	for got < len(msg) {
		n, err := lc.nc.Read(lc.buf[:min(len(lc.buf), len(msg)-got)])
		if n > 0 {
			if want := msg[got : got+n]; !bytes.Equal(lc.buf[:n], want) {
				i := firstDiff(lc.buf[:n], want)
				end := min(n, i+16)
				return &MismatchError{
					Offset:   int64(got + i),
					At:       int64(got + i),
					Sent:     bytes.Clone(want[i:end]),
					Received: bytes.Clone(lc.buf[i:end]),
				}
			}
			got += n
		}
		if err != nil && got < len(msg) {
			return readError(err, lc.timeout, int64(got), int64(len(msg)), false)
		}
	}
	return nil
}

// Load runs closed-loop request/response load: it opens opts.Connections
// connections (up to 64 dials at a time), then on each, in its own
// goroutine, sends an opts.Size-byte message, reads exactly opts.Size
// bytes back and verifies them, and repeats, one message outstanding per
// connection, until opts.Duration has passed since the last connection
// opened. A connection that fails (dial, timeout, short echo, mismatch,
// reset) stops and is counted in the result; the others go on. The run
// ends early when every connection has failed, or when ctx ends: then the
// result so far is returned with Interrupted set and ctx's error. Other
// errors are only for invalid options. When the run stops, each connection
// half-closes, reads the echoes still in flight and closes after the
// server does, so a clean run leaves no reset or broken pipe behind on the
// server. Memory is bounded: latencies go to fixed-size histograms,
// buffers are reused, and the round trip allocates nothing.
func (c *Client) Load(ctx context.Context, opts LoadOptions) (LoadResult, error) {
	res := LoadResult{Addr: c.Addr, Connections: opts.Connections, Size: opts.Size}
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
	r := newLoadRun(conns, opts.Size, c.timeout())
	stopReport := opts.Report.Start(r.totals)
	res.Duration = r.run(ctx, opts.Duration, errs)
	stopReport()
	res.summarize(errs, r)
	if ctx.Err() != nil && res.Duration < opts.Duration {
		res.Interrupted = true
		return res, ctx.Err()
	}
	return res, nil
}

// loadRun is one Load once its connections are open.
type loadRun struct {
	lcs     []*loadConn // nil where the dial failed
	hists   []*latency.Histogram
	size    int
	failed  atomic.Int64 // connections that failed so far
	stop    atomic.Bool
	stopped chan struct{} // closed once every connection is interrupted
}

func newLoadRun(conns []net.Conn, size int, timeout time.Duration) *loadRun {
	r := &loadRun{size: size, stopped: make(chan struct{}), lcs: make([]*loadConn, len(conns))}
	r.hists = make([]*latency.Histogram, min(len(conns), max(1, 2*runtime.GOMAXPROCS(0)), maxHistShards))
	for i := range r.hists {
		r.hists[i] = new(latency.Histogram)
	}
	for i, nc := range conns {
		if nc != nil {
			r.lcs[i] = newLoadConn(nc, i, size, timeout, r.hists[i%len(r.hists)], &r.stop, r.stopped)
		}
	}
	return r
}

// run drives every connection until duration has passed, ctx ends or all
// of them failed, puts each failure into errs and returns how long the run
// lasted.
func (r *loadRun) run(ctx context.Context, duration time.Duration, errs []error) time.Duration {
	var stopAt time.Time
	start := time.Now()
	runCtx, cancel := context.WithDeadline(ctx, start.Add(duration))
	defer cancel()
	unregister := context.AfterFunc(runCtx, func() {
		defer close(r.stopped)
		stopAt = time.Now()
		r.stop.Store(true)
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
				if errs[i] = lc.run(); errs[i] != nil {
					r.failed.Add(1)
				}
			})
		}
	}
	wg.Wait()
	end := time.Now()
	if !unregister() {
		<-r.stopped
		end = stopAt
	}
	return end.Sub(start)
}

// totals are the run's counters so far, for the interval report. The
// round trips are the latencies recorded, so every interval's count and
// latencies agree.
func (r *loadRun) totals() clientcli.Totals {
	lat := r.latency()
	ops := lat.Count()
	return clientcli.Totals{Sent: ops, Ops: ops, Bytes: ops * int64(r.size), Errors: r.failed.Load(), Latency: lat}
}

func (r *loadRun) latency() *latency.Snapshot {
	var s latency.Snapshot
	for _, h := range r.hists {
		s.Add(h)
	}
	return &s
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
		r.Latency = run.latency().Stats()
		r.Ops = r.Latency.N
	}
}
