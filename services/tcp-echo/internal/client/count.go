package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
)

// CountOptions configures Count.
type CountOptions struct {
	Message  []byte
	Count    int           // 1..MaxCount
	Interval time.Duration // between the starts of two probes; 0 sends back to back
	// OnProbe, if set, is called after each probe on Count's goroutine.
	OnProbe func(Probe)
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
	return fmt.Sprintf("seq=%d bytes=%d rtt=%s", p.Seq, p.Bytes, fmtDuration(p.RTT))
}

// CountResult summarises Count.
type CountResult struct {
	Addr         string
	MessageBytes int
	Count        int // probes asked for
	Sent         int // probes finished (OK + Errors)
	OK           int
	Errors       int
	RTT          RTTStats // over the OK probes
	Interrupted  bool     // the context ended before Count probes were sent
	LastErr      error    // the last probe error, if any
}

// RTTStats summarises round-trip times; see clientcli.LatencyStats.
type RTTStats = clientcli.LatencyStats

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
	if err := checkMessage(opts.Message); err != nil {
		return res, err
	}
	if opts.Count < 1 || opts.Count > MaxCount {
		return res, fmt.Errorf("count %d is not between 1 and %d", opts.Count, MaxCount)
	}
	if opts.Interval < 0 {
		return res, errors.New("interval is negative")
	}
	conn, err := c.dial(ctx)
	if err != nil {
		if ctx.Err() != nil {
			res.Interrupted = true
		}
		return res, err
	}
	defer func() {
		if conn != nil {
			conn.close()
		}
	}()

	msg := opts.Message
	buf := make([]byte, len(msg))
	rtts := make([]time.Duration, 0, min(opts.Count, 1<<16))
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var lastStart time.Time
	for i := range opts.Count {
		if i > 0 && opts.Interval > 0 {
			if wait := time.Until(lastStart.Add(opts.Interval)); wait > 0 {
				timer.Reset(wait)
				select {
				case <-ctx.Done():
				case <-timer.C:
				}
			}
		}
		if ctx.Err() != nil {
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
		res.Sent++
		if p.Err != nil {
			p.RTT = 0
			res.Errors++
			res.LastErr = p.Err
			if conn != nil {
				conn.close()
				conn = nil
			}
		} else {
			res.OK++
			rtts = append(rtts, p.RTT)
		}
		if opts.OnProbe != nil {
			opts.OnProbe(p)
		}
	}
	res.RTT = clientcli.Summarize(rtts)
	if res.Sent < opts.Count && ctx.Err() != nil {
		res.Interrupted = true
		return res, ctx.Err()
	}
	return res, nil
}

// fmtDuration rounds to the microsecond: 153µs, 1.234ms, 2.5s.
func fmtDuration(d time.Duration) string {
	if d >= time.Microsecond || d <= -time.Microsecond {
		d = d.Round(time.Microsecond)
	}
	return d.String()
}
