package udpclient

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/latency"
	"github.com/netlab/netlab/services/udp-responder/probe"
)

// WriteText prints the reply as the tutorial client does, with a colon:
// Received: Hello, client!
// A reply that is not printable UTF-8 text is printed as a quoted Go string.
func (r Reply) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "Received: %s\n", Printable(r.Received))
	return err
}

// Printable returns b as text when it is valid UTF-8 made of printable
// characters and spaces, else as a quoted Go string ("\x00\n").
func Printable(b []byte) string {
	if !utf8.Valid(b) || strings.ContainsFunc(string(b), func(r rune) bool { return !unicode.IsPrint(r) }) {
		return strconv.Quote(string(b))
	}
	return string(b)
}

type replyJSON struct {
	Mode          string `json:"mode"`
	Addr          string `json:"addr"`
	Sent          string `json:"sent"`
	Received      string `json:"received"`
	BytesSent     int    `json:"bytes_sent"`
	BytesReceived int    `json:"bytes_received"`
	Tries         int    `json:"tries"`
	RTTNs         int64  `json:"rtt_ns"`
	RTT           string `json:"rtt"`
}

// WriteJSON prints the reply as one JSON object on one line.
func (r Reply) WriteJSON(w io.Writer) error {
	return clientcli.WriteJSON(w, replyJSON{
		Mode:          "message",
		Addr:          r.Addr,
		Sent:          string(r.Sent),
		Received:      string(r.Received),
		BytesSent:     len(r.Sent),
		BytesReceived: len(r.Received),
		Tries:         r.Tries,
		RTTNs:         int64(r.RTT),
		RTT:           latency.Format(r.RTT),
	})
}

// WriteText prints the summary of a probe run, ping style:
//
//	--- udp-responder:12345 probe statistics ---
//	1000 sent, 998 received, 2 lost (0.20% loss), 0 reordered, 0 duplicated, 0 corrupted
//	upstream 0 lost (0.00%), downstream 2 lost (0.20%): the responder received 1000
//	rtt min/avg/p50/p90/p99/p99.9/max = 101µs/180µs/170µs/230µs/410µs/1.1ms/1.2ms
//	up   min/avg/p50/p90/p99/p99.9/max = 40µs/81µs/80µs/101µs/190µs/510µs/560µs
//	down min/avg/p50/p90/p99/p99.9/max = 48µs/86µs/84µs/110µs/200µs/520µs/600µs
//	jitter (RFC 3550) = 21µs
//	bitrate 544.0 kbit/s sent, 542.9 kbit/s received
//
// A line with foreign datagrams, port unreachable reports and send errors
// follows the counts when any of them is not zero; the RTT, one-way and
// jitter lines are left out when nothing was received, the direction
// lines when the run could not split its loss (notes say why).
func (r Result) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s probe statistics ---\n", r.Addr)
	reordered := fmt.Sprintf("%d reordered", r.Reordered)
	if r.Reordered > 0 {
		reordered += fmt.Sprintf(" (max extent %d)", r.ReorderExtentMax)
	}
	fmt.Fprintf(&b, "%d sent, %d received, %d lost (%.2f%% loss), %s, %d duplicated, %d corrupted",
		r.Sent, r.Received, r.Lost, r.LossPercent, reordered, r.Duplicated, r.Corrupted)
	if r.Interrupted {
		fmt.Fprintf(&b, " (interrupted after %d of %d)", r.Sent, r.Count)
	}
	b.WriteByte('\n')
	var extra []string
	for _, e := range []struct {
		n    int64
		what string
	}{{r.Foreign, "foreign"}, {r.Unreachable, "port unreachable"}, {r.SendErrors, "send errors"}} {
		if e.n != 0 {
			extra = append(extra, fmt.Sprintf("%d %s", e.n, e.what))
		}
	}
	if len(extra) > 0 {
		b.WriteString(strings.Join(extra, ", "))
		b.WriteByte('\n')
	}
	r.writeDirections(&b)
	if r.RTT.N > 0 {
		fmt.Fprintf(&b, "rtt %s\n", r.RTT)
		if r.Directions != nil && r.Up.N > 0 {
			fmt.Fprintf(&b, "up   %s\ndown %s\n", r.Up.Stats, r.Down.Stats)
		}
		fmt.Fprintf(&b, "jitter (RFC 3550) = %s\n", latency.Format(r.Jitter))
	}
	fmt.Fprintf(&b, "bitrate %s sent, %s received", formatBits(r.SentBitrate()), formatBits(r.ReceivedBitrate()))
	if r.Bitrate > 0 {
		fmt.Fprintf(&b, " (asked %s)", formatBits(r.Bitrate))
	}
	b.WriteByte('\n')
	r.writeNotes(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeDirections writes the loss of each direction.
func (r Result) writeDirections(b *strings.Builder) {
	d := r.Directions
	switch {
	case d == nil || d.NotCounted:
		return
	case d.Exact:
		fmt.Fprintf(b, "upstream %d lost (%.2f%%), downstream %d lost (%.2f%%): the responder received %d\n",
			d.UpLost, d.UpLossPercent, d.DownLost, d.DownLossPercent, d.ResponderReceived)
	default:
		fmt.Fprintf(b, "upstream at most %d lost, downstream at least %d: the responder's count did not come back after %d queries; the highest a reply carried was %d\n",
			d.UpLost, d.DownLost, d.Queries, d.ResponderReceived)
	}
}

// writeNotes says what the run could not measure, and why.
func (r Result) writeNotes(b *strings.Builder) {
	d := r.Directions
	switch {
	case !r.V2:
		fmt.Fprintf(b, "note: version 1 probes (--size below %d): no per-direction loss or one-way delay\n", probe.HeaderSizeV2)
	case d == nil && r.Received > 0:
		b.WriteString("note: the responder does not speak probe version 2: no per-direction loss or one-way delay\n")
	case d != nil && d.NotCounted:
		b.WriteString("note: the responder's run table is full (PROBE_RUNS): no per-direction loss\n")
	}
	if d != nil && (r.Up.ClockSuspect() || r.Down.ClockSuspect()) {
		fmt.Fprintf(b, "note: %d one-way delays below zero (min up %s, down %s): the client's and the responder's clocks differ; one-way delay needs them in sync (NTP, PTP)\n",
			r.Up.Negative+r.Down.Negative, latency.Format(r.Up.Min), latency.Format(r.Down.Min))
	}
	var readTime []string
	if r.Received > 0 && !r.KernelTimestamps {
		readTime = append(readTime, "the client")
	}
	if d != nil && r.Up.N > 0 && !d.ResponderKernelTimestamps {
		readTime = append(readTime, "the responder")
	}
	if len(readTime) > 0 {
		fmt.Fprintf(b, "note: no kernel receive timestamps on %s: arrival times are read times\n", strings.Join(readTime, " and "))
	}
}

// SentBitrate is the probes sent, in bits per second of sending time.
func (r Result) SentBitrate() float64 { return bitrate(r.Sent, r.Size, r.SendDuration) }

// ReceivedBitrate is the replies received, in bits per second of sending
// time.
func (r Result) ReceivedBitrate() float64 { return bitrate(r.Received, r.Size, r.SendDuration) }

func bitrate(n int64, size int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return 8 * float64(n) * float64(size) / d.Seconds()
}

type resultJSON struct {
	Mode                  string          `json:"mode"`
	Addr                  string          `json:"addr"`
	RunID                 string          `json:"run_id"` // 16 hex digits
	ProbeVersion          int             `json:"probe_version"`
	Count                 int             `json:"count"`
	PeriodNs              int64           `json:"period_ns"` // --duration; 0: bounded by count
	Size                  int             `json:"size"`
	Connections           int             `json:"connections"`
	Rate                  float64         `json:"rate"`
	Bitrate               float64         `json:"bitrate"` // asked; 0: --rate was given
	Sent                  int64           `json:"sent"`
	Received              int64           `json:"received"`
	Lost                  int64           `json:"lost"`
	LossPercent           float64         `json:"loss_percent"`
	Reordered             int64           `json:"reordered"`
	ReorderExtentMax      int64           `json:"reorder_extent_max"`
	Duplicated            int64           `json:"duplicated"`
	Corrupted             int64           `json:"corrupted"`
	Foreign               int64           `json:"foreign"`
	Unreachable           int64           `json:"unreachable"`
	SendErrors            int64           `json:"send_errors"`
	Interrupted           bool            `json:"interrupted"`
	DurationNs            int64           `json:"duration_ns"`
	Duration              string          `json:"duration"`
	SendDurationNs        int64           `json:"send_duration_ns"`
	SentBitsPerSecond     float64         `json:"sent_bits_per_second"`
	ReceivedBitsPerSecond float64         `json:"received_bits_per_second"`
	Latency               latency.JSON    `json:"latency"`
	JitterNs              int64           `json:"jitter_ns"`
	Jitter                string          `json:"jitter"`
	KernelTimestamps      bool            `json:"kernel_timestamps"`
	Directions            *directionsJSON `json:"directions"`
	LastError             string          `json:"last_error,omitempty"`
}

// directionsJSON is Directions with the one-way delays; min_ns is signed.
type directionsJSON struct {
	Exact                     bool         `json:"exact"`
	NotCounted                bool         `json:"not_counted"`
	CountQueries              int          `json:"count_queries"`
	ResponderReceived         int64        `json:"responder_received"`
	UpstreamLost              int64        `json:"upstream_lost"`
	UpstreamLossPercent       float64      `json:"upstream_loss_percent"`
	DownstreamLost            int64        `json:"downstream_lost"`
	DownstreamLossPercent     float64      `json:"downstream_loss_percent"`
	OneWayUp                  latency.JSON `json:"one_way_up"`
	OneWayDown                latency.JSON `json:"one_way_down"`
	NegativeOneWay            int64        `json:"negative_one_way"`
	ClockSuspect              bool         `json:"clock_suspect"`
	ResponderKernelTimestamps bool         `json:"responder_kernel_timestamps"`
}

// WriteJSON prints the summary of a probe run as one JSON object on one
// line. Durations are given in nanoseconds (*_ns) and as text; latency
// and jitter are 0 when nothing was received; directions is null when the
// run could not split its loss by direction.
func (r Result) WriteJSON(w io.Writer) error {
	v := resultJSON{
		Mode: "probe", Addr: r.Addr, RunID: fmt.Sprintf("%016x", r.RunID), ProbeVersion: probe.Version,
		Count: r.Count, PeriodNs: int64(r.Period), Size: r.Size, Connections: r.Connections, Rate: r.Rate, Bitrate: r.Bitrate,
		Sent: r.Sent, Received: r.Received, Lost: r.Lost, LossPercent: r.LossPercent,
		Reordered: r.Reordered, ReorderExtentMax: r.ReorderExtentMax, Duplicated: r.Duplicated,
		Corrupted: r.Corrupted, Foreign: r.Foreign, Unreachable: r.Unreachable, SendErrors: r.SendErrors,
		Interrupted: r.Interrupted,
		DurationNs:  int64(r.Duration), Duration: latency.Format(r.Duration),
		SendDurationNs: int64(r.SendDuration), SentBitsPerSecond: r.SentBitrate(), ReceivedBitsPerSecond: r.ReceivedBitrate(),
		Latency:  r.RTT.JSON(),
		JitterNs: int64(r.Jitter), Jitter: latency.Format(r.Jitter),
		KernelTimestamps: r.KernelTimestamps,
	}
	if r.V2 {
		v.ProbeVersion = probe.VersionV2
	}
	if d := r.Directions; d != nil {
		v.Directions = &directionsJSON{
			Exact: d.Exact, NotCounted: d.NotCounted, CountQueries: d.Queries, ResponderReceived: d.ResponderReceived,
			UpstreamLost: d.UpLost, UpstreamLossPercent: d.UpLossPercent,
			DownstreamLost: d.DownLost, DownstreamLossPercent: d.DownLossPercent,
			OneWayUp: r.Up.JSON(), OneWayDown: r.Down.JSON(), NegativeOneWay: r.Up.Negative + r.Down.Negative,
			ClockSuspect: r.Up.ClockSuspect() || r.Down.ClockSuspect(), ResponderKernelTimestamps: d.ResponderKernelTimestamps,
		}
	}
	if r.LastErr != nil {
		v.LastError = r.LastErr.Error()
	}
	return clientcli.WriteJSON(w, v)
}

// Saved is the probe run as its saved record (--save) tells it: the
// replies are its operations, the probes lost its losses, corrupt replies
// and failed sends its errors, and its bytes the payload of the replies,
// one way.
func (r Result) Saved() clientcli.Saved {
	return clientcli.Saved{Mode: "probe", Target: r.Addr, Duration: r.Duration,
		Ops: r.Received, Lost: r.Lost, Errors: r.Corrupted + r.SendErrors,
		Bytes: r.Received * int64(r.Size), Latency: r.Latency}
}
