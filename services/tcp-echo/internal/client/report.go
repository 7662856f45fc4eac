package client

import (
	"fmt"
	"io"
	"strings"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/latency"
	"github.com/netlab/netlab/services/platform/loadgen"
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
//	tcp retr 0 cwnd 10 rtt 52µs rate 1.20 Gbit/s
//
// With several streams the first line reads "bulk: 4 streams × 8388608
// bytes to …", the figures are over all of them, and a line per stream
// follows. The tcp line is left out where the kernel has no figures.
func (r BulkResult) WriteText(w io.Writer) error {
	var b strings.Builder
	streams := ""
	if r.Parallel > 1 {
		streams = fmt.Sprintf("%d streams × ", r.Parallel)
	}
	fmt.Fprintf(&b, "bulk: %s%d bytes to %s, %d echoed in %s\nthroughput: %.1f MB/s (%.1f Mbit/s) echoed\nmatch: %s\n",
		streams, r.Size, r.Addr, r.Echoed, latency.Format(r.Duration), r.MBPerSec(), r.MbitPerSec(), r.match())
	if r.Parallel > 1 {
		for i, st := range r.Streams {
			fmt.Fprintf(&b, "stream %d: %d echoed in %s, %.1f Mbit/s, match %s", i+1, st.Echoed, latency.Format(st.Duration),
				st.MbitPerSec(), streamMatch(st, r.Size))
			if st.TCP != nil {
				b.WriteString(", tcp " + clientcli.TCPOf([]clientcli.TCPConn{*st.TCP}, false).String())
			}
			b.WriteByte('\n')
		}
	}
	if r.TCP != nil {
		fmt.Fprintf(&b, "tcp %s\n", r.TCP)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r BulkResult) match() string {
	switch {
	case r.Parallel == 1 && len(r.Streams) == 1:
		return streamMatch(r.Streams[0], r.Size)
	case r.Match:
		return "yes"
	}
	bad := 0
	for _, st := range r.Streams {
		if !st.Match {
			bad++
		}
	}
	return fmt.Sprintf("no, %d of %d streams", bad, r.Parallel)
}

func streamMatch(st BulkStream, size int64) string {
	switch {
	case st.MismatchOffset >= 0:
		return fmt.Sprintf("no, first mismatch at offset %d", st.MismatchOffset)
	case !st.Match:
		return fmt.Sprintf("no, short echo (%d of %d bytes)", st.Echoed, size)
	}
	return "yes"
}

type bulkStreamJSON struct {
	Sent           int64                  `json:"sent"`
	Echoed         int64                  `json:"echoed"`
	DurationNs     int64                  `json:"duration_ns"`
	MbitPerSec     float64                `json:"mbit_per_s"`
	Match          bool                   `json:"match"`
	MismatchOffset *int64                 `json:"mismatch_offset"`
	Error          string                 `json:"error,omitempty"`
	TCP            *clientcli.TCPConnJSON `json:"tcp,omitempty"`
}

type bulkJSON struct {
	Mode           string             `json:"mode"`
	Addr           string             `json:"addr"`
	Bytes          int64              `json:"bytes"`        // asked for, over all streams
	StreamBytes    int64              `json:"stream_bytes"` // asked for, per stream
	Parallel       int                `json:"parallel"`
	Sent           int64              `json:"sent"`
	Echoed         int64              `json:"echoed"`
	DurationNs     int64              `json:"duration_ns"`
	MBPerSec       float64            `json:"mb_per_s"`
	MbitPerSec     float64            `json:"mbit_per_s"`
	Match          bool               `json:"match"`
	MismatchOffset *int64             `json:"mismatch_offset"`
	Streams        []bulkStreamJSON   `json:"streams"`
	TCP            *clientcli.TCPJSON `json:"tcp,omitempty"`
}

func offsetOrNull(off int64) *int64 {
	if off < 0 {
		return nil
	}
	return &off
}

// WriteJSON prints the result of a Bulk run as one JSON object on one line:
// the totals over every stream, then each stream's own figures under
// "streams"; mismatch_offset is null when no byte differed, "tcp" is left
// out where the kernel has no figures.
func (r BulkResult) WriteJSON(w io.Writer) error {
	v := bulkJSON{
		Mode: "bulk", Addr: r.Addr, Bytes: r.Size * int64(r.Parallel), StreamBytes: r.Size, Parallel: r.Parallel,
		Sent: r.Sent, Echoed: r.Echoed, DurationNs: int64(r.Duration), MBPerSec: r.MBPerSec(), MbitPerSec: r.MbitPerSec(),
		Match: r.Match, MismatchOffset: offsetOrNull(r.MismatchOffset), Streams: []bulkStreamJSON{}, TCP: r.TCP.JSON(),
	}
	for _, st := range r.Streams {
		sj := bulkStreamJSON{Sent: st.Sent, Echoed: st.Echoed, DurationNs: int64(st.Duration), MbitPerSec: st.MbitPerSec(),
			Match: st.Match, MismatchOffset: offsetOrNull(st.MismatchOffset)}
		if st.Err != nil {
			sj.Error = st.Err.Error()
		}
		if st.TCP != nil {
			sj.TCP = &clientcli.TCPConnJSON{Retransmits: st.TCP.Retransmits, Cwnd: st.TCP.Cwnd, RTTNs: int64(st.TCP.RTT), DeliveryRateBps: st.TCP.DeliveryRate}
		}
		v.Streams = append(v.Streams, sj)
	}
	return clientcli.WriteJSON(w, v)
}

// Saved is the run as its saved record (--save) tells it: no round trips,
// the bytes echoed (one way), the failed streams as errors.
func (r BulkResult) Saved() clientcli.Saved {
	sv := clientcli.Saved{Mode: "bulk", Target: r.Addr, Duration: r.Duration, Bytes: r.Echoed}
	for _, st := range r.Streams {
		if st.Err != nil {
			sv.Errors++
		}
	}
	return sv
}

// WriteText prints the summary of a Load run:
//
//	--- 127.0.0.1:65432 tcp-echo load ---
//	50 connections, 64-byte messages, 10.000s
//	1234567 round trips, 123456.7 ops/s, 7.90 MB/s each way
//	latency min/avg/p50/p90/p99/p99.9/max = 90µs/400µs/380µs/520µs/900µs/1.4ms/3.1ms
//	    50µs - 100µs            12   0.0%   0.0% #
//	   ...
//	tcp retr 0 cwnd 10 rtt 61µs rate 9.10 Mbit/s (50 conns: cwnd, rtt mean; retr, rate sum)
//	0 errors, 0 of 50 connections failed
//
// An open loop (a rate) adds ", rate 1000/s" to the second line, the
// schedule's account, and latency from the scheduled start (the one the
// histogram draws) beside the rtt from the actual start. With errors the
// last line names their kinds: "3 errors (dial 1, reset 2)". The tcp line
// is left out where the kernel has no figures.
func (r LoadResult) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s tcp-echo load ---\n%d connections, %d-byte messages, %s\n"+
		"%d round trips, %.1f ops/s, %.2f MB/s each way\n",
		r.Addr, r.Connections, r.Size, r.asked(), r.Ops, r.OpsPerSec(), r.BytesPerSec()/1e6)
	if r.Schedule.Rate > 0 { // an open loop that got as far as its timetable
		fmt.Fprintf(&b, "schedule %s\n", r.Schedule)
		fmt.Fprintf(&b, "latency  %s (from the scheduled start)\n", r.Schedule.Latency)
		fmt.Fprintf(&b, "rtt      %s (from the actual start)\n", r.Latency)
	} else {
		fmt.Fprintf(&b, "latency %s\n", r.Latency)
	}
	if r.Hist != nil && r.Hist.Count() > 0 {
		_ = r.Hist.WriteText(&b)
	}
	if r.TCP != nil {
		fmt.Fprintf(&b, "tcp %s\n", r.TCP)
	}
	errs := fmt.Sprintf("%d errors", r.Errors.Total())
	if kinds := r.Errors.String(); kinds != "" {
		errs += " (" + kinds + ")"
	}
	fmt.Fprintf(&b, "%s, %d of %d connections failed\n", errs, r.Failed, r.Connections)
	_, err := io.WriteString(w, b.String())
	return err
}

// asked is the run as measured and asked for: "10.000s", "10.000s,
// rate 1000/s", "2.513s, 5000 round trips asked", "… (interrupted)".
func (r LoadResult) asked() string {
	s := fmt.Sprintf("%.3fs", r.Duration.Seconds())
	if r.Rate > 0 {
		s += fmt.Sprintf(", rate %g/s", r.Rate)
	}
	if r.Count > 0 {
		s += fmt.Sprintf(", %d round trips asked", r.Count)
	}
	if r.Interrupted {
		s += " (interrupted)"
	}
	return s
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
	Mode              string             `json:"mode"`
	Addr              string             `json:"addr"`
	Connections       int                `json:"connections"`
	Size              int                `json:"size"`
	Count             int64              `json:"count"`     // asked for; 0: bounded by the duration
	PeriodNs          int64              `json:"period_ns"` // the duration asked for; 0: bounded by count
	Rate              float64            `json:"rate"`      // 0: closed loop
	DurationSeconds   float64            `json:"duration_seconds"`
	Sent              int64              `json:"sent"`
	Ops               int64              `json:"ops"`
	OpsPerSecond      float64            `json:"ops_per_second"`
	BytesPerSecond    float64            `json:"bytes_per_second"`
	Latency           latency.JSON       `json:"latency"`
	Schedule          *loadgen.JSON      `json:"schedule,omitempty"`
	TCP               *clientcli.TCPJSON `json:"tcp,omitempty"`
	Errors            LoadErrors         `json:"errors"`
	FailedConnections int                `json:"failed_connections"`
	Interrupted       bool               `json:"interrupted"`
	FirstError        string             `json:"first_error,omitempty"`
}

// WriteJSON prints the summary of a Load run as one JSON object on one
// line. duration_seconds is the measured run; bytes_per_second is the
// payload rate in each direction; latency is in nanoseconds (0 when no
// round trip completed): from the scheduled start in an open loop (the
// uncorrected figures are in schedule, which a closed loop leaves out);
// errors has a count for every kind; tcp is left out where the kernel has
// no figures.
func (r LoadResult) WriteJSON(w io.Writer) error {
	v := loadJSON{
		Mode: "load", Addr: r.Addr, Connections: r.Connections, Size: r.Size,
		Count: r.Count, PeriodNs: int64(r.Period), Rate: r.Rate,
		DurationSeconds: r.Duration.Seconds(), Sent: r.Sent, Ops: r.Ops,
		OpsPerSecond: r.OpsPerSec(), BytesPerSecond: r.BytesPerSec(),
		Latency: r.Latency.JSON(), Schedule: r.Schedule.JSON(), TCP: r.TCP.JSON(),
		Errors: r.Errors, FailedConnections: r.Failed, Interrupted: r.Interrupted,
	}
	if r.Schedule.Rate > 0 {
		v.Latency = r.Schedule.Latency.JSON()
	}
	if r.FirstErr != nil {
		v.FirstError = r.FirstErr.Error()
	}
	return clientcli.WriteJSON(w, v)
}

// Saved is the run as its saved record (--save) tells it: the round trips,
// the payload one way, the latency as the run measured it and, in an open
// loop, the schedule.
func (r LoadResult) Saved() clientcli.Saved {
	sv := clientcli.Saved{Mode: "load", Target: r.Addr, Duration: r.Duration, Ops: r.Ops,
		Errors: int64(r.Failed), Bytes: r.Ops * int64(r.Size), Latency: r.Hist}
	if r.Schedule.Rate > 0 {
		sv.Schedule = &r.Schedule
	}
	return sv
}
