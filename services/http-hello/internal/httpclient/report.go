package httpclient

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/latency"
)

// WriteText prints the summary of a load run:
//
//	--- GET http://127.0.0.1:8000/: 10 requests, 1 connections ---
//	10 requests, 10 ok, 0 errors in 12.3ms (813.0 requests/s), 130 body bytes
//	status 200: 10
//	connections: 1 new, 9 reused
//	total      min/avg/p50/p90/p99/p99.9/max = 312µs/501µs/402µs/901µs/1.2ms/1.2ms/1.2ms
//	first-byte min/avg/p50/p90/p99/p99.9/max = 201µs/398µs/300µs/801µs/1.1ms/1.1ms/1.1ms
//
// A line "errors: refused 3, timeout 1" follows the status line when there
// were errors; latency lines are left out when no response came.
func (s Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s %s: %d requests, %d connections", s.Method, s.URL, s.Count, s.Connections)
	if s.Rate > 0 {
		fmt.Fprintf(&b, ", rate %g/s", s.Rate)
	}
	b.WriteString(" ---\n")
	fmt.Fprintf(&b, "%d requests, %d ok, %d errors in %s (%.1f requests/s), %d body bytes",
		s.Requests, s.OK, s.Errors, FormatDuration(s.Duration), s.RequestsPerSecond(), s.Bytes)
	if s.Truncated > 0 {
		fmt.Fprintf(&b, " (%d bodies truncated)", s.Truncated)
	}
	if s.Interrupted {
		fmt.Fprintf(&b, " (interrupted after %d of %d)", s.Requests, s.Count)
	}
	b.WriteByte('\n')
	if len(s.StatusCodes) > 0 {
		parts := make([]string, len(s.StatusCodes))
		for i, c := range s.StatusCodes {
			parts[i] = fmt.Sprintf("%d: %d", c.Code, c.N)
		}
		fmt.Fprintf(&b, "status %s\n", strings.Join(parts, ", "))
	}
	if len(s.ErrorKinds) > 0 {
		parts := make([]string, len(s.ErrorKinds))
		for i, k := range s.ErrorKinds {
			parts[i] = fmt.Sprintf("%s %d", k.Kind, k.N)
		}
		fmt.Fprintf(&b, "errors: %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, "connections: %d new, %d reused\n", s.NewConns, s.ReusedConns)
	for _, l := range []struct {
		name string
		st   latency.Stats
	}{{"total     ", s.Total}, {"first-byte", s.FirstByte}} {
		if l.st.N > 0 {
			fmt.Fprintf(&b, "%s %s\n", l.name, l.st)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// SummaryJSON is the JSON form of a Summary.
type SummaryJSON struct {
	Mode              string           `json:"mode"` // "load"
	Method            string           `json:"method"`
	URL               string           `json:"url"`
	Count             int              `json:"count"`
	Connections       int              `json:"connections"`
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
	Latency           latency.JSON     `json:"latency"`    // total time of each complete response
	FirstByte         latency.JSON     `json:"first_byte"` // time to its first byte
	Interrupted       bool             `json:"interrupted"`
	LastError         string           `json:"last_error,omitempty"`
}

// WriteJSON prints the summary as one JSON object on one line.
func (s Summary) WriteJSON(w io.Writer) error {
	v := SummaryJSON{
		Mode: "load", Method: s.Method, URL: s.URL, Count: s.Count, Connections: s.Connections, Rate: s.Rate,
		Requests: s.Requests, OK: s.OK, Errors: s.Errors,
		ErrorKinds: map[string]int64{}, StatusCodes: map[string]int64{},
		NewConns: s.NewConns, ReusedConns: s.ReusedConns, Bytes: s.Bytes, Truncated: s.Truncated,
		DurationNs: int64(s.Duration), Duration: FormatDuration(s.Duration),
		RequestsPerSecond: s.RequestsPerSecond(),
		Latency:           s.Total.JSON(), FirstByte: s.FirstByte.JSON(),
		Interrupted: s.Interrupted,
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
