package client

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/latency"
)

// CountOptions configures Count.
type CountOptions struct {
	Message  []byte
	Count    int           // 1..MaxCount
	Interval time.Duration // between the starts of two probes; 0 sends back to back
	// OnProbe, if set, is called after each probe on Count's goroutine.
	OnProbe func(Probe)
	// Report, if set, gets the probes of each interval of the run.
	Report clientcli.Reporting
}

// Probe is the outcome of one echo in Count.
type Probe struct {
	Seq   int // from 1
	Bytes int
	RTT   time.Duration // 0 when Err != nil
	Err   error
}

// String renders the probe as "seq=1 bytes=12 rtt=153µs" or
// "seq=2 bytes=12 error: timed out after 5s waiting for echo".
func (p Probe) String() string {
	if p.Err != nil {
		return fmt.Sprintf("seq=%d bytes=%d error: %v", p.Seq, p.Bytes, p.Err)
	}
	return fmt.Sprintf("seq=%d bytes=%d rtt=%s", p.Seq, p.Bytes, latency.Format(p.RTT))
}

// CountResult summarises Count.
type CountResult struct {
	Addr         string
	MessageBytes int
	Count        int // probes asked for
	Sent         int // probes finished (OK + Errors)
	OK           int
	Errors       int
	RTT          latency.Stats // over the OK probes
	Interrupted  bool          // the context ended before Count probes were sent
	LastErr      error         // the last probe error, if any
}

// countRun is the state of one Count call; the interval report reads its
// counters while the probes go on.
type countRun struct {
	opts               CountOptions
	sent, ok, failures atomic.Int64
	rtt                latency.Histogram
}

// The probes that succeeded are the latencies recorded, so every
// interval's count and latencies agree.
func (r *countRun) totals() clientcli.Totals {
	var snap latency.Snapshot
	snap.Add(&r.rtt)
	ok := snap.Count()
	return clientcli.Totals{Sent: r.sent.Load(), Ops: ok, Bytes: ok * int64(len(r.opts.Message)),
		Errors: r.failures.Load(), Latency: &snap}
}

// Count sends opts.Message opts.Count times on one connection and measures
// each round trip. A probe that fails (timeout, mismatch, closed or broken
// connection) is counted as an error and the run goes on; the connection is
// closed after a failed probe and redialled for the next one, so a late
// echo cannot shift the stream. Only a failure of the first dial ends the
// run early (with a *DialError). When ctx ends, Count stops and returns the
// result so far with Interrupted set and ctx's error. Probe errors are not
// returned as an error: check CountResult.Errors.
func (c *Client) Count(ctx context.Context, opts CountOptions) (CountResult, error) {
	res := CountResult{Addr: c.Addr, MessageBytes: len(opts.Message), Count: opts.Count}
	if err := opts.validate(); err != nil {
		return res, err
	}
	conn, err := c.dial(ctx)
	if err != nil {
		if ctx.Err() != nil {
			res.Interrupted = true
		}
		return res, err
	}
	r := &countRun{opts: opts}
	stopReport := opts.Report.Start(r.totals)
	conn, res.LastErr = c.probes(ctx, r, conn)
	if conn != nil {
		conn.close()
	}
	stopReport()
	res.Sent, res.OK, res.Errors = int(r.sent.Load()), int(r.ok.Load()), int(r.failures.Load())
	var snap latency.Snapshot
	snap.Add(&r.rtt)
	res.RTT = snap.Stats()
	if res.Sent < opts.Count && ctx.Err() != nil {
		res.Interrupted = true
		return res, ctx.Err()
	}
	return res, nil
}

func (o CountOptions) validate() error {
	if err := clientcli.CheckMessage(o.Message, MaxMessageSize); err != nil {
		return err
	}
	if o.Count < 1 || o.Count > MaxCount {
		return fmt.Errorf("count %d is not between 1 and %d", o.Count, MaxCount)
	}
	if o.Interval < 0 {
		return errors.New("interval is negative")
	}
	return nil
}

// probes sends the probes of r on conn, redialling after a failed one, and
// returns the connection still open (or nil) and the last probe error.
func (c *Client) probes(ctx context.Context, r *countRun, conn *conn) (*conn, error) {
	msg := r.opts.Message
	buf := make([]byte, len(msg))
	var (
		lastErr   error
		lastStart time.Time
	)
	for i := range r.opts.Count {
		if i > 0 && !waitUntil(ctx, lastStart.Add(r.opts.Interval)) {
			break
		}
		lastStart = time.Now()
		p := Probe{Seq: i + 1, Bytes: len(msg)}
		if conn == nil {
			conn, p.Err = c.dial(ctx)
		}
		if p.Err == nil {
			p.RTT, _, p.Err = c.exchange(conn, msg, buf)
		}
		if p.Err != nil && ctx.Err() != nil {
			break // interrupted mid-probe: not counted
		}
		if p.Err != nil {
			p.RTT, lastErr = 0, p.Err
			r.failures.Add(1)
			if conn != nil {
				conn.close()
				conn = nil
			}
		} else {
			r.rtt.Record(p.RTT)
			r.ok.Add(1)
		}
		r.sent.Add(1)
		if r.opts.OnProbe != nil {
			r.opts.OnProbe(p)
		}
	}
	return conn, lastErr
}

// waitUntil waits until t (the start of the previous probe plus the
// interval) and reports whether ctx is still alive.
func waitUntil(ctx context.Context, t time.Time) bool {
	if wait := time.Until(t); wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-ctx.Done():
		case <-timer.C:
		}
	}
	return ctx.Err() == nil
}
