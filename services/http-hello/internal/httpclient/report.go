package httpclient

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/latency"
	"github.com/netlab/netlab/services/platform/loadgen"
)

// WriteText prints the summary of a load run:
//
//	--- GET http://127.0.0.1:8000/: 10 requests, 1 connections ---
//	10 requests, 10 ok, 0 errors in 12.3ms (813.0 requests/s), 130 body bytes
//	status 200: 10
//	connections: 1 new, 9 reused
//	total      min/avg/p50/p90/p99/p99.9/max = 312µs/501µs/402µs/901µs/1.2ms/1.2ms/1.2ms
//	first-byte min/avg/p50/p90/p99/p99.9/max = 201µs/398µs/300µs/801µs/1.1ms/1.1ms/1.1ms
//	connect    min/avg/p50/p90/p99/p99.9/max = 51µs/51µs/51µs/51µs/51µs/51µs/51µs
//	     200µs - 500µs            9  90.0%  90.0% ########################################
//	     500µs - 1ms              1  10.0% 100.0% ####
//
// A line "errors: refused 3, timeout 1" follows the status line when there
// were errors; latency lines are left out when no response came. An open
// loop (a rate) adds the schedule's account and a "latency" line from the
// scheduled starts, the one the histogram draws.
func (s Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	s.writeHead(&b)
	fmt.Fprintf(&b, "connections: %d new, %d reused\n", s.NewConns, s.ReusedConns)
	if s.PagesAsked > 0 {
		b.WriteString(s.pagesLine())
	}
	if s.Rate > 0 {
		fmt.Fprintf(&b, "schedule   %s\n", s.Schedule)
		if l := s.Schedule.Latency; l.N > 0 {
			fmt.Fprintf(&b, "latency    %s (from the scheduled start)\n", l)
		}
	}
	for _, l := range []struct {
		name string
		st   latency.Stats
	}{{"total     ", s.Total}, {"first-byte", s.FirstByte}, {"connect   ", s.Connect}} {
		if l.st.N > 0 {
			fmt.Fprintf(&b, "%s %s\n", l.name, l.st)
		}
	}
	if s.Latency != nil && s.Latency.Count() > 0 {
		_ = s.Latency.WriteText(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeHead writes the title, the counts and the status and error lines.
func (s Summary) writeHead(b *strings.Builder) {
	fmt.Fprintf(b, "--- %s %s: %s, %d connections", s.Method, s.URL, s.asked(), s.Connections)
	if s.Streams > 1 {
		fmt.Fprintf(b, " × %d streams", s.Streams)
	}
	if s.Rate > 0 {
		fmt.Fprintf(b, ", rate %g/s", s.Rate)
	}
	b.WriteString(" ---\n")
	fmt.Fprintf(b, "%d requests, %d ok, %d errors in %s (%.1f requests/s), %d body bytes",
		s.Requests, s.OK, s.Errors, FormatDuration(s.Duration), s.RequestsPerSecond(), s.Bytes)
	if s.Truncated > 0 {
		fmt.Fprintf(b, " (%d bodies truncated)", s.Truncated)
	}
	switch {
	case s.Interrupted && s.Count > 0:
		fmt.Fprintf(b, " (interrupted after %d of %d)", s.Requests, s.Count)
	case s.Interrupted:
		fmt.Fprintf(b, " (interrupted after %s of %s)", FormatDuration(s.Duration), FormatDuration(s.Period))
	}
	b.WriteByte('\n')
	if len(s.StatusCodes) > 0 {
		parts := make([]string, len(s.StatusCodes))
		for i, c := range s.StatusCodes {
			parts[i] = fmt.Sprintf("%d: %d", c.Code, c.N)
		}
		fmt.Fprintf(b, "status %s\n", strings.Join(parts, ", "))
	}
	if len(s.ErrorKinds) > 0 {
		fmt.Fprintf(b, "errors: %s\n", kinds(s))
	}
}

// pagesLine is "pages      5 of 10 requests: time min/p50/max = 1.2ms/1.3ms/2ms".
func (s Summary) pagesLine() string {
	if len(s.Pages) == 0 {
		return "pages      none complete\n"
	}
	ds := make([]time.Duration, len(s.Pages))
	for i, p := range s.Pages {
		ds[i] = p.Duration
	}
	slices.Sort(ds)
	return fmt.Sprintf("pages      %d of %d requests: time min/p50/max = %s/%s/%s\n", len(ds), s.Count,
		FormatDuration(ds[0]), FormatDuration(medianDuration(ds)), FormatDuration(ds[len(ds)-1]))
}

// medianDuration is the median of sorted ds: the middle one, or the mean
// of the two middle ones; 0 for none.
func medianDuration(ds []time.Duration) time.Duration {
	n := len(ds)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return ds[n/2]
	}
	return (ds[n/2-1] + ds[n/2]) / 2
}

// asked is what the run was asked for: "10 requests", "for 5s", both, or
// "5 pages of 10 requests".
func (s Summary) asked() string {
	switch {
	case s.PagesAsked > 0:
		return fmt.Sprintf("%d pages of %d requests", s.PagesAsked, s.Count)
	case s.Period == 0:
		return fmt.Sprintf("%d requests", s.Count)
	case s.Count == 0:
		return "for " + FormatDuration(s.Period)
	}
	return fmt.Sprintf("%d requests within %s", s.Count, FormatDuration(s.Period))
}

// SummaryJSON is the JSON form of a Summary. Latency is the total time of
// each complete response: from its scheduled start in an open loop (the
// uncorrected figures are in schedule), else from its actual start.
type SummaryJSON struct {
	Mode              string           `json:"mode"` // "load"
	Method            string           `json:"method"`
	URL               string           `json:"url"`
	Count             int              `json:"count"`
	PeriodNs          int64            `json:"period_ns"` // --duration; 0: bounded by count
	Connections       int              `json:"connections"`
	Streams           int              `json:"streams"`
	Rate              float64          `json:"rate"`
	Requests          int64            `json:"requests"`
	OK                int64            `json:"ok"`
	Errors            int64            `json:"errors"`
	ErrorKinds        map[string]int64 `json:"error_kinds"`
	StatusCodes       map[string]int64 `json:"status_codes"`
	NewConns          int64            `json:"new_conns"`
	ReusedConns       int64            `json:"reused_conns"`
	Bytes             int64            `json:"bytes"`
	Truncated         int64            `json:"truncated"`
	DurationNs        int64            `json:"duration_ns"`
	Duration          string           `json:"duration"`
	RequestsPerSecond float64          `json:"requests_per_second"`
	Latency           latency.JSON     `json:"latency"`
	FirstByte         latency.JSON     `json:"first_byte"` // time to the first byte, from the actual start
	Connect           latency.JSON     `json:"connect"`    // time to open each new connection
	Schedule          *loadgen.JSON    `json:"schedule,omitempty"`
	Pages             []PageJSON       `json:"pages,omitempty"` // --pages only
	Interrupted       bool             `json:"interrupted"`
	LastError         string           `json:"last_error,omitempty"`
}

// PageJSON is one page of a paged run.
type PageJSON struct {
	DurationNs int64 `json:"duration_ns"` // first request's start to last response's end
	Requests   int64 `json:"requests"`
	Errors     int64 `json:"errors"`
	NewConns   int64 `json:"new_conns"`
}

// WriteJSON prints the summary as one JSON object on one line.
func (s Summary) WriteJSON(w io.Writer) error {
	v := SummaryJSON{
		Mode: "load", Method: s.Method, URL: s.URL, Count: s.Count, PeriodNs: int64(s.Period),
		Connections: s.Connections, Streams: s.Streams, Rate: s.Rate,
		Requests: s.Requests, OK: s.OK, Errors: s.Errors,
		ErrorKinds: map[string]int64{}, StatusCodes: map[string]int64{},
		NewConns: s.NewConns, ReusedConns: s.ReusedConns, Bytes: s.Bytes, Truncated: s.Truncated,
		DurationNs: int64(s.Duration), Duration: FormatDuration(s.Duration),
		RequestsPerSecond: s.RequestsPerSecond(),
		Latency:           s.Total.JSON(), FirstByte: s.FirstByte.JSON(), Connect: s.Connect.JSON(),
		Schedule: s.Schedule.JSON(), Interrupted: s.Interrupted,
	}
	if s.Rate > 0 {
		v.Latency = s.Schedule.Latency.JSON()
	}
	for _, p := range s.Pages {
		v.Pages = append(v.Pages, PageJSON{DurationNs: int64(p.Duration), Requests: p.Requests, Errors: p.Errors, NewConns: p.New})
	}
	for _, k := range s.ErrorKinds {
		v.ErrorKinds[k.Kind.String()] = k.N
	}
	for _, c := range s.StatusCodes {
		v.StatusCodes[strconv.Itoa(c.Code)] = c.N
	}
	if s.LastErr != nil {
		v.LastError = s.LastErr.Error()
	}
	return clientcli.WriteJSON(w, v)
}

// Saved is the summary as its saved record (--save) tells it.
func (s Summary) Saved() clientcli.Saved {
	sv := clientcli.Saved{Mode: "load", Target: s.URL, Duration: s.Duration,
		Ops: s.Requests, Errors: s.Errors, Bytes: s.Bytes, Latency: s.Latency}
	if s.Rate > 0 {
		sv.Schedule = &s.Schedule
	}
	return sv
}

// TimingsJSON is Timings in JSON, in nanoseconds; null for a step that did
// not happen.
type TimingsJSON struct {
	DNSNs       *int64 `json:"dns_ns"`
	ConnectNs   *int64 `json:"connect_ns"`
	TLSNs       *int64 `json:"tls_ns"`
	FirstByteNs *int64 `json:"first_byte_ns"`
	TotalNs     int64  `json:"total_ns"`
}

func nsOrNull(d time.Duration) *int64 {
	if d == NotMeasured {
		return nil
	}
	n := int64(d)
	return &n
}

// ResponseJSON is the JSON form of one response.
type ResponseJSON struct {
	Mode       string              `json:"mode"` // "request"
	Method     string              `json:"method"`
	URL        string              `json:"url"`
	Proto      string              `json:"proto"`
	StatusCode int                 `json:"status_code"`
	Status     string              `json:"status"`
	Headers    map[string][]string `json:"headers"`
	Body       string              `json:"body"`
	BodyBytes  int64               `json:"body_bytes"`
	Truncated  bool                `json:"truncated"`
	Reused     bool                `json:"reused"`
	RemoteAddr string              `json:"remote_addr"`
	Timings    TimingsJSON         `json:"timings"`
	Error      string              `json:"error,omitempty"`
}

// WriteJSON prints r, its body and err (a *StatusError, or nil) as one JSON
// object on one line.
func (r Response) WriteJSON(w io.Writer, method, url string, body []byte, err error) error {
	v := ResponseJSON{
		Mode: "request", Method: method, URL: url, Proto: r.Proto, StatusCode: r.StatusCode, Status: r.Status,
		Headers: r.Header, Body: string(body), BodyBytes: r.Bytes, Truncated: r.Truncated,
		Reused: r.Reused, RemoteAddr: r.RemoteAddr,
		Timings: TimingsJSON{
			DNSNs: nsOrNull(r.Timings.DNS), ConnectNs: nsOrNull(r.Timings.Connect), TLSNs: nsOrNull(r.Timings.TLS),
			FirstByteNs: nsOrNull(r.Timings.FirstByte), TotalNs: int64(r.Timings.Total),
		},
	}
	if err != nil {
		v.Error = err.Error()
	}
	return clientcli.WriteJSON(w, v)
}

// Method is the request method the client sends.
func (c *Client) Method() string { return c.method }

// URL is the URL the client requests.
func (c *Client) URL() string { return c.url }
