package udpclient

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/latency"
	"github.com/netlab/netlab/services/platform/neterr"
	"github.com/netlab/netlab/services/udp-responder/internal/rxstamp"
	"github.com/netlab/netlab/services/udp-responder/probe"
)

// ProbeOptions configures Probe. Count, Duration or both bound the run.
type ProbeOptions struct {
	Count int // probes to send, 1..MaxCount; 0: Rate × Duration
	// Duration sends for that long at Rate (which must then be above 0):
	// Rate × Duration probes, or Count if that is fewer.
	Duration time.Duration
	// Rate is the probes per second over all sockets, each socket sending
	// its share; 0 sends as fast as the sockets allow.
	Rate        float64
	Size        int // datagram size, probe.HeaderSize..probe.MaxSize; 0 means DefaultSize
	Connections int // sockets, 1..MaxConnections; 0 means 1; more than Count is cut to Count
	// Progress, if set, is called every ProgressInterval (0 means 1s) on a
	// goroutine of Probe's until the run ends; never after Probe returns.
	Progress         func(Progress)
	ProgressInterval time.Duration
	// Report, if set, gets the probes of each interval of the run.
	Report clientcli.Reporting
}

func (o ProbeOptions) normalize() (ProbeOptions, error) {
	o.Size, o.Connections = cmp.Or(o.Size, DefaultSize), cmp.Or(o.Connections, DefaultConnections)
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = time.Second
	}
	if err := o.countFromDuration(); err != nil {
		return o, err
	}
	switch {
	case o.Count < 1 || o.Count > MaxCount:
		return o, fmt.Errorf("count %d is not between 1 and %d", o.Count, MaxCount)
	case math.IsNaN(o.Rate) || o.Rate < 0 || o.Rate > MaxRate:
		return o, fmt.Errorf("rate %g is not between 0 and %d", o.Rate, MaxRate)
	case o.Size < probe.HeaderSize || o.Size > probe.MaxSize:
		return o, fmt.Errorf("size %d is not between %d and %d", o.Size, probe.HeaderSize, probe.MaxSize)
	case o.Connections < 1 || o.Connections > MaxConnections:
		return o, fmt.Errorf("connections %d is not between 1 and %d", o.Connections, MaxConnections)
	}
	o.Connections = min(o.Connections, o.Count)
	return o, nil
}

// countFromDuration turns a Duration into the probes due in it.
func (o *ProbeOptions) countFromDuration() error {
	if o.Duration == 0 {
		return nil
	}
	switch {
	case o.Duration < 0 || o.Duration > MaxProbeDuration:
		return fmt.Errorf("duration %s is not between 0 and %s", o.Duration, MaxProbeDuration)
	case !(o.Rate > 0):
		return errors.New("a duration needs a rate above 0 (the probes due in it are the run's count)")
	}
	n := math.Ceil(o.Rate * o.Duration.Seconds())
	if n > MaxCount {
		return fmt.Errorf("duration %s at %g/s is %.0f probes, more than %d", o.Duration, o.Rate, n, MaxCount)
	}
	if o.Count == 0 || int(n) < o.Count {
		o.Count = max(int(n), 1)
	}
	return nil
}

// Result is the outcome of Probe.
type Result struct {
	Addr        string
	RunID       uint64
	Count       int
	Size        int
	Connections int
	Rate        float64
	Bitrate     float64       // asked for (--bitrate), bits per second; 0: the rate was given
	Period      time.Duration // the Duration asked for; 0: bounded by Count
	V2          bool          // the probes were version 2 (Size ≥ probe.HeaderSizeV2)
	Stats
	// Latency holds every RTT, for the saved histogram.
	Latency *latency.Snapshot
	// SendDuration is how long sending took: from the start to the end of
	// the last send, at least Sent / Rate (the time the probes sent were
	// due over). The bit rates are over it.
	SendDuration time.Duration
	// Directions splits the loss into upstream and downstream; nil when the
	// probes were version 1 or the responder does not speak version 2.
	Directions *Directions
	// KernelTimestamps: every reply's arrival time came from the kernel
	// (SO_TIMESTAMPNS), not from when the client read it.
	KernelTimestamps bool
	// Unreachable counts ICMP port unreachable reports (ECONNREFUSED) on the
	// sockets: the server's port was closed for some probes.
	Unreachable int64
	SendErrors  int64         // probes that could not be written (not in Sent)
	Interrupted bool          // the context ended before every probe was sent
	Duration    time.Duration // from the start of sending to the end of the wait for replies
	LastErr     error         // the last send or receive error, if any
}

// Probe sends opts.Count probes on opts.Connections sockets at opts.Rate and
// matches the replies. Each probe carries a random run id, a sequence number
// unique over all sockets, and its send time; RTTs are measured on the
// monotonic clock from send times kept per sequence number, and the
// timestamp a reply carries is only checked for plausibility.
//
// After the last send Probe waits up to Timeout for the outstanding replies
// (less if every probe is answered). When ctx ends, sending stops, the wait
// still happens, and Probe returns the result with Interrupted set and ctx's
// error. Otherwise the error is non-nil only when the run could not start
// (invalid options, *DialError); loss, corruption and I/O errors during the
// run are in the Result.
//
// Memory: 8 bytes per probe (see Recorder) plus one 64 KiB receive buffer
// and one Size send buffer per socket.
func (c *Client) Probe(ctx context.Context, opts ProbeOptions) (Result, error) {
	opts, err := opts.normalize()
	res := Result{Addr: c.Addr, Count: opts.Count, Size: opts.Size, Connections: opts.Connections, Rate: opts.Rate}
	conns, interrupted, err := c.dialRun(ctx, err, opts.Connections)
	if err != nil {
		res.Interrupted = interrupted
		return res, err
	}
	defer conns.close()

	r := &run{
		opts:  opts,
		runID: rand.Uint64(),
		rec:   NewRecorder(opts.Count, len(conns)),
		conns: conns,
		v2:    opts.Size >= probe.HeaderSizeV2,
	}
	for _, conn := range conns {
		if raw, err := conn.SyscallConn(); err == nil {
			_ = rxstamp.Enable(raw)
		}
	}
	r.start = time.Now()
	r.base = r.start.UnixNano()
	res.RunID, res.V2, res.Period = r.runID, r.v2, opts.Duration

	var receivers sync.WaitGroup
	for i := range conns {
		receivers.Go(func() { r.receive(i) })
	}
	stopProgress := r.progress()
	stopReport := opts.Report.Start(r.totals)
	var senders sync.WaitGroup
	for i := range conns {
		senders.Go(func() { r.send(ctx, i) })
	}
	senders.Wait()
	res.SendDuration = time.Duration(r.lastSend.Load())
	r.lastReplies(c.timeout())
	receivers.Wait()
	var count countAnswer
	if r.v2 && ctx.Err() == nil && r.replies.unfilled.Load() == 0 {
		count = r.queryCount(c.timeout())
	}
	res.Duration = time.Since(r.start)
	stopProgress()
	stopReport()

	res.Stats = r.rec.Stats()
	res.Latency = r.rec.Latency()
	if opts.Rate > 0 {
		res.SendDuration = max(res.SendDuration, time.Duration(float64(res.Sent)/opts.Rate*float64(time.Second)))
	}
	res.KernelTimestamps = r.replies.datagrams.Load() > 0 && r.replies.kernel.Load() == r.replies.datagrams.Load()
	res.Directions = r.directions(res.Stats, count)
	res.Unreachable = r.unreachable.Load()
	res.SendErrors = r.sendErrors.Load()
	res.LastErr = r.lastErr()
	if ctx.Err() != nil && r.next.Load() < uint64(opts.Count) {
		res.Interrupted = true
		return res, ctx.Err()
	}
	return res, nil
}

// lastReplies lets the receivers wait up to timeout for the replies still
// on their way: the deadline first, then the flag that lets a receiver cut
// the wait short when everything is answered.
func (r *run) lastReplies(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for _, conn := range r.conns {
		_ = conn.SetReadDeadline(deadline)
	}
	r.sendingDone.Store(true)
	if r.rec.Outstanding() == 0 {
		r.wakeReceivers()
	}
}

// totals are the run's counters so far, for the interval report. A probe
// is lost where its reply would have come: an interval counts as lost the
// probes it sent minus the replies it received, so a reply that comes in
// the next interval moves one from this line's loss to that one's, and the
// lines add up to the run's loss. Errors are corrupt replies and failed
// sends.
func (r *run) totals() clientcli.Totals {
	lat := r.rec.Latency()
	p := r.rec.Progress()
	received := lat.Count() // the replies are the latencies recorded
	return clientcli.Totals{Sent: p.Sent, Ops: received, Bytes: received * int64(r.opts.Size),
		Lost: p.Sent - received, Errors: p.Corrupted + r.sendErrors.Load(), Latency: lat}
}

// dialRun opens the n sockets of a Probe or Load run once its options
// are checked (optsErr: what their normalize said). The run was
// interrupted when ctx ended before the sockets were open.
func (c *Client) dialRun(ctx context.Context, optsErr error, n int) (conns udpConns, interrupted bool, err error) {
	if optsErr != nil {
		return nil, false, optsErr
	}
	conns, err = c.dialN(ctx, n)
	return conns, err != nil && ctx.Err() != nil, err
}

// udpConns are the sockets of one run.
type udpConns []*net.UDPConn

func (cs udpConns) close() {
	for _, c := range cs {
		_ = c.Close()
	}
}

// dialN opens n sockets connected to the same resolved address, so a name
// with several addresses cannot spread one run over several servers.
func (c *Client) dialN(ctx context.Context, n int) (udpConns, error) {
	first, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	conns := udpConns{first}
	raddr := first.RemoteAddr().(*net.UDPAddr)
	for len(conns) < n {
		conn, err := net.DialUDP("udp", nil, raddr)
		if err != nil {
			conns.close()
			return nil, &DialError{Addr: c.Addr, Err: err}
		}
		_ = conn.SetReadBuffer(socketBuffer)
		_ = conn.SetWriteBuffer(socketBuffer)
		conns = append(conns, conn)
	}
	return conns, nil
}

// run is the state of one Probe call.
type run struct {
	opts  ProbeOptions
	runID uint64
	rec   *Recorder
	conns []*net.UDPConn
	start time.Time // all times are offsets from start on the monotonic clock
	base  int64     // start in Unix nanoseconds: a probe's timestamp is base + its send offset
	v2    bool      // send version 2 probes

	replies v2Replies

	next        atomic.Uint64 // the next sequence number to send
	sendingDone atomic.Bool
	lastSend    atomic.Int64 // offset of the last send, ns
	unreachable atomic.Int64
	sendErrors  atomic.Int64

	mu  sync.Mutex
	err error
}

// send is the sender of socket i. With a rate, its j-th probe is due at
// (j*C + i) / Rate seconds after the start (C sockets), so the sockets
// interleave evenly; a sender that falls behind catches up at once, which
// keeps the average rate.
func (r *run) send(ctx context.Context, i int) {
	conn := r.conns[i]
	buf := make([]byte, r.opts.Size)
	done := ctx.Done()
	var timer *time.Timer
	if r.opts.Rate > 0 {
		timer = time.NewTimer(time.Hour)
		timer.Stop()
		defer timer.Stop()
	}
	c := len(r.conns)
	for j := 0; ; j++ {
		if timer != nil {
			due := time.Duration(float64(j*c+i) / r.opts.Rate * float64(time.Second))
			if wait := due - time.Since(r.start); wait > 0 {
				timer.Reset(wait)
				select {
				case <-done:
					return
				case <-timer.C:
				}
			}
		}
		select {
		case <-done:
			return
		default:
		}
		seq := r.next.Add(1) - 1
		if seq >= uint64(r.opts.Count) {
			return
		}
		stamp := time.Since(r.start)
		_ = probe.Encode(buf, probe.Probe{V2: r.v2, RunID: r.runID, Seq: seq, SentUnix: r.base + int64(stamp)})
		// The RTT starts after encoding, which takes a while for big probes.
		r.rec.Sent(seq, time.Since(r.start))
		refused, err := writeDatagram(conn, buf)
		if at := int64(time.Since(r.start)); err == nil {
			for m := r.lastSend.Load(); at > m && !r.lastSend.CompareAndSwap(m, at); m = r.lastSend.Load() {
			}
		}
		r.unreachable.Add(int64(refused))
		if err != nil {
			r.rec.Unsent(seq)
			r.sendErrors.Add(1)
			r.setErr(&neterr.OpError{Op: "send", Err: err})
		}
	}
}

// receive is the receiver of socket i; it returns when the socket's read
// deadline passes or the socket fails. A reply's arrival is the kernel's
// receive timestamp where there is one, so the time it waited for this
// goroutine is not in its RTT or one-way delay.
func (r *run) receive(i int) {
	conn := r.conns[i]
	buf := make([]byte, probe.MaxSize+1)
	oob := make([]byte, rxstamp.ControlSize)
	for {
		n, oobn, _, _, err := conn.ReadMsgUDPAddrPort(buf, oob)
		now := time.Now()
		at := now.Sub(r.start)
		if err == nil {
			r.replies.datagrams.Add(1)
			if ns, ok := rxstamp.Parse(oob[:oobn]); ok {
				// The kernel's stamp is on the wall clock: move the
				// monotonic arrival back by how long ago it was.
				if lag := time.Duration(now.UnixNano() - ns); lag >= 0 && lag < time.Minute {
					at -= lag
					r.replies.kernel.Add(1)
				}
			}
		}
		if err != nil {
			switch {
			case isRefused(err):
				r.unreachable.Add(1)
				continue
			case neterr.IsTimeout(err), errors.Is(err, net.ErrClosed):
				return
			}
			r.setErr(&neterr.OpError{Op: "receive", Err: err})
			return
		}
		r.handle(i, buf[:n], at)
	}
}

// handle classifies one datagram received on socket i at offset at.
func (r *run) handle(i int, b []byte, at time.Duration) {
	p, err := probe.Parse(b)
	switch {
	case errors.Is(err, probe.ErrChecksum):
		r.rec.Corrupted()
		return
	case errors.Is(err, probe.ErrReserved) && p.RunID == r.runID:
		r.rec.Corrupted() // a flipped bit in the flags or reserved bytes
		return
	case err != nil, p.RunID != r.runID, len(b) != r.opts.Size, p.V2 != r.v2, p.Query:
		r.rec.Foreign()
		return
	}
	// A reply of this run carries a timestamp between the start and now.
	if stamp := p.SentUnix - r.base; stamp < 0 || stamp > int64(at) {
		r.rec.Foreign()
		return
	}
	var out Outcome
	if resp := p.Responder; resp.Filled {
		r.replies.add(resp)
		out = r.rec.ReplyTimed(i, p.Seq, at, time.Duration(resp.RecvUnix-r.base), time.Duration(resp.SendUnix-r.base))
	} else {
		if r.v2 {
			r.replies.unfilled.Add(1) // the responder does not speak version 2
		}
		out = r.rec.Reply(i, p.Seq, at)
	}
	if out == InOrder || out == Reordered {
		if r.sendingDone.Load() && r.rec.Outstanding() == 0 {
			r.wakeReceivers()
		}
	}
}

// wakeReceivers ends the wait for replies: everything sent is answered.
func (r *run) wakeReceivers() {
	for _, conn := range r.conns {
		_ = conn.SetReadDeadline(time.Unix(1, 0))
	}
}

// progress starts the progress reports, if asked for, and returns the
// function that stops them and waits for the last one to finish.
func (r *run) progress() (stop func()) {
	if r.opts.Progress == nil {
		return func() {}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(r.opts.ProgressInterval)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				p := r.rec.Progress()
				p.Elapsed = time.Since(r.start)
				r.opts.Progress(p)
			}
		}
	})
	return func() {
		close(quit)
		wg.Wait()
	}
}

func (r *run) setErr(err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
}

func (r *run) lastErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}
