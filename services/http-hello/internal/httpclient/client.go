// Package httpclient is the http-hello client: one request with a timing
// breakdown (DNS, connect, TLS, first byte, total), a load run of many
// requests with keep-alive accounting and latency percentiles, and a raw mode
// that writes an HTTP/1.1 request on a TCP socket and returns the bytes that
// come back — the tutorial's socket client, done right. It uses only the
// standard library.
package httpclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
)

// Defaults and limits of the client.
const (
	URLEnv         = "HTTP_HELLO_URL"         // environment variable with the default URL
	DefaultURL     = "http://127.0.0.1:8000/" // used when neither an argument nor URLEnv is set
	DefaultTimeout = 10 * time.Second         // per request
	DefaultMaxBody = 1 << 20                  // body bytes read per response
	MaxMaxBody     = 1 << 30                  // the largest --max-body
	DefaultExpect  = http.StatusOK
	UserAgent      = "netlab-http-client"
	// RawSlack is what Raw reads beyond the body limit, for the status line
	// and headers.
	RawSlack = 64 << 10

	MaxCount       = 10_000_000 // requests in one load run
	MaxConnections = 10_000     // workers in one load run
	MaxRate        = 1_000_000  // requests per second
	MaxStreams     = 1_000      // requests in flight on one h2c connection
	MaxPages       = 10_000     // pages in one paged load run
	MaxDuration    = 24 * time.Hour
)

// NotMeasured marks a timing step that did not happen: no DNS lookup for an
// IP address or a reused connection, no TLS for http://.
const NotMeasured time.Duration = -1

// Proto selects the HTTP versions the client speaks.
type Proto int

// Protocol choices.
const (
	ProtoAuto  Proto = iota // HTTP/1.1; HTTP/2 when TLS negotiates it (ALPN)
	ProtoHTTP1              // HTTP/1.1 only, also over TLS
	ProtoH2C                // HTTP/2 over cleartext TCP with prior knowledge (http:// only)
)

// Config describes the request a Client sends.
type Config struct {
	URL     *url.URL    // http:// or https://
	Method  string      // "" means GET
	Header  http.Header // extra request headers; a Host header sets the request's host
	Body    []byte      // request body; nil sends none
	Timeout time.Duration
	// MaxBody is the most body bytes read from each response; the rest is
	// left unread (and the connection closed). 0 reads no body.
	MaxBody  int64
	Expect   int // the expected status code; 0 means 200
	Proto    Proto
	Insecure bool // skip TLS certificate verification
	// NewConn opens a new connection for every request (no keep-alive, as
	// HTTP/1.0 did), so each request pays — and shows — its connect time.
	NewConn bool
}

// Client sends the request of its Config, as often as asked, over a pool
// of keep-alive connections. It is safe for concurrent use; Close releases
// its idle connections.
type Client struct {
	cfg    Config
	method string
	url    string
	addr   string // host:port, for messages
	tr     *http.Transport
	hc     *http.Client
}

// New checks cfg and returns a Client for it.
func New(cfg Config) (*Client, error) {
	if cfg.URL == nil {
		return nil, errors.New("no URL")
	}
	if cfg.URL.Scheme != "http" && cfg.URL.Scheme != "https" {
		return nil, fmt.Errorf("URL %s: scheme must be http or https", cfg.URL.Redacted())
	}
	if cfg.Proto == ProtoH2C && cfg.URL.Scheme != "http" {
		return nil, errors.New("h2c (cleartext HTTP/2) needs an http:// URL")
	}
	cfg.Timeout = clientcli.OrDefault(cfg.Timeout, DefaultTimeout)
	if cfg.MaxBody < 0 || cfg.MaxBody > MaxMaxBody {
		return nil, fmt.Errorf("max body %d is not between 0 and %d", cfg.MaxBody, MaxMaxBody)
	}
	if cfg.Expect == 0 {
		cfg.Expect = DefaultExpect
	}
	if cfg.Method == "" {
		cfg.Method = http.MethodGet
	}
	var protos http.Protocols
	maxConns := 0 // no limit
	switch cfg.Proto {
	case ProtoHTTP1:
		protos.SetHTTP1(true)
	case ProtoH2C:
		protos.SetUnencryptedHTTP2(true)
		// One connection per client: requests that find none wait for
		// its one dial, where the transport would dial one for each and
		// then close all but the first (--new-conn asks for one each).
		if !cfg.NewConn {
			maxConns = 1
		}
	default:
		protos.SetHTTP1(true)
		protos.SetHTTP2(true)
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 nil, // measure the server, not a proxy from the environment
		DialContext:           dialer.DialContext,
		TLSClientConfig:       &tls.Config{InsecureSkipVerify: cfg.Insecure}, //nolint:gosec // --insecure, for test servers
		TLSHandshakeTimeout:   cfg.Timeout,
		DisableCompression:    true, // count and show the bytes the server sent
		MaxIdleConns:          0,    // no limit besides the one per host
		MaxIdleConnsPerHost:   MaxConnections,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 0, // the request's context bounds everything
		Protocols:             &protos,
		DisableKeepAlives:     cfg.NewConn,
		MaxConnsPerHost:       maxConns,
	}
	return &Client{
		cfg:    cfg,
		method: cfg.Method,
		url:    cfg.URL.String(),
		addr:   HostPort(cfg.URL),
		tr:     tr,
		hc: &http.Client{
			Transport: tr,
			// Show redirects instead of following them: the status is the
			// answer being measured.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// Close closes the idle connections of the client.
func (c *Client) Close() { c.tr.CloseIdleConnections() }

// Addr is the host:port the client connects to.
func (c *Client) Addr() string { return c.addr }

// HostPort returns the host:port of u, with the scheme's default port when
// u has none.
func HostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// Response is what Do got back.
type Response struct {
	Proto      string // "HTTP/1.1", "HTTP/2.0"
	StatusCode int
	Status     string // "200 OK"
	Header     http.Header
	Bytes      int64 // body bytes read (at most MaxBody)
	Truncated  bool  // the body was longer than MaxBody
	Reused     bool  // sent on a kept-alive connection
	RemoteAddr string
	Timings    Timings
}

// StatusLine is "HTTP/1.1 200 OK".
func (r Response) StatusLine() string { return r.Proto + " " + r.Status }

// Timings break one request down. DNS, Connect and TLS are NotMeasured when
// the step did not happen; FirstByte is from the start of the request to the
// first byte of the response (NotMeasured when none came); Total is from the
// start to the end of the body (or the error).
type Timings struct {
	DNS, Connect, TLS, FirstByte, Total time.Duration
}

// String renders the timings as
// "dns 0.1ms connect 0.2ms tls - first-byte 1.1ms total 1.3ms".
func (t Timings) String() string {
	return fmt.Sprintf("dns %s connect %s tls %s first-byte %s total %s",
		fmtStep(t.DNS), fmtStep(t.Connect), fmtStep(t.TLS), fmtStep(t.FirstByte), FormatDuration(t.Total))
}

func fmtStep(d time.Duration) string {
	if d == NotMeasured {
		return "-"
	}
	return FormatDuration(d)
}

// FormatDuration prints milliseconds with one decimal (0.1ms, 12.3ms) from
// 100µs to 1s, microseconds below (45µs) and seconds above (1.25s).
func FormatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + FormatDuration(-d)
	case d < 100*time.Microsecond:
		return fmt.Sprintf("%dµs", d.Round(time.Microsecond)/time.Microsecond)
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// errTimedOut is the cause of a request context that ran out of time.
var errTimedOut = errors.New("request timed out")

// Do sends the request once and reads the response body. onHead, if not
// nil, is called when the response headers are in (without Bytes and
// Timings) and returns where the body goes (nil discards it).
//
// Errors: *RequestError (connection, TLS, timeout, I/O), *StatusError (the
// response is complete but its status is not the expected one; the Response
// is valid), or the context's error when ctx ends.
func (c *Client) Do(ctx context.Context, onHead func(Response) io.Writer) (Response, error) {
	tr := &tracer{start: time.Now()}
	rctx, cancel := context.WithTimeoutCause(ctx, c.cfg.Timeout, errTimedOut)
	defer cancel()
	rctx = httptrace.WithClientTrace(rctx, tr.clientTrace())

	var body io.Reader
	if c.cfg.Body != nil {
		body = bytes.NewReader(c.cfg.Body)
	}
	req, err := http.NewRequestWithContext(rctx, c.method, c.url, body)
	if err != nil {
		return Response{}, err
	}
	for k, vs := range c.cfg.Header {
		if strings.EqualFold(k, "Host") {
			req.Host = vs[0]
			continue
		}
		req.Header[k] = vs
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", UserAgent)
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		r := Response{Timings: tr.timings(time.Now())}
		r.Reused, r.RemoteAddr = tr.conn()
		return r, c.requestError(ctx, rctx, tr, 0, err)
	}
	r := Response{
		Proto:      resp.Proto,
		StatusCode: resp.StatusCode,
		Status:     resp.Status,
		Header:     resp.Header,
	}
	r.Reused, r.RemoteAddr = tr.conn()
	var w io.Writer
	if onHead != nil {
		w = onHead(r)
	}
	if w == nil {
		w = io.Discard
	}
	n, truncated, rerr, werr := readBody(resp.Body, w, c.cfg.MaxBody)
	_ = resp.Body.Close()
	r.Bytes, r.Truncated = n, truncated
	r.Timings = tr.timings(time.Now())
	switch {
	case rerr != nil:
		return r, c.requestError(ctx, rctx, tr, n, rerr)
	case werr != nil:
		return r, fmt.Errorf("writing the body: %w", werr)
	case resp.StatusCode != c.cfg.Expect:
		return r, &StatusError{
			Method: c.method, URL: c.url, Status: resp.Status, Code: resp.StatusCode,
			Expect: c.cfg.Expect, Location: resp.Header.Get("Location"),
		}
	}
	return r, nil
}

// errWriter remembers the first error of its writer, so that readBody can
// tell a failed read from a failed write.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// readBody copies at most max bytes of body to w and reports whether more
// was left. A body that ends within max is read to its end, so its
// connection can be reused.
func readBody(body io.Reader, w io.Writer, max int64) (n int64, truncated bool, readErr, writeErr error) {
	ew := &errWriter{w: w}
	n, err := io.Copy(ew, io.LimitReader(body, max))
	if ew.err != nil {
		return n, false, nil, ew.err
	}
	if err != nil {
		return n, false, err, nil
	}
	var one [1]byte
	switch m, err := io.ReadFull(body, one[:]); {
	case m > 0:
		return n, true, nil, nil
	case errors.Is(err, io.EOF):
		return n, false, nil, nil
	default:
		return n, false, err, nil
	}
}

// tracer collects the httptrace events of one request. Its callbacks may
// run on the transport's goroutines, hence the mutex.
type tracer struct {
	start time.Time

	mu                  sync.Mutex
	dnsStart, dnsDone   time.Time
	connStart, connDone time.Time
	tlsStart, tlsDone   time.Time
	gotConn, firstByte  time.Time
	reused              bool
	remote              string
}

func (t *tracer) set(p *time.Time, first bool) {
	now := time.Now()
	t.mu.Lock()
	if !first || p.IsZero() {
		*p = now
	}
	t.mu.Unlock()
}

func (t *tracer) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart:          func(httptrace.DNSStartInfo) { t.set(&t.dnsStart, true) },
		DNSDone:           func(httptrace.DNSDoneInfo) { t.set(&t.dnsDone, false) },
		ConnectStart:      func(string, string) { t.set(&t.connStart, true) },
		ConnectDone:       func(string, string, error) { t.set(&t.connDone, false) },
		TLSHandshakeStart: func() { t.set(&t.tlsStart, true) },
		TLSHandshakeDone:  func(tls.ConnectionState, error) { t.set(&t.tlsDone, false) },
		GotConn: func(info httptrace.GotConnInfo) {
			now := time.Now()
			t.mu.Lock()
			defer t.mu.Unlock()
			t.gotConn, t.reused = now, info.Reused
			if info.Conn != nil {
				t.remote = info.Conn.RemoteAddr().String()
			}
		},
		GotFirstResponseByte: func() { t.set(&t.firstByte, true) },
	}
}

func (t *tracer) conn() (reused bool, remote string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.reused, t.remote
}

func span(from, to time.Time) time.Duration {
	if from.IsZero() || to.IsZero() {
		return NotMeasured
	}
	return max(to.Sub(from), 0)
}

func (t *tracer) timings(end time.Time) Timings {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Timings{
		DNS:       span(t.dnsStart, t.dnsDone),
		Connect:   span(t.connStart, t.connDone),
		TLS:       span(t.tlsStart, t.tlsDone),
		FirstByte: span(t.start, t.firstByte),
		Total:     end.Sub(t.start),
	}
}

// phase says where a request stood when it failed.
func (t *tracer) phase() Phase {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case !t.firstByte.IsZero():
		return PhaseBody
	case !t.gotConn.IsZero():
		return PhaseResponse
	case !t.tlsStart.IsZero():
		return PhaseTLS
	}
	return PhaseConnect
}
