package hello_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/services/http-hello/internal/config"
	"github.com/netlab/netlab/services/platform/promset/promsettest"
)

// headerBlock returns a GET / whose header block (request line, header
// lines, the blank line, each with its CRLF) is exactly size bytes: Host
// and fields X-Pad headers that share the padding.
func headerBlock(tb testing.TB, size, fields int) string {
	tb.Helper()
	var b strings.Builder
	b.WriteString("GET / HTTP/1.1\r\nHost: x\r\n")
	fixed := b.Len() + 2 + fields*len("X-Pad-00: \r\n")
	pad := size - fixed
	if pad < fields {
		tb.Fatalf("a %d-byte header block cannot hold %d fields", size, fields)
	}
	for i := range fields {
		n := pad / fields
		if i < pad%fields {
			n++
		}
		fmt.Fprintf(&b, "X-Pad-%02d: %s\r\n", i, strings.Repeat("p", n))
	}
	b.WriteString("\r\n")
	if b.Len() != size {
		tb.Fatalf("built a %d-byte header block, want %d", b.Len(), size)
	}
	return b.String()
}

// rawStatus sends req on a new connection and returns the status code of
// the answer.
func rawStatus(tb testing.TB, addr net.Addr, req string) int {
	tb.Helper()
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		tb.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		tb.Fatalf("reading the answer: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// MAX_HEADER_BYTES is exact: a header block of that many bytes is served,
// one byte more is refused with 431 and counted, whatever the limit and
// however the bytes are spread over the header lines. net/http alone would
// let up to 4 KiB more through.
func TestServer_MaxHeaderBytesIsExact(t *testing.T) {
	defaults, err := config.Load(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{defaults.MaxHeaderBytes, 4096, 1024} {
		for _, fields := range []int{1, 20} {
			t.Run(fmt.Sprintf("limit %d in %d fields", limit, fields), func(t *testing.T) {
				cfg := testConfig()
				cfg.MaxHeaderBytes = limit
				r := start(t, cfg)
				if got := rawStatus(t, r.Server.Addr(), headerBlock(t, limit, fields)); got != http.StatusOK {
					t.Errorf("a header block of exactly %d bytes = %d, want 200", limit, got)
				}
				if got := promsettest.Value(t, r.Registry, "netlab_http_hello_headers_too_large_total"); got != 0 {
					t.Errorf("headers_too_large_total = %v after a block within the limit, want 0", got)
				}
				if got := rawStatus(t, r.Server.Addr(), headerBlock(t, limit+1, fields)); got != http.StatusRequestHeaderFieldsTooLarge {
					t.Errorf("a header block of %d bytes = %d, want 431", limit+1, got)
				}
				if got := promsettest.Value(t, r.Registry, "netlab_http_hello_headers_too_large_total"); got != 1 {
					t.Errorf("headers_too_large_total = %v, want 1", got)
				}
			})
		}
	}
}

// An HTTP/2 request counts as its HTTP/1.1 form: the same limit, to the
// byte.
func TestServer_MaxHeaderBytesCountsHTTP2AsHTTP1(t *testing.T) {
	cfg := testConfig()
	r := start(t, cfg)
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	client := &http.Client{Transport: &http.Transport{Protocols: &protocols, DisableCompression: true}}
	t.Cleanup(client.CloseIdleConnections)
	host := r.Server.Addr().String()
	fixed := len("GET / HTTP/2.0\r\n") + len("Host: "+host+"\r\n") + len("User-Agent: t\r\n") + len("X-Pad: \r\n") + len("\r\n")
	for _, tt := range []struct {
		size int
		want int
	}{
		{cfg.MaxHeaderBytes, http.StatusOK},
		{cfg.MaxHeaderBytes + 1, http.StatusRequestHeaderFieldsTooLarge},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", r.base+"/", nil)
		req.Header.Set("User-Agent", "t")
		req.Header.Set("X-Pad", strings.Repeat("p", tt.size-fixed))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.ProtoMajor != 2 || resp.StatusCode != tt.want {
			t.Errorf("a %d-byte header block over %s = %d, want %d", tt.size, resp.Proto, resp.StatusCode, tt.want)
		}
	}
}
