package udpclient

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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
	return writeJSON(w, replyJSON{
		Mode:          "message",
		Addr:          r.Addr,
		Sent:          string(r.Sent),
		Received:      string(r.Received),
		BytesSent:     len(r.Sent),
		BytesReceived: len(r.Received),
		Tries:         r.Tries,
		RTTNs:         int64(r.RTT),
		RTT:           FormatDuration(r.RTT),
	})
}

// WriteText prints the summary of a probe run, ping style:
//
//	--- udp-responder:12345 probe statistics ---
//	1000 sent, 1000 received, 0 lost (0.00% loss), 0 reordered, 0 duplicated, 0 corrupted
//	rtt min/avg/p50/p90/p99/max = 101µs/180µs/170µs/230µs/410µs/1.2ms
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
	if s := r.RTT; s.N > 0 {
		fmt.Fprintf(&b, "rtt min/avg/p50/p90/p99/max = %s/%s/%s/%s/%s/%s\n",
			FormatDuration(s.Min), FormatDuration(s.Avg), FormatDuration(s.P50),
			FormatDuration(s.P90), FormatDuration(s.P99), FormatDuration(s.Max))
		fmt.Fprintf(&b, "jitter (RFC 3550) = %s\n", FormatDuration(r.Jitter))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type resultJSON struct {
	Mode        string  `json:"mode"`
	Addr        string  `json:"addr"`
	RunID       string  `json:"run_id"` // 16 hex digits
	Count       int     `json:"count"`
	Size        int     `json:"size"`
	Concurrency int     `json:"concurrency"`
	Rate        float64 `json:"rate"`
	Sent        int64   `json:"sent"`
	Received    int64   `json:"received"`
	Lost        int64   `json:"lost"`
	LossPercent float64 `json:"loss_percent"`
	Reordered   int64   `json:"reordered"`
	ExtentMax   int64   `json:"reorder_extent_max"`
	Duplicated  int64   `json:"duplicated"`
	Corrupted   int64   `json:"corrupted"`
	Foreign     int64   `json:"foreign"`
	Unreachable int64   `json:"unreachable"`
	SendErrors  int64   `json:"send_errors"`
	Interrupted bool    `json:"interrupted"`
	DurationNs  int64   `json:"duration_ns"`
	Duration    string  `json:"duration"`
	RTTMinNs    int64   `json:"rtt_min_ns"`
	RTTMin      string  `json:"rtt_min"`
	RTTAvgNs    int64   `json:"rtt_avg_ns"`
	RTTAvg      string  `json:"rtt_avg"`
	RTTP50Ns    int64   `json:"rtt_p50_ns"`
	RTTP50      string  `json:"rtt_p50"`
	RTTP90Ns    int64   `json:"rtt_p90_ns"`
	RTTP90      string  `json:"rtt_p90"`
	RTTP99Ns    int64   `json:"rtt_p99_ns"`
	RTTP99      string  `json:"rtt_p99"`
	RTTMaxNs    int64   `json:"rtt_max_ns"`
	RTTMax      string  `json:"rtt_max"`
	JitterNs    int64   `json:"jitter_ns"`
	Jitter      string  `json:"jitter"`
	LastError   string  `json:"last_error,omitempty"`
}

// WriteJSON prints the summary of a probe run as one JSON object on one
// line. Durations are given in nanoseconds (*_ns) and as text; RTTs and
// jitter are 0 when nothing was received.
func (r Result) WriteJSON(w io.Writer) error {
	s := r.RTT
	v := resultJSON{
		Mode:        "probe",
		Addr:        r.Addr,
		RunID:       fmt.Sprintf("%016x", r.RunID),
		Count:       r.Count,
		Size:        r.Size,
		Concurrency: r.Concurrency,
		Rate:        r.Rate,
		Sent:        r.Sent,
		Received:    r.Received,
		Lost:        r.Lost,
		LossPercent: r.LossPercent,
		Reordered:   r.Reordered,
		ExtentMax:   r.ReorderExtentMax,
		Duplicated:  r.Duplicated,
		Corrupted:   r.Corrupted,
		Foreign:     r.Foreign,
		Unreachable: r.Unreachable,
		SendErrors:  r.SendErrors,
		Interrupted: r.Interrupted,
		DurationNs:  int64(r.Duration),
		Duration:    FormatDuration(r.Duration),
		RTTMinNs:    int64(s.Min),
		RTTMin:      FormatDuration(s.Min),
		RTTAvgNs:    int64(s.Avg),
		RTTAvg:      FormatDuration(s.Avg),
		RTTP50Ns:    int64(s.P50),
		RTTP50:      FormatDuration(s.P50),
		RTTP90Ns:    int64(s.P90),
		RTTP90:      FormatDuration(s.P90),
		RTTP99Ns:    int64(s.P99),
		RTTP99:      FormatDuration(s.P99),
		RTTMaxNs:    int64(s.Max),
		RTTMax:      FormatDuration(s.Max),
		JitterNs:    int64(r.Jitter),
		Jitter:      FormatDuration(r.Jitter),
	}
	if r.LastErr != nil {
		v.LastError = r.LastErr.Error()
	}
	return writeJSON(w, v)
}

// FormatDuration rounds to the microsecond: 153µs, 1.234ms, 2.5s; below a
// microsecond it prints nanoseconds.
func FormatDuration(d time.Duration) string {
	if d >= time.Microsecond || d <= -time.Microsecond {
		d = d.Round(time.Microsecond)
	}
	return d.String()
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
