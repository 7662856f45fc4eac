package client

import (
	"fmt"
	"io"
	"strings"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/latency"
)

// WriteText prints the echo as the Python tutorial client does:
// Received b'Hello, world'.
func (r EchoResult) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "Received %s\n", PyRepr(r.Received))
	return err
}

type echoJSON struct {
	Mode     string `json:"mode"`
	Addr     string `json:"addr"`
	Bytes    int    `json:"bytes"`
	Received string `json:"received"` // Python bytes repr
	RTTNs    int64  `json:"rtt_ns"`
}

// WriteJSON prints the echo as one JSON object on one line.
func (r EchoResult) WriteJSON(w io.Writer) error {
	return clientcli.WriteJSON(w, echoJSON{
		Mode:     "echo",
		Addr:     r.Addr,
		Bytes:    len(r.Sent),
		Received: PyRepr(r.Received),
		RTTNs:    int64(r.RTT),
	})
}

// WriteText prints the summary of a Count run, ping style:
//
//	--- 127.0.0.1:65432 tcp-echo statistics ---
//	10 sent, 10 ok, 0 errors
//	rtt min/avg/p50/p90/p99/p99.9/max = 98µs/153µs/150µs/190µs/201µs/250µs/250µs
func (r CountResult) WriteText(w io.Writer) error {
	line := fmt.Sprintf("%d sent, %d ok, %d errors", r.Sent, r.OK, r.Errors)
	if r.Interrupted {
		line += fmt.Sprintf(" (interrupted after %d of %d)", r.Sent, r.Count)
	}
	text := fmt.Sprintf("--- %s tcp-echo statistics ---\n%s\n", r.Addr, line)
	if r.RTT.N > 0 {
		text += "rtt " + r.RTT.String() + "\n"
	}
	_, err := io.WriteString(w, text)
	return err
}

type countJSON struct {
	Mode         string       `json:"mode"`
	Addr         string       `json:"addr"`
	MessageBytes int          `json:"message_bytes"`
	Count        int          `json:"count"`
	Sent         int          `json:"sent"`
	OK           int          `json:"ok"`
	Errors       int          `json:"errors"`
	Interrupted  bool         `json:"interrupted"`
	Latency      latency.JSON `json:"latency"`
	LastError    string       `json:"last_error,omitempty"`
}

// WriteJSON prints the summary of a Count run as one JSON object on one
// line; latency is over the probes that succeeded, in nanoseconds.
func (r CountResult) WriteJSON(w io.Writer) error {
	v := countJSON{
		Mode:         "count",
		Addr:         r.Addr,
		MessageBytes: r.MessageBytes,
		Count:        r.Count,
		Sent:         r.Sent,
		OK:           r.OK,
		Errors:       r.Errors,
		Interrupted:  r.Interrupted,
		Latency:      r.RTT.JSON(),
	}
	if r.LastErr != nil {
		v.LastError = r.LastErr.Error()
	}
	return clientcli.WriteJSON(w, v)
}

// WriteText prints the result of a Bulk run:
//
//	bulk: 8388608 bytes to 127.0.0.1:65432, 8388608 echoed in 5.123ms
//	throughput: 1637.5 MB/s (13100.0 Mbit/s) echoed
//	match: yes
func (r BulkResult) WriteText(w io.Writer) error {
	match := "yes"
	switch {
	case r.MismatchOffset >= 0:
		match = fmt.Sprintf("no, first mismatch at offset %d", r.MismatchOffset)
	case !r.Match:
		match = fmt.Sprintf("no, short echo (%d of %d bytes)", r.Echoed, r.Size)
	}
	_, err := fmt.Fprintf(w, "bulk: %d bytes to %s, %d echoed in %s\nthroughput: %.1f MB/s (%.1f Mbit/s) echoed\nmatch: %s\n",
		r.Size, r.Addr, r.Echoed, latency.Format(r.Duration), r.MBPerSec(), r.MbitPerSec(), match)
	return err
}

type bulkJSON struct {
	Mode           string  `json:"mode"`
	Addr           string  `json:"addr"`
	Bytes          int64   `json:"bytes"`
	Sent           int64   `json:"sent"`
	Echoed         int64   `json:"echoed"`
	DurationNs     int64   `json:"duration_ns"`
	MBPerSec       float64 `json:"mb_per_s"`
	MbitPerSec     float64 `json:"mbit_per_s"`
	Match          bool    `json:"match"`
	MismatchOffset *int64  `json:"mismatch_offset"`
}

// WriteJSON prints the result of a Bulk run as one JSON object on one line;
// mismatch_offset is null when no byte differed.
func (r BulkResult) WriteJSON(w io.Writer) error {
	v := bulkJSON{
		Mode:       "bulk",
		Addr:       r.Addr,
		Bytes:      r.Size,
		Sent:       r.Sent,
		Echoed:     r.Echoed,
		DurationNs: int64(r.Duration),
		MBPerSec:   r.MBPerSec(),
		MbitPerSec: r.MbitPerSec(),
		Match:      r.Match,
	}
	if r.MismatchOffset >= 0 {
		off := r.MismatchOffset
		v.MismatchOffset = &off
	}
	return clientcli.WriteJSON(w, v)
}

// WriteText prints the summary of a Load run:
//
//	--- 127.0.0.1:65432 tcp-echo load ---
//	50 connections, 64-byte messages, 10.000s
//	1234567 round trips, 123456.7 ops/s, 7.90 MB/s each way
//	latency min/avg/p50/p90/p99/p99.9/max = 90µs/400µs/380µs/520µs/900µs/1.4ms/3.1ms
//	0 errors, 0 of 50 connections failed
//
// With errors the last line names their kinds: "3 errors (dial 1, reset 2)".
func (r LoadResult) WriteText(w io.Writer) error {
	run := fmt.Sprintf("%.3fs", r.Duration.Seconds())
	if r.Interrupted {
		run += " (interrupted)"
	}
	errs := fmt.Sprintf("%d errors", r.Errors.Total())
	if kinds := r.Errors.String(); kinds != "" {
		errs += " (" + kinds + ")"
	}
	_, err := fmt.Fprintf(w, "--- %s tcp-echo load ---\n%d connections, %d-byte messages, %s\n"+
		"%d round trips, %.1f ops/s, %.2f MB/s each way\n"+
		"latency %s\n%s, %d of %d connections failed\n",
		r.Addr, r.Connections, r.Size, run,
		r.Ops, r.OpsPerSec(), r.BytesPerSec()/1e6,
		r.Latency, errs, r.Failed, r.Connections)
	return err
}

// String lists the non-zero counts: "dial 1, reset 2"; "" when none.
func (e LoadErrors) String() string {
	var parts []string
	for _, k := range []struct {
		name string
		n    int
	}{{"dial", e.Dial}, {"timeout", e.Timeout}, {"short read", e.ShortRead}, {"mismatch", e.Mismatch}, {"reset", e.Reset}, {"other", e.Other}} {
		if k.n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k.name, k.n))
		}
	}
	return strings.Join(parts, ", ")
}

type loadJSON struct {
	Mode              string       `json:"mode"`
	Addr              string       `json:"addr"`
	Connections       int          `json:"connections"`
	Size              int          `json:"size"`
	DurationSeconds   float64      `json:"duration_seconds"`
	Ops               int64        `json:"ops"`
	OpsPerSecond      float64      `json:"ops_per_second"`
	BytesPerSecond    float64      `json:"bytes_per_second"`
	Latency           latency.JSON `json:"latency"`
	Errors            LoadErrors   `json:"errors"`
	FailedConnections int          `json:"failed_connections"`
	Interrupted       bool         `json:"interrupted"`
	FirstError        string       `json:"first_error,omitempty"`
}

// WriteJSON prints the summary of a Load run as one JSON object on one
// line. duration_seconds is the measured run; bytes_per_second is the
// payload rate in each direction; latency is in nanoseconds (0 when no
// round trip completed); errors has a count for every kind.
func (r LoadResult) WriteJSON(w io.Writer) error {
	v := loadJSON{
		Mode:              "load",
		Addr:              r.Addr,
		Connections:       r.Connections,
		Size:              r.Size,
		DurationSeconds:   r.Duration.Seconds(),
		Ops:               r.Ops,
		OpsPerSecond:      r.OpsPerSec(),
		BytesPerSecond:    r.BytesPerSec(),
		Latency:           r.Latency.JSON(),
		Errors:            r.Errors,
		FailedConnections: r.Failed,
		Interrupted:       r.Interrupted,
	}
	if r.FirstErr != nil {
		v.FirstError = r.FirstErr.Error()
	}
	return clientcli.WriteJSON(w, v)
}
