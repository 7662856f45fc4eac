package clientcli

import (
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/netlab/netlab/services/platform/latency"
)

// Totals are the counters of a run so far; the interval report is made of
// the differences between successive Totals.
type Totals struct {
	Sent   int64 // operations started: requests or probes sent
	Ops    int64 // operations done: round trips, replies, requests, pieces
	Bytes  int64 // payload bytes moved (for an echo: each way)
	Lost   int64 // operations lost, as the mode defines loss
	Errors int64 // failures: failed requests, probes or connections
	// Latency is every latency recorded so far; nil when the mode measures
	// none.
	Latency *latency.Snapshot
	// TCP is the kernel's account of the run's connections so far; nil
	// when the mode does not read it or the system cannot.
	TCP *TCP
}

// Interval is what a run did in one interval of its report.
type Interval struct {
	Start, End                     time.Duration // since the report started
	Sent, Ops, Bytes, Lost, Errors int64
	Latency                        latency.Stats // of the operations done in the interval
	TCP                            *TCP          // the interval's retransmits, the gauges at its end; nil: none read
}

// Reporting asks a run for an interval report (--report-interval): every
// Every, Emit gets what the run did since the last one. The zero value
// reports nothing.
type Reporting struct {
	Every time.Duration
	Emit  func(Interval)
}

// Start begins the report of a run whose counters sample returns. The
// returned stop takes the last sample, emits the last, partial interval
// (when something happened in it, or no interval was emitted yet), and
// returns once Emit will not be called again. Emit is called from one
// goroutine at a time; sample must be safe to call while the run goes on.
// Call stop when the run's counters are final, so the intervals add up to
// the run's totals.
func (r Reporting) Start(sample func() Totals) (stop func()) {
	if r.Every <= 0 || r.Emit == nil {
		return func() {}
	}
	rep := &reporter{emit: r.Emit, sample: sample, start: time.Now(), quit: make(chan struct{})}
	rep.prev = sample()
	rep.wg.Go(func() { rep.tick(r.Every) })
	return rep.stop
}

type reporter struct {
	emit    func(Interval)
	sample  func() Totals
	start   time.Time
	prev    Totals
	prevEnd time.Duration
	emitted bool
	quit    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
}

func (r *reporter) tick(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-r.quit:
			return
		case <-t.C:
			r.next(true)
		}
	}
}

func (r *reporter) stop() {
	r.once.Do(func() {
		close(r.quit)
		r.wg.Wait()
		r.next(false)
	})
}

// next emits the interval up to now; a last one only when not empty.
func (r *reporter) next(always bool) {
	cur, end := r.sample(), time.Since(r.start)
	iv := Interval{
		Start: r.prevEnd, End: end,
		Sent: cur.Sent - r.prev.Sent, Ops: cur.Ops - r.prev.Ops, Bytes: cur.Bytes - r.prev.Bytes,
		Lost: cur.Lost - r.prev.Lost, Errors: cur.Errors - r.prev.Errors,
	}
	if cur.Latency != nil {
		prev := r.prev.Latency
		if prev == nil {
			prev = &latency.Snapshot{}
		}
		iv.Latency = cur.Latency.Since(prev).Stats()
	}
	iv.TCP = cur.TCP.since(r.prev.TCP)
	if !always && r.emitted && iv.empty() {
		return // nothing happened since the last line
	}
	r.prev, r.prevEnd, r.emitted = cur, end, true
	r.emit(iv)
}

// empty reports whether nothing happened in the interval: no operation,
// byte, loss, error or retransmission.
func (iv Interval) empty() bool {
	quiet := iv
	quiet.TCP = nil
	return quiet == (Interval{Start: iv.Start, End: iv.End}) && (iv.TCP == nil || iv.TCP.Retransmits == 0)
}

// perSecond is n over the interval, 0 for an empty one.
func (iv Interval) perSecond(n int64) float64 {
	if s := (iv.End - iv.Start).Seconds(); s > 0 {
		return float64(n) / s
	}
	return 0
}

// WriteText prints the interval as one line, in the manner of iperf3:
//
//	[  1.00-  2.00 s] 51234 ops 51234.0/s 3.28 MB/s 26.23 Mbit/s lost 0 errors 0 latency p50/p90/p99/p99.9/max = 92µs/130µs/260µs/1.1ms/3.1ms
//
// The latency is left out when nothing was measured in the interval; the
// TCP figures ("tcp retr 0 cwnd 10 rtt 52µs rate 1.20 Gbit/s") follow
// when the run read them.
func (iv Interval) WriteText(w io.Writer) error {
	line := fmt.Sprintf("[%7.2f-%7.2f s] %d ops %.1f/s %.2f MB/s %s lost %d errors %d",
		iv.Start.Seconds(), iv.End.Seconds(), iv.Ops, iv.perSecond(iv.Ops), iv.perSecond(iv.Bytes)/1e6,
		FormatBits(int64(math.Round(8*iv.perSecond(iv.Bytes)))), iv.Lost, iv.Errors)
	if l := iv.Latency; l.N > 0 {
		line += fmt.Sprintf(" latency p50/p90/p99/p99.9/max = %s/%s/%s/%s/%s",
			latency.Format(l.P50), latency.Format(l.P90), latency.Format(l.P99), latency.Format(l.P999), latency.Format(l.Max))
	}
	if iv.TCP != nil {
		line += " tcp " + iv.TCP.String()
	}
	_, err := io.WriteString(w, line+"\n")
	return err
}

// IntervalJSON is an Interval as every client writes it with --json: one
// object per line, told apart from the final summary by "type".
type IntervalJSON struct {
	Type           string       `json:"type"` // "interval"
	StartSeconds   float64      `json:"start_s"`
	EndSeconds     float64      `json:"end_s"`
	Sent           int64        `json:"sent"`
	Ops            int64        `json:"ops"`
	OpsPerSecond   float64      `json:"ops_per_second"`
	Bytes          int64        `json:"bytes"`
	BytesPerSecond float64      `json:"bytes_per_second"`
	BitsPerSecond  float64      `json:"bits_per_second"` // 8 × bytes_per_second
	Lost           int64        `json:"lost"`
	Errors         int64        `json:"errors"`
	Latency        latency.JSON `json:"latency"`
	TCP            *TCPJSON     `json:"tcp,omitempty"`
}

// WriteJSON prints the interval as one JSON object on one line.
func (iv Interval) WriteJSON(w io.Writer) error { return WriteJSON(w, iv.JSON()) }

// JSON returns the interval in its JSON shape.
func (iv Interval) JSON() IntervalJSON {
	round := func(v float64) float64 { return math.Round(v*1e6) / 1e6 }
	return IntervalJSON{
		Type: "interval", StartSeconds: round(iv.Start.Seconds()), EndSeconds: round(iv.End.Seconds()),
		Sent: iv.Sent, Ops: iv.Ops, OpsPerSecond: iv.perSecond(iv.Ops),
		Bytes: iv.Bytes, BytesPerSecond: iv.perSecond(iv.Bytes), BitsPerSecond: 8 * iv.perSecond(iv.Bytes),
		Lost: iv.Lost, Errors: iv.Errors, Latency: iv.Latency.JSON(), TCP: iv.TCP.JSON(),
	}
}

// Printer returns an Emit that prints each interval on w (which must take
// whole lines from several goroutines: see SyncWriter).
func Printer(w io.Writer, asJSON bool) func(Interval) {
	return func(iv Interval) { _ = Print(w, asJSON, iv) }
}
