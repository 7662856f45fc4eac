package httpclient_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/services/http-hello/internal/httpclient"
)

// readRaw parses what RawRequest built the way a server would.
func readRaw(t *testing.T, raw []byte) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("RawRequest built a request a server cannot read: %v\n%q", err, raw)
	}
	return r
}

// FuzzParseURL: an accepted URL is http or https with a host, a valid port,
// a path and no fragment; it formats to a URL that parses to the same; and
// the raw request for it is one a server reads back with the same target
// and Host.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:8000/", "127.0.0.1:8000/echo", "https://example.com", "http://[::1]:8000/a?b=c#frag",
		"ftp://x/", "http://:80/", "http://x:0/", "http://x:65536/", "http://x:+80/", "http://x/a b", "http://x/%zz",
		"http://x/?q=a b", "http://x/\u00e9", "http://user:pw@x/", "http://x:80:80/", "x", "//x/y", "http://x/%0d%0aHost:%20y",
		"http://x/\x00", "http://[fe80::1%25eth0]:80/", "HTTP://X/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := httpclient.ParseURL(s)
		if err != nil {
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Hostname() == "" || u.Fragment != "" || (u.Path == "" && u.Opaque == "") {
			t.Fatalf("ParseURL(%q) = %#v", s, u)
		}
		if _, port, err := net.SplitHostPort(httpclient.HostPort(u)); err != nil {
			t.Fatalf("HostPort(%q) = %q: %v", s, httpclient.HostPort(u), err)
		} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			t.Fatalf("HostPort(%q) has port %q", s, port)
		}
		u2, err := httpclient.ParseURL(u.String())
		if err != nil || u2.String() != u.String() {
			t.Fatalf("ParseURL(%q) = %q, but ParseURL of that = %v, %v", s, u, u2, err)
		}
		if u.Scheme != "http" {
			return
		}
		r := readRaw(t, httpclient.RawRequest(u, "", nil, nil))
		if r.Method != http.MethodGet || r.Host != u.Host || len(r.Header) != 2 {
			t.Fatalf("raw request for %q read as %s %q Host %q headers %v", s, r.Method, r.RequestURI, r.Host, r.Header)
		}
		if r.URL.EscapedPath() != u.EscapedPath() || r.URL.RawQuery != u.RawQuery {
			t.Fatalf("raw request for %q targets %q, not %q", s, r.RequestURI, u.RequestURI())
		}
	})
}

// validFieldValue is RFC 9110's field-value: visible characters, obs-text,
// spaces and tabs — what an HTTP server accepts.
func validFieldValue(v string) bool {
	for i := range len(v) {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// FuzzParseHeader: an accepted header has a token name and a value a
// server accepts, and a raw request carrying it reads back with exactly
// that header and nothing injected.
func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{"X-Test: 1", "x-test:1", "Accept: */*", "Host: other:80", "User-Agent: me", "Connection: keep-alive",
		"Content-Length: 5", "X: a\r\nInjected: yes", "X: a\nB: c", "X: a\x00", "X: \x01", "X: a\tb", "X: \x7f", "X:  ",
		": v", "Bad Name: v", "X-\u00e9: v", "X: \u00e9", "X: obs\xff", "NoColon"} {
		f.Add(s, "GET")
	}
	f.Add("X: 1", "POST")
	u, err := url.Parse("http://127.0.0.1:8000/echo?x=1")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s, method string) {
		name, value, err := httpclient.ParseHeader(s)
		if err != nil {
			return
		}
		if !httpclient.IsToken(name) || name != http.CanonicalHeaderKey(name) {
			t.Fatalf("ParseHeader(%q): name %q", s, name)
		}
		if !validFieldValue(value) || value != strings.TrimSpace(value) {
			t.Fatalf("ParseHeader(%q): value %q is not a field value a server accepts", s, value)
		}
		if !httpclient.IsToken(method) {
			method = http.MethodGet
		}
		r := readRaw(t, httpclient.RawRequest(u, method, http.Header{name: {value}}, nil))
		want := 3 // Host (not in Header), User-Agent, Connection, and ours
		switch name {
		case "Host":
			if r.Host != value {
				t.Fatalf("Host %q read back as %q", value, r.Host)
			}
			want = 2
		case "Connection", "Content-Length":
			want = 2
		case "User-Agent":
			want = 2
			if r.Header.Get(name) != value {
				t.Fatalf("User-Agent %q read back as %q", value, r.Header.Get(name))
			}
		default:
			if vs := r.Header.Values(name); len(vs) != 1 || vs[0] != value {
				t.Fatalf("header %s: %q read back as %q", name, value, vs)
			}
		}
		if r.Method != method {
			t.Fatalf("method %q read back as %q", method, r.Method)
		}
		switch method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			want++ // Content-Length: 0
		}
		if len(r.Header) != want {
			t.Fatalf("header %q: the request has headers %v", s, r.Header)
		}
	})
}

func FuzzRaw(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!"), uint16(1000))
	f.Add([]byte("HTTP/1.1 200 OK\r\n\r\nHello"), uint16(10))
	f.Add([]byte("garbage\x00\xff"), uint16(8))
	f.Add([]byte{}, uint16(100))
	f.Add([]byte("x"), uint16(0))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { ln.Close() })
	u, err := url.Parse("http://" + ln.Addr().String() + "/")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, max16 uint16) {
		if len(data) > 1<<16 {
			return
		}
		served := make(chan error, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				served <- err
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			// Read the whole request first: closing with unread input
			// would reset the connection instead of ending it.
			br := bufio.NewReader(c)
			if _, err := http.ReadRequest(br); err != nil {
				served <- err
				return
			}
			_, err = c.Write(data)
			served <- err
		}()
		max := int64(max16) + 1
		var out bytes.Buffer
		res, err := httpclient.Raw(context.Background(), httpclient.RawOptions{URL: u, Timeout: 5 * time.Second, Max: max}, &out)
		if serr := <-served; serr != nil {
			t.Fatalf("server: %v", serr)
		}
		want := min(int64(len(data)), max)
		if res.Bytes != want || !bytes.Equal(out.Bytes(), data[:want]) {
			t.Fatalf("Raw read %d bytes %q; want %d bytes %q", res.Bytes, out.Bytes(), want, data[:want])
		}
		if res.Truncated != (int64(len(data)) > max) {
			t.Fatalf("Truncated %v with %d bytes sent and Max %d", res.Truncated, len(data), max)
		}
		var re *httpclient.RequestError
		switch {
		case len(data) > 0 && err != nil:
			t.Fatalf("Raw failed after %d bytes: %v", res.Bytes, err)
		case len(data) == 0 && (!errors.As(err, &re) || !errors.Is(err, io.EOF)):
			t.Fatalf("Raw with nothing received: %v; want a *RequestError wrapping io.EOF", err)
		}
	})
}
