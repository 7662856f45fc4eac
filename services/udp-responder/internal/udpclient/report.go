package udpclient

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/latency"
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
//	1000 sent, 1000 received, 0 lost (0.00% loss), 0 reordered, 0 duplicated, 0 corrupted
//	rtt min/avg/p50/p90/p99/p99.9/max = 101µs/180µs/170µs/230µs/410µs/1.1ms/1.2ms
//	jitter (RFC 3550) = 21µs
//
// A line with foreign datagrams, port unreachable reports and send errors
// follows the counts when any of them is not zero; the RTT and jitter lines
// are left out when nothing was received.
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
	if r.RTT.N > 0 {
		fmt.Fprintf(&b, "rtt %s\njitter (RFC 3550) = %s\n", r.RTT, latency.Format(r.Jitter))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type resultJSON struct {
	Mode             string       `json:"mode"`
	Addr             string       `json:"addr"`
	RunID            string       `json:"run_id"` // 16 hex digits
	Count            int          `json:"count"`
	Size             int          `json:"size"`
	Connections      int          `json:"connections"`
	Rate             float64      `json:"rate"`
	Sent             int64        `json:"sent"`
	Received         int64        `json:"received"`
	Lost             int64        `json:"lost"`
	LossPercent      float64      `json:"loss_percent"`
	Reordered        int64        `json:"reordered"`
	ReorderExtentMax int64        `json:"reorder_extent_max"`
	Duplicated       int64        `json:"duplicated"`
	Corrupted        int64        `json:"corrupted"`
	Foreign          int64        `json:"foreign"`
	Unreachable      int64        `json:"unreachable"`
	SendErrors       int64        `json:"send_errors"`
	Interrupted      bool         `json:"interrupted"`
	DurationNs       int64        `json:"duration_ns"`
	Duration         string       `json:"duration"`
	Latency          latency.JSON `json:"latency"`
	JitterNs         int64        `json:"jitter_ns"`
	Jitter           string       `json:"jitter"`
	LastError        string       `json:"last_error,omitempty"`
}

// WriteJSON prints the summary of a probe run as one JSON object on one
// line. Durations are given in nanoseconds (*_ns) and as text; latency
// and jitter are 0 when nothing was received.
func (r Result) WriteJSON(w io.Writer) error {
	v := resultJSON{
		Mode: "probe", Addr: r.Addr, RunID: fmt.Sprintf("%016x", r.RunID),
		Count: r.Count, Size: r.Size, Connections: r.Connections, Rate: r.Rate,
		Sent: r.Sent, Received: r.Received, Lost: r.Lost, LossPercent: r.LossPercent,
		Reordered: r.Reordered, ReorderExtentMax: r.ReorderExtentMax, Duplicated: r.Duplicated,
		Corrupted: r.Corrupted, Foreign: r.Foreign, Unreachable: r.Unreachable, SendErrors: r.SendErrors,
		Interrupted: r.Interrupted,
		DurationNs:  int64(r.Duration), Duration: latency.Format(r.Duration),
		Latency:  r.RTT.JSON(),
		JitterNs: int64(r.Jitter), Jitter: latency.Format(r.Jitter),
	}
	if r.LastErr != nil {
		v.LastError = r.LastErr.Error()
	}
	return clientcli.WriteJSON(w, v)
}
