package udpclient

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/latency"
	"github.com/netlab/netlab/services/platform/loadgen"
	"github.com/netlab/netlab/services/udp-responder/probe"
)

// Defaults and limits of load runs.
const (
	DefaultLoadDuration = 10 * time.Second
	DefaultLoadTimeout  = 200 * time.Millisecond // per request

	MaxLoadConnections = 1024
	MinLoadDuration    = 100 * time.Millisecond
	MaxLoadDuration    = time.Hour
	MinLoadTimeout     = time.Millisecond
	MaxLoadTimeout     = time.Minute
)

// Kinds of errors counted by Load, the keys of LoadResult.Errors.
const (
	// ErrKindRefused: an ICMP port unreachable came back (nothing listens
	// on the server's port). The request waits out its timeout anyway.
	ErrKindRefused = "refused"
	ErrKindSend    = "send"    // a request could not be written (not in Sent)
	ErrKindReceive = "receive" // a read failed other than by timeout or refusal
	ErrKindCorrupt = "corrupt" // a reply of this run failed its checksum
	// ErrKindForeign: a datagram that is not a reply to a request of this
	// socket (another run, not a probe, wrong size, a sequence number or
	// timestamp that was never sent).
	ErrKindForeign = "foreign"
	// ErrKindLate: a reply to an earlier request of the socket, which had
	// timed out (or a duplicate); it is not counted as a reply.
	ErrKindLate = "late"
)

// errKinds indexes the per-socket error counters.
var errKinds = [...]string{ErrKindRefused, ErrKindSend, ErrKindReceive, ErrKindCorrupt, ErrKindForeign, ErrKindLate}

const (
	kindRefused = iota
	kindSend
	kindReceive
	kindCorrupt
	kindForeign
	kindLate
)

// LoadOptions configures Load. Zero fields mean their defaults; Count,
// Duration or both bound the run (neither: DefaultLoadDuration).
type LoadOptions struct {
	Connections int           // sockets, 1..MaxLoadConnections, each with one request outstanding
	Size        int           // request size, probe.HeaderSize..probe.MaxSize
	Count       int           // requests in all, 0..MaxCount; 0: until Duration
	Duration    time.Duration // 0 or MinLoadDuration..MaxLoadDuration; 0: until Count
	Timeout     time.Duration // per request, MinLoadTimeout..MaxLoadTimeout
	// Rate is the requests per second over all sockets on a fixed
	// timetable (open loop): latency is then measured from each request's
	// scheduled start. 0: each socket sends as soon as its last request
	// is done (closed loop).
	Rate float64
	// Report, if set, gets the requests of each interval of the run.
	Report clientcli.Reporting
}

func (o LoadOptions) normalize() (LoadOptions, error) {
	o.Size, o.Connections = cmp.Or(o.Size, DefaultSize), cmp.Or(o.Connections, DefaultConnections)
	if o.Duration == 0 && o.Count == 0 {
		o.Duration = DefaultLoadDuration
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultLoadTimeout
	}
	switch {
	case o.Connections < 1 || o.Connections > MaxLoadConnections:
		return o, fmt.Errorf("connections %d is not between 1 and %d", o.Connections, MaxLoadConnections)
	case o.Size < probe.HeaderSize || o.Size > probe.MaxSize:
		return o, fmt.Errorf("size %d is not between %d and %d", o.Size, probe.HeaderSize, probe.MaxSize)
	case o.Duration != 0 && (o.Duration < MinLoadDuration || o.Duration > MaxLoadDuration):
		return o, fmt.Errorf("duration %s is not between %s and %s", o.Duration, MinLoadDuration, MaxLoadDuration)
	case o.Count < 0 || o.Count > MaxCount:
		return o, fmt.Errorf("count %d is not between 1 and %d", o.Count, MaxCount)
	case math.IsNaN(o.Rate) || o.Rate < 0 || o.Rate > MaxRate:
		return o, fmt.Errorf("rate %g is not between 0 and %d", o.Rate, MaxRate)
	case o.Timeout < MinLoadTimeout || o.Timeout > MaxLoadTimeout:
		return o, fmt.Errorf("timeout %s is not between %s and %s", o.Timeout, MinLoadTimeout, MaxLoadTimeout)
	}
	return o, nil
}

// LoadResult is the outcome of Load. Every request sent ends as exactly one
// of received, lost or unfinished: Sent = Received + Lost + Unfinished.
type LoadResult struct {
	Addr        string
	Connections int
	Size        int
	Timeout     time.Duration // per request
	Count       int           // asked for; 0: until Period
	Period      time.Duration // the duration asked for; 0: until Count
	Rate        float64       // asked for; 0: closed loop
	// Duration is how long requests were sent: the asked-for duration, or
	// less when interrupted or done with Count.
	Duration time.Duration
	Sent     int64
	Received int64 // requests answered within their timeout
	Lost     int64 // requests whose timeout expired
	// Unfinished counts the requests still waiting for a reply when the run
	// ended (at most one per socket); they are neither received nor lost.
	Unfinished int64
	// LossPercent is 100 * Lost / (Received + Lost); 0 when none finished.
	LossPercent      float64
	RepliesPerSecond float64 // Received / Duration
	// RTT summarises the round-trip times of the received requests, from
	// each request's actual send; the percentiles are within 0.4%.
	RTT latency.Stats
	// Latency is every round trip as the run measures it: from the
	// scheduled start in an open loop (corrected for coordinated
	// omission), else from the send; the saved histogram.
	Latency *latency.Snapshot
	// Schedule is the timetable's account: kept or not, requests late or
	// never started.
	Schedule    loadgen.Summary
	Errors      map[string]int64 // by ErrKind*, only kinds that occurred
	Interrupted bool             // the context ended the run early
}

// Load runs a closed-loop load: each of opts.Connections sockets sends a probe
// of opts.Size bytes, waits for its reply (up to opts.Timeout, after which
// the request counts as lost), and at once sends the next, until
// opts.Duration has passed. Replies are matched by run id and sequence
// number and verified: a reply must be the request's bytes, with or
// without the reply flag, so plain echo servers work too. Replies
// to earlier requests of a socket are counted as ErrKindLate and ignored.
//
// When ctx ends, the run stops at once and Load returns the result with
// Interrupted set and ctx's error. Otherwise the error is non-nil only when
// the run could not start (invalid options, *DialError).
//
// Memory is fixed by the options: per socket a request buffer of Size
// bytes, a 64 KiB receive buffer and a 58 KiB RTT histogram. Answered
// requests allocate nothing.
func (c *Client) Load(ctx context.Context, opts LoadOptions) (LoadResult, error) {
	opts, err := opts.normalize()
	res := LoadResult{Addr: c.Addr, Connections: opts.Connections, Size: opts.Size, Timeout: opts.Timeout}
	conns, interrupted, err := c.dialRun(ctx, err, opts.Connections)
	if err != nil {
		res.Interrupted = interrupted
		return res, err
	}
	defer conns.close()
	runID := rand.Uint64()
	plan := loadgen.Plan{Rate: opts.Rate, Count: int64(opts.Count), Duration: opts.Duration}
	tt := loadgen.New(loadgen.Wall, plan)
	sockets := loadSockets{tt: tt, plan: plan, ss: make([]*loadSocket, len(conns))}
	for i, conn := range conns {
		sockets.ss[i] = newLoadSocket(conn, runID, opts)
	}
	res.Count, res.Period, res.Rate = opts.Count, opts.Duration, opts.Rate
	stopReport := opts.Report.Start(sockets.totals)
	res.Duration, interrupted = sockets.run(ctx)
	stopReport()
	sockets.summarize(&res)
	if interrupted {
		res.Interrupted = true
		return res, ctx.Err()
	}
	return res, nil
}

// loadSockets are the sockets of one load run and its timetable.
type loadSockets struct {
	tt   *loadgen.Timetable
	plan loadgen.Plan
	ss   []*loadSocket
}

// run drives every socket on the timetable until its plan is done or ctx
// ends; it returns how long requests were sent and whether ctx cut the
// run short.
func (ls loadSockets) run(ctx context.Context) (time.Duration, bool) {
	var stopped atomic.Bool
	var end time.Time // zero: no Duration
	if ls.plan.Duration > 0 {
		end = ls.tt.Started().Add(ls.plan.Duration)
	}
	// A canceled context wakes every socket at once. The flag is set
	// before the deadlines, and a socket checks it after setting its own
	// deadline, so no socket can miss the stop.
	stopOnCancel := context.AfterFunc(ctx, func() {
		stopped.Store(true)
		ls.tt.Stop()
		for _, s := range ls.ss {
			_ = s.conn.SetReadDeadline(time.Unix(1, 0))
		}
	})
	var wg sync.WaitGroup
	for w, s := range ls.ss {
		wg.Go(func() {
			for {
				slot, ok := ls.tt.Next(ctx)
				if !ok || !s.roundTrip(ls.tt, w, slot, end, &stopped) {
					return
				}
			}
		})
	}
	wg.Wait()
	ran := time.Since(ls.tt.Started())
	if ls.plan.Duration > 0 {
		ran = min(ran, ls.plan.Duration)
	}
	finished := ls.plan.Duration > 0 && ran >= ls.plan.Duration ||
		ls.plan.Count > 0 && ls.tt.Summary().Started >= ls.plan.Count
	stopOnCancel()
	// Asked of ctx, not of stopped: after a cancel the sockets may all be
	// done before the AfterFunc's goroutine has set it.
	return ran, ctx.Err() != nil && !finished
}

// totals are the run's counters so far, for the interval report: the
// replies are the latencies recorded (so an interval's count and
// latencies agree), lost requests those whose timeout expired, errors
// failed sends, failed reads, refusals and corrupt replies.
func (ls loadSockets) totals() clientcli.Totals {
	var t clientcli.Totals
	for _, s := range ls.ss {
		t.Sent += s.sent.Load()
		t.Lost += s.lost.Load()
		for _, k := range []int{kindRefused, kindSend, kindReceive, kindCorrupt} {
			t.Errors += s.errs[k].Load()
		}
	}
	t.Latency = ls.tt.Latency()
	t.Ops = t.Latency.Count()
	t.Bytes = t.Ops * int64(len(ls.ss[0].req))
	return t
}

// summarize fills res in from the sockets once the run is over.
func (ls loadSockets) summarize(res *LoadResult) {
	var errs [len(errKinds)]int64
	for _, s := range ls.ss {
		res.Sent += s.sent.Load()
		res.Received += s.received.Load()
		res.Lost += s.lost.Load()
		res.Unfinished += s.unfinished
		for k := range s.errs {
			errs[k] += s.errs[k].Load()
		}
	}
	res.Errors = map[string]int64{}
	for k, n := range errs {
		if n > 0 {
			res.Errors[errKinds[k]] = n
		}
	}
	if done := res.Received + res.Lost; done > 0 {
		res.LossPercent = 100 * float64(res.Lost) / float64(done)
	}
	if res.Duration > 0 {
		res.RepliesPerSecond = float64(res.Received) / res.Duration.Seconds()
	}
	res.Schedule = ls.tt.Summary()
	res.Latency = ls.tt.Latency()
	res.RTT = res.Schedule.Uncorrected
}

// loadSocket is one socket of a load run and everything it counts; only
// its own goroutine writes it. The counters the interval report reads
// while the run goes on are atomic.
type loadSocket struct {
	conn      *net.UDPConn
	runID     uint64
	timeout   time.Duration
	req, resp []byte
	seq       uint64 // of the request outstanding or last sent

	sent, received, lost atomic.Int64
	unfinished           int64
	errs                 [len(errKinds)]atomic.Int64
}

func newLoadSocket(conn *net.UDPConn, runID uint64, opts LoadOptions) *loadSocket {
	return &loadSocket{
		conn:    conn,
		runID:   runID,
		timeout: opts.Timeout,
		req:     make([]byte, opts.Size),
		resp:    make([]byte, probe.MaxSize+1),
	}
}

// roundTrip sends the request of slot and waits for its reply, its
// timeout, the end of the run (zero: none) or the stop flag, whichever
// comes first, recording an answered request on tt as worker. It returns
// whether the run goes on. It allocates nothing when the reply comes.
func (s *loadSocket) roundTrip(tt *loadgen.Timetable, worker int, slot loadgen.Slot, end time.Time, stopped *atomic.Bool) bool {
	now := time.Now()
	if stopped.Load() {
		return false
	}
	s.seq++
	// The size was checked by normalize: Encode cannot fail.
	_ = probe.Encode(s.req, probe.Probe{RunID: s.runID, Seq: s.seq, SentUnix: now.UnixNano()})
	start := time.Now() // after encoding, which takes a while for big requests
	slot.Start = start  // the uncorrected RTT starts here too
	timeout := start.Add(s.timeout)
	deadline := timeout
	if !end.IsZero() && end.Before(deadline) {
		deadline = end
	}
	if err := s.conn.SetReadDeadline(deadline); err != nil {
		return false // the socket is closed
	}
	if stopped.Load() { // checked after setting the deadline: see Load
		return false
	}
	refused, err := writeDatagram(s.conn, s.req)
	s.errs[kindRefused].Add(int64(refused))
	sent := err == nil
	if sent {
		s.sent.Add(1)
	} else {
		// Not sent; wait out the timeout below all the same, so that a
		// failing socket does not spin.
		s.errs[kindSend].Add(1)
	}
	for {
		n, err := s.conn.Read(s.resp)
		at := time.Now()
		if err != nil {
			switch {
			case isRefused(err):
				// Nothing listens there now; the server may be starting.
				s.errs[kindRefused].Add(1)
				continue
			case errors.Is(err, os.ErrDeadlineExceeded):
				if sent {
					if at.Before(timeout) {
						s.unfinished++ // woken by the end of the run or a stop
					} else {
						s.lost.Add(1)
					}
				}
				return true // the loop checks the end and the stop flag
			case errors.Is(err, net.ErrClosed):
				if sent {
					s.unfinished++
				}
				return false
			}
			s.errs[kindReceive].Add(1)
			continue
		}
		if !sent {
			s.reject(s.resp[:n])
			continue
		}
		if isReplyTo(s.resp[:n], s.req) {
			tt.Record(worker, slot, at)
			s.received.Add(1)
			return true
		}
		s.reject(s.resp[:n])
	}
}

// reject counts b, a datagram that is not the reply awaited (or arrived
// while none was).
func (s *loadSocket) reject(b []byte) {
	p, err := probe.Parse(b)
	switch {
	case errors.Is(err, probe.ErrChecksum):
		s.errs[kindCorrupt].Add(1)
	case errors.Is(err, probe.ErrReserved) && p.RunID == s.runID:
		s.errs[kindCorrupt].Add(1) // a flipped bit in the flags or reserved bytes
	case err != nil, p.RunID != s.runID, len(b) != len(s.req), p.Seq > s.seq:
		s.errs[kindForeign].Add(1)
	case p.Seq < s.seq:
		s.errs[kindLate].Add(1)
	default:
		s.errs[kindForeign].Add(1) // the current seq, but not the bytes sent
	}
}
