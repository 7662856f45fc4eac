package httpclient

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/neterr"
)

// RawOptions configures Raw.
type RawOptions struct {
	URL     *url.URL // http:// only
	Method  string   // "" means GET
	Header  http.Header
	Body    []byte
	Timeout time.Duration // bounds the dial, and the whole exchange after it; 0 means DefaultTimeout
	Max     int64         // the most bytes read; 0 means DefaultMaxBody + RawSlack
}

// RawResult is the outcome of Raw.
type RawResult struct {
	Addr      string
	Request   []byte // exactly what was written
	Bytes     int64  // bytes received (and written to w)
	Truncated bool   // the server sent more than Max
	Duration  time.Duration
}

// Raw does what the tutorial's socket client meant to do: it opens a TCP
// connection to the URL's host:port, writes an HTTP/1.1 request with
// "Connection: close" (see RawRequest), and copies every byte that comes
// back — status line, headers, body — to w as it arrives, until the server
// closes the connection, Max bytes were read, or the timeout runs out.
//
// Errors: *RequestError (cannot reach, timeout, reset, nothing received), an
// error writing to w, or ctx's error. The result counts what was received
// before any error.
func Raw(ctx context.Context, opts RawOptions, w io.Writer) (RawResult, error) {
	if opts.URL == nil || opts.URL.Scheme != "http" {
		return RawResult{}, errors.New("raw mode needs an http:// URL")
	}
	opts.Timeout, opts.Max = clientcli.OrDefault(opts.Timeout, DefaultTimeout), clientcli.OrDefault(opts.Max, DefaultMaxBody+RawSlack)
	method := cmp.Or(opts.Method, http.MethodGet)
	res := RawResult{Addr: HostPort(opts.URL), Request: RawRequest(opts.URL, method, opts.Header, opts.Body)}
	rerr := func(p Phase, timedOut bool, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &RequestError{
			Method: method, URL: opts.URL.String(), Addr: res.Addr, Phase: p,
			TimedOut: timedOut, Limit: opts.Timeout, Bytes: res.Bytes, Err: err,
		}
	}

	start := time.Now()
	d := net.Dialer{Timeout: opts.Timeout}
	conn, err := d.DialContext(ctx, "tcp", res.Addr)
	if err != nil {
		return res, rerr(PhaseConnect, neterr.IsTimeout(err), err)
	}
	defer func() { _ = conn.Close() }()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	if err := conn.SetDeadline(time.Now().Add(opts.Timeout)); err != nil {
		return res, rerr(PhaseResponse, false, err)
	}
	if _, err := conn.Write(res.Request); err != nil {
		return res, rerr(PhaseResponse, neterr.IsTimeout(err), &neterr.OpError{Op: "send", Err: err})
	}

	buf := make([]byte, 32<<10)
	for res.Bytes < opts.Max {
		n, err := conn.Read(buf[:min(int64(len(buf)), opts.Max-res.Bytes)])
		if n > 0 {
			res.Bytes += int64(n)
			if _, werr := w.Write(buf[:n]); werr != nil {
				res.Duration = time.Since(start)
				return res, fmt.Errorf("writing the response: %w", werr)
			}
		}
		if err != nil {
			res.Duration = time.Since(start)
			switch {
			case errors.Is(err, io.EOF) && res.Bytes > 0:
				return res, nil
			case errors.Is(err, io.EOF):
				return res, rerr(PhaseResponse, false, err)
			case res.Bytes > 0:
				return res, rerr(PhaseBody, neterr.IsTimeout(err), err)
			}
			return res, rerr(PhaseResponse, neterr.IsTimeout(err), err)
		}
	}
	// Max bytes read: see whether the server had more to send.
	var one [1]byte
	n, _ := conn.Read(one[:])
	res.Truncated = n > 0
	res.Duration = time.Since(start)
	return res, nil
}

// RawRequest builds the HTTP/1.1 request Raw writes:
//
//	GET /path?query HTTP/1.1\r\n
//	Host: host:port\r\n
//	User-Agent: netlab-http-client\r\n
//	<extra headers, sorted by name>\r\n
//	Content-Length: n\r\n          (with a body, or for POST, PUT and PATCH)
//	Connection: close\r\n
//	\r\n
//	<body>
//
// A Host or User-Agent in header replaces the default; Connection and
// Content-Length in header are ignored (Raw relies on the server closing
// the connection, and the length is the body's). Header values must not
// contain CR or LF (see ParseHeader).
func RawRequest(u *url.URL, method string, header http.Header, body []byte) []byte {
	var b bytes.Buffer
	target := u.RequestURI()
	if !strings.HasPrefix(target, "/") && target != "*" {
		target = "/" + target
	}
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", cmp.Or(method, http.MethodGet), target)
	host, ua := u.Host, UserAgent
	keys := make([]string, 0, len(header))
	for k, vs := range header {
		switch http.CanonicalHeaderKey(k) {
		case "Host":
			host = vs[0]
		case "User-Agent":
			ua = vs[0]
		case "Connection", "Content-Length":
		default:
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	fmt.Fprintf(&b, "Host: %s\r\nUser-Agent: %s\r\n", host, ua)
	for _, k := range keys {
		for _, v := range header[k] {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		body = append([]byte{}, body...) // a length even when empty
	}
	if body != nil {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	b.Write(body)
	return b.Bytes()
}
