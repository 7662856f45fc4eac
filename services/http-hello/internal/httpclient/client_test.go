package httpclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlab/netlab/services/http-hello/internal/httpclient"
	"github.com/netlab/netlab/services/platform/addrtest"
	"github.com/netlab/netlab/services/platform/tabletest"
)

// hello answers like http-hello: "Hello, World!" on /, a status on
// /status/{code}, and n bytes on /bytes/{n}; /block waits for the client to
// give up; /proto answers the protocol and /echo the request.
func hello() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Proto", r.Proto)
		_, _ = io.WriteString(w, "Hello, World!")
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		var code int
		_, _ = fmt.Sscan(r.PathValue("code"), &code)
		http.Error(w, http.StatusText(code), code)
	})
	mux.HandleFunc("/bytes/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		_, _ = fmt.Sscan(r.PathValue("n"), &n)
		_, _ = w.Write(bytes.Repeat([]byte("x"), n))
	})
	mux.HandleFunc("/block", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	mux.HandleFunc("/proto", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.Proto) })
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s x=%s body=%s", r.Method, r.Proto, r.Header.Get("X-Test"), b)
	})
	return mux
}

func newServer(t *testing.T, h2c bool) *httptest.Server {
	t.Helper()
	return serveH2C(t, httptest.NewUnstartedServer(hello()), h2c)
}

// serveH2C starts srv, speaking HTTP/1.1 and, with h2c, cleartext
// HTTP/2 too, and closes it when the test ends.
func serveH2C(t *testing.T, srv *httptest.Server, h2c bool) *httptest.Server {
	t.Helper()
	if h2c {
		var p http.Protocols
		p.SetHTTP1(true)
		p.SetUnencryptedHTTP2(true)
		srv.Config.Protocols = &p
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// interruptingServer answers "ok" to n requests; then, like Ctrl-C while
// the next request is in flight, it calls cancel and holds that request
// until the client gives up. It returns the server's URL.
func interruptingServer(t *testing.T, n int64, cancel context.CancelFunc) string {
	t.Helper()
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) > n {
			cancel()
			<-r.Context().Done()
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func newClient(t *testing.T, cfg httpclient.Config, rawURL string) *httpclient.Client {
	t.Helper()
	u, err := httpclient.ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.URL = u
	if cfg.MaxBody == 0 {
		cfg.MaxBody = httpclient.DefaultMaxBody
	}
	c, err := httpclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestClient_Do(t *testing.T) {
	srv := newServer(t, false)
	h2c := newServer(t, true)
	tlsSrv := httptest.NewUnstartedServer(hello())
	tlsSrv.EnableHTTP2 = true
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the unverified-certificate case fails a handshake
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	refused := addrtest.ClosedTCP(t)

	tests := []struct {
		name      string
		url       string
		cfg       httpclient.Config
		wantBody  string
		wantProto string
		wantCode  int
		wantTLS   bool
		wantErr   string // substring; "" for success
		wantTrunc bool
	}{
		{name: "hello", url: srv.URL + "/", wantBody: "Hello, World!", wantProto: "HTTP/1.1", wantCode: 200},
		{name: "h2c", url: h2c.URL + "/", cfg: httpclient.Config{Proto: httpclient.ProtoH2C},
			wantBody: "Hello, World!", wantProto: "HTTP/2.0", wantCode: 200},
		{name: "TLS negotiates HTTP/2", url: tlsSrv.URL + "/", cfg: httpclient.Config{Insecure: true},
			wantBody: "Hello, World!", wantProto: "HTTP/2.0", wantCode: 200, wantTLS: true},
		{name: "TLS forced HTTP/1.1", url: tlsSrv.URL + "/", cfg: httpclient.Config{Insecure: true, Proto: httpclient.ProtoHTTP1},
			wantBody: "Hello, World!", wantProto: "HTTP/1.1", wantCode: 200, wantTLS: true},
		{name: "TLS unverified certificate", url: tlsSrv.URL + "/",
			wantErr: "TLS handshake failed: tls: failed to verify certificate"},
		{name: "unexpected status", url: srv.URL + "/status/404", wantBody: "Not Found\n", wantProto: "HTTP/1.1", wantCode: 404,
			wantErr: "GET " + srv.URL + "/status/404: 404 Not Found, expected 200"},
		{name: "expected other status", url: srv.URL + "/status/503", cfg: httpclient.Config{Expect: 503},
			wantBody: "Service Unavailable\n", wantProto: "HTTP/1.1", wantCode: 503},
		{name: "truncated body", url: srv.URL + "/bytes/100", cfg: httpclient.Config{MaxBody: 10},
			wantBody: "xxxxxxxxxx", wantProto: "HTTP/1.1", wantCode: 200, wantTrunc: true},
		{name: "body exactly the limit", url: srv.URL + "/bytes/10", cfg: httpclient.Config{MaxBody: 10},
			wantBody: "xxxxxxxxxx", wantProto: "HTTP/1.1", wantCode: 200},
		{name: "refused", url: "http://" + refused + "/", wantErr: "cannot reach " + refused + ": connection refused"},
		{name: "timeout", url: srv.URL + "/block", cfg: httpclient.Config{Timeout: 50 * time.Millisecond},
			wantErr: "timed out after 50ms waiting for the response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, tt.cfg, tt.url)
			var body bytes.Buffer
			var head httpclient.Response
			res, err := c.Do(t.Context(), func(r httpclient.Response) io.Writer { head = r; return &body })
			tabletest.Err(t, "Do", err, tt.wantErr)
			if tt.wantCode == 0 {
				return
			}
			if res.StatusCode != tt.wantCode || head.StatusCode != tt.wantCode || body.String() != tt.wantBody || res.Truncated != tt.wantTrunc {
				t.Errorf("got %d (head %d) %q truncated %v", res.StatusCode, head.StatusCode, body.String(), res.Truncated)
			}
			if res.Bytes != int64(len(tt.wantBody)) {
				t.Errorf("Bytes = %d, want %d", res.Bytes, len(tt.wantBody))
			}
			if res.Proto != tt.wantProto || tt.wantBody == "Hello, World!" && res.Header.Get("X-Proto") != tt.wantProto {
				t.Errorf("proto %s (server saw %s), want %s", res.Proto, res.Header.Get("X-Proto"), tt.wantProto)
			}
			tm := res.Timings
			if tm.Connect <= 0 || tm.FirstByte <= 0 || tm.Total < tm.FirstByte || tm.DNS != httpclient.NotMeasured {
				t.Errorf("timings %+v", tm)
			}
			if (tm.TLS != httpclient.NotMeasured) != tt.wantTLS {
				t.Errorf("TLS timing %v, want TLS %v", tm.TLS, tt.wantTLS)
			}
			if res.Reused {
				t.Error("first request on a reused connection")
			}
		})
	}
}

func TestClient_DoSendsMethodHeadersBody(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- fmt.Sprintf("%s %s host=%s ua=%s x=%s body=%s", r.Method, r.URL, r.Host, r.UserAgent(), r.Header.Get("X-Test"), b)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, httpclient.Config{
		Method: "PUT", Body: []byte("data"),
		Header: http.Header{"X-Test": {"1"}, "Host": {"example.org"}},
	}, srv.URL+"/p?q=1")
	if _, err := c.Do(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if s, want := <-got, "PUT /p?q=1 host=example.org ua=netlab-http-client x=1 body=data"; s != want {
		t.Errorf("server saw %q, want %q", s, want)
	}
}

func TestClient_DoCancelled(t *testing.T) {
	srv := newServer(t, false)
	c := newClient(t, httpclient.Config{}, srv.URL+"/block")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Do(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestClient_Load(t *testing.T) {
	srv := newServer(t, false)
	h2c := newServer(t, true)
	refused := addrtest.ClosedTCP(t)
	tests := []struct {
		name        string
		url         string
		cfg         httpclient.Config
		opts        httpclient.LoadOptions
		wantOK      int64
		wantNew     int64 // -1: do not check
		wantReused  int64
		wantCodes   []httpclient.StatusCount
		wantKinds   []httpclient.KindCount
		wantSamples int64
	}{
		{name: "keep-alive", url: srv.URL + "/", opts: httpclient.LoadOptions{Count: 10, Connections: 1},
			wantOK: 10, wantNew: 1, wantReused: 9, wantCodes: []httpclient.StatusCount{{Code: 200, N: 10}}, wantSamples: 10},
		{name: "h2c one connection", url: h2c.URL + "/", cfg: httpclient.Config{Proto: httpclient.ProtoH2C},
			opts:   httpclient.LoadOptions{Count: 10, Connections: 1},
			wantOK: 10, wantNew: 1, wantReused: 9, wantCodes: []httpclient.StatusCount{{Code: 200, N: 10}}, wantSamples: 10},
		{name: "concurrent", url: srv.URL + "/", opts: httpclient.LoadOptions{Count: 200, Connections: 8},
			wantOK: 200, wantNew: -1, wantCodes: []httpclient.StatusCount{{Code: 200, N: 200}}, wantSamples: 200},
		{name: "paced", url: srv.URL + "/", opts: httpclient.LoadOptions{Count: 5, Connections: 2, Rate: 1000},
			wantOK: 5, wantNew: -1, wantCodes: []httpclient.StatusCount{{Code: 200, N: 5}}, wantSamples: 5},
		{name: "unexpected status", url: srv.URL + "/status/500", opts: httpclient.LoadOptions{Count: 4},
			wantOK: 0, wantNew: 1, wantReused: 3, wantCodes: []httpclient.StatusCount{{Code: 500, N: 4}},
			wantKinds: []httpclient.KindCount{{Kind: httpclient.KindStatus, N: 4}}, wantSamples: 4},
		{name: "refused", url: "http://" + refused + "/", opts: httpclient.LoadOptions{Count: 3, Connections: 3},
			wantOK: 0, wantNew: 0, wantReused: 0, wantKinds: []httpclient.KindCount{{Kind: httpclient.KindRefused, N: 3}}},
		{name: "truncated bodies close connections", url: srv.URL + "/bytes/100", cfg: httpclient.Config{MaxBody: 10},
			opts: httpclient.LoadOptions{Count: 3}, wantOK: 3, wantNew: 3, wantReused: 0,
			wantCodes: []httpclient.StatusCount{{Code: 200, N: 3}}, wantSamples: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, tt.cfg, tt.url)
			var mu sync.Mutex
			var seen []int
			tt.opts.OnResult = func(r httpclient.Result) { mu.Lock(); seen = append(seen, r.Seq); mu.Unlock() }
			sum, err := c.Load(t.Context(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			n := int64(tt.opts.Count)
			if sum.Requests != n || sum.OK != tt.wantOK || sum.Errors != n-tt.wantOK || int64(len(seen)) != n {
				t.Errorf("requests %d ok %d errors %d results %d", sum.Requests, sum.OK, sum.Errors, len(seen))
			}
			if tt.wantNew >= 0 && (sum.NewConns != tt.wantNew || sum.ReusedConns != tt.wantReused) {
				t.Errorf("connections: %d new, %d reused; want %d, %d", sum.NewConns, sum.ReusedConns, tt.wantNew, tt.wantReused)
			}
			if tt.wantNew < 0 && sum.NewConns+sum.ReusedConns != n {
				t.Errorf("connections: %d new + %d reused != %d", sum.NewConns, sum.ReusedConns, n)
			}
			if fmt.Sprint(sum.StatusCodes) != fmt.Sprint(tt.wantCodes) || fmt.Sprint(sum.ErrorKinds) != fmt.Sprint(tt.wantKinds) {
				t.Errorf("codes %v kinds %v", sum.StatusCodes, sum.ErrorKinds)
			}
			if sum.Total.N != tt.wantSamples || sum.FirstByte.N != tt.wantSamples {
				t.Errorf("samples: total %d first byte %d, want %d", sum.Total.N, sum.FirstByte.N, tt.wantSamples)
			}
			if tt.wantSamples > 0 && (sum.Total.Min <= 0 || sum.Total.Max < sum.Total.P99 || sum.FirstByte.P50 > sum.Total.Max) {
				t.Errorf("latencies total %+v first byte %+v", sum.Total, sum.FirstByte)
			}
			if tt.wantOK < n && sum.LastErr == nil {
				t.Error("no LastErr")
			}
			if sum.Interrupted || sum.RequestsPerSecond() <= 0 {
				t.Errorf("interrupted %v, %g requests/s", sum.Interrupted, sum.RequestsPerSecond())
			}
		})
	}
}

func TestClient_LoadInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c := newClient(t, httpclient.Config{}, interruptingServer(t, 5, cancel))
	sum, err := c.Load(ctx, httpclient.LoadOptions{Count: 1000, Connections: 1})
	if !errors.Is(err, context.Canceled) || !sum.Interrupted {
		t.Fatalf("err %v interrupted %v", err, sum.Interrupted)
	}
	if sum.Requests != 5 || sum.OK != 5 || sum.Errors != 0 {
		t.Errorf("requests %d ok %d errors %d, want 5 5 0 (the cancelled one is not counted)", sum.Requests, sum.OK, sum.Errors)
	}
}

func TestClient_LoadOptions(t *testing.T) {
	c := newClient(t, httpclient.Config{}, "http://127.0.0.1:1/")
	for _, o := range []httpclient.LoadOptions{
		{Count: 0}, {Count: httpclient.MaxCount + 1}, {Count: 1, Connections: httpclient.MaxConnections + 1},
		{Count: 1, Rate: -1}, {Count: 1, Rate: httpclient.MaxRate + 1},
	} {
		if _, err := c.Load(t.Context(), o); err == nil {
			t.Errorf("Load(%+v) accepted", o)
		}
	}
}

func TestNew_RejectsBadConfig(t *testing.T) {
	u := func(s string) *url.URL { v, _ := url.Parse(s); return v }
	for _, cfg := range []httpclient.Config{
		{},
		{URL: u("ftp://h/")},
		{URL: u("https://h/"), Proto: httpclient.ProtoH2C},
		{URL: u("http://h/"), MaxBody: -1},
		{URL: u("http://h/"), MaxBody: httpclient.MaxMaxBody + 1},
	} {
		if _, err := httpclient.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// rawServer accepts one connection, reads the request head and answers with
// reply, then closes; it returns the address and the request it read.
func rawServer(t *testing.T, reply string, hold bool) (string, <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer func() { _ = conn.Close() }()
		var req []byte
		buf := make([]byte, 4096)
		for !bytes.Contains(req, []byte("\r\n\r\n")) {
			n, err := conn.Read(buf)
			req = append(req, buf[:n]...)
			if err != nil {
				break
			}
		}
		got <- string(req)
		_, _ = io.WriteString(conn, reply)
		if hold {
			_, _ = io.Copy(io.Discard, conn) // until the client gives up
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return ln.Addr().String(), got
}

func TestRaw(t *testing.T) {
	const reply = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!"
	addr, got := rawServer(t, reply, false)
	u, _ := httpclient.ParseURL("http://" + addr + "/")
	var out bytes.Buffer
	res, err := httpclient.Raw(t.Context(), httpclient.RawOptions{URL: u, Timeout: 5 * time.Second}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != reply || res.Bytes != int64(len(reply)) || res.Truncated {
		t.Errorf("got %q (%d bytes, truncated %v)", out.String(), res.Bytes, res.Truncated)
	}
	wantReq := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUser-Agent: netlab-http-client\r\nConnection: close\r\n\r\n"
	if req := <-got; req != wantReq || string(res.Request) != wantReq {
		t.Errorf("server read %q, want %q", req, wantReq)
	}
}

func TestRaw_Failures(t *testing.T) {
	refused := addrtest.ClosedTCP(t)
	silent, _ := rawServer(t, "", true)
	partial, _ := rawServer(t, "HTTP/1.1 200 OK\r\n", true)
	empty, _ := rawServer(t, "", false)
	long, _ := rawServer(t, strings.Repeat("y", 100), false)
	tests := []struct {
		name, addr string
		max        int64
		wantOut    string
		wantErr    string
		wantTrunc  bool
	}{
		{name: "refused", addr: refused, wantErr: "cannot reach " + refused + ": connection refused"},
		{name: "silent", addr: silent, wantErr: "timed out after 50ms waiting for the response"},
		{name: "partial", addr: partial, wantOut: "HTTP/1.1 200 OK\r\n", wantErr: "timed out after 50ms reading the body (17 bytes read)"},
		{name: "closed without a response", addr: empty, wantErr: "the server closed the connection without a response"},
		{name: "capped", addr: long, max: 10, wantOut: "yyyyyyyyyy", wantTrunc: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, _ := httpclient.ParseURL("http://" + tt.addr + "/")
			var out bytes.Buffer
			res, err := httpclient.Raw(t.Context(), httpclient.RawOptions{URL: u, Timeout: 50 * time.Millisecond, Max: tt.max}, &out)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if out.String() != tt.wantOut || res.Truncated != tt.wantTrunc {
				t.Errorf("out %q truncated %v", out.String(), res.Truncated)
			}
		})
	}
}
