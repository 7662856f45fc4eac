package httpclient_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/netlab/netlab/services/http-hello/internal/httpclient"
	"github.com/netlab/netlab/services/platform/tabletest"
)

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0µs"}, {45 * time.Microsecond, "45µs"}, {100 * time.Microsecond, "0.1ms"},
		{1340 * time.Microsecond, "1.3ms"}, {999 * time.Millisecond, "999.0ms"},
		{1250 * time.Millisecond, "1.25s"}, {12 * time.Second, "12.0s"},
	}
	for _, tt := range tests {
		if got := httpclient.FormatDuration(tt.d); got != tt.want {
			t.Errorf("FormatDuration(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
	tm := httpclient.Timings{DNS: httpclient.NotMeasured, Connect: 200 * time.Microsecond, TLS: httpclient.NotMeasured,
		FirstByte: 1100 * time.Microsecond, Total: 1300 * time.Microsecond}
	if got, want := tm.String(), "dns - connect 0.2ms tls - first-byte 1.1ms total 1.3ms"; got != want {
		t.Errorf("Timings = %q, want %q", got, want)
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "http://127.0.0.1:8000/", want: "http://127.0.0.1:8000/"},
		{in: "http://h", want: "http://h/"},
		{in: "https://h:8443/x?y=1#frag", want: "https://h:8443/x?y=1"},
		{in: "127.0.0.1:8000/echo", want: "http://127.0.0.1:8000/echo"},
		{in: "http://[::1]:8000/", want: "http://[::1]:8000/"},
		{in: "ftp://h/", wantErr: "the scheme must be http or https"},
		{in: "http:///path", wantErr: "no host"},
		{in: "http://h:99999/", wantErr: "bad port"},
		{in: "http://h:x/", wantErr: "invalid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := httpclient.ParseURL(tt.in)
			if !tabletest.Err(t, fmt.Sprintf("ParseURL(%q)", tt.in), err, tt.wantErr) && u.String() != tt.want {
				t.Errorf("ParseURL(%q) = %v, want %q", tt.in, u, tt.want)
			}
		})
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		in, name, value string
		ok              bool
	}{
		{"X-Test: a b ", "X-Test", "a b", true},
		{"x-lower:v", "X-Lower", "v", true},
		{"Empty:", "Empty", "", true},
		{"Host: example.org:8000", "Host", "example.org:8000", true},
		{"no colon", "", "", false},
		{": v", "", "", false},
		{"Bad Name: v", "", "", false},
		{"X: a\r\nInjected: 1", "", "", false},
	}
	for _, tt := range tests {
		name, value, err := httpclient.ParseHeader(tt.in)
		if (err == nil) != tt.ok || name != tt.name || value != tt.value {
			t.Errorf("ParseHeader(%q) = %q, %q, %v", tt.in, name, value, err)
		}
	}
}

func TestRawRequest(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:8000/echo?x=1")
	tests := []struct {
		name   string
		method string
		header http.Header
		body   []byte
		want   string
	}{
		{"tutorial GET", "GET", nil, nil,
			"GET /echo?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: netlab-http-client\r\nConnection: close\r\n\r\n"},
		{"headers sorted, overrides", "GET", http.Header{"X-B": {"2"}, "X-A": {"1"}, "Host": {"example.org"}, "Connection": {"keep-alive"}}, nil,
			"GET /echo?x=1 HTTP/1.1\r\nHost: example.org\r\nUser-Agent: netlab-http-client\r\nX-A: 1\r\nX-B: 2\r\nConnection: close\r\n\r\n"},
		{"POST with body", "POST", nil, []byte("hi"),
			"POST /echo?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: netlab-http-client\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"},
		{"empty POST has a length", "POST", nil, nil,
			"POST /echo?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: netlab-http-client\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(httpclient.RawRequest(u, tt.method, tt.header, tt.body)); got != tt.want {
				t.Errorf("RawRequest =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestKindOf(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	tests := []struct {
		err  error
		want httpclient.Kind
	}{
		{&httpclient.StatusError{Code: 404}, httpclient.KindStatus},
		{&httpclient.RequestError{Phase: httpclient.PhaseConnect, Err: refused}, httpclient.KindRefused},
		{&httpclient.RequestError{Phase: httpclient.PhaseResponse, TimedOut: true, Err: errors.New("x")}, httpclient.KindTimeout},
		{&httpclient.RequestError{Phase: httpclient.PhaseConnect, Err: &net.DNSError{Name: "x.invalid", Err: "no such host"}}, httpclient.KindDNS},
		{&httpclient.RequestError{Phase: httpclient.PhaseBody, Err: reset}, httpclient.KindReset},
		{&httpclient.RequestError{Phase: httpclient.PhaseTLS, Err: errors.New("tls: bad certificate")}, httpclient.KindTLS},
		{&httpclient.RequestError{Phase: httpclient.PhaseResponse, Err: io.EOF}, httpclient.KindClosed},
		{fmt.Errorf("odd"), httpclient.KindOther},
	}
	for _, tt := range tests {
		if got := httpclient.KindOf(tt.err); got != tt.want {
			t.Errorf("KindOf(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}
