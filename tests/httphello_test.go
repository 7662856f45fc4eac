package tests_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/tests/e2e"
	"github.com/testcontainers/testcontainers-go"
)

const (
	// httpPort is http-hello's container port (docker-compose.yml publishes
	// it and the admin port).
	httpPort = "8000"
	// httpHelloURL is where a client container on the stack's network
	// reaches http-hello (the compose http-client service's HTTP_HELLO_URL).
	httpHelloURL = "http://http-hello:8000/"
	// httpClient is the client binary in the http-hello image.
	httpClient = "/http-client"
	// greeting is what GET / answers (GREETING in deploy/env/http-hello.env).
	greeting = "Hello, World!"
	// Limits from deploy/env/http-hello.env.
	httpMaxBytes          = 104857600
	httpReadHeaderTimeout = 5 * time.Second
	httpMaxHeaderBytes    = 16384
	httpMaxBody           = 1048576
	// httpInFlight is the gauge of requests being answered, by route.
	httpInFlight = "netlab_http_hello_requests_in_flight"
)

// httpClientOpts runs /http-client from the http-hello image on network with
// args, hardened like the compose http-client service.
func httpClientOpts(networkName string, args ...string) []testcontainers.ContainerCustomizer {
	return e2e.ClientOpts(networkName, httpClient, map[string]string{"HTTP_HELLO_URL": httpHelloURL}, args...)
}

// runHTTPClient runs the client to completion on the stack's network.
func runHTTPClient(t *testing.T, s *e2e.Stack, args ...string) e2e.OneShot {
	t.Helper()
	return e2e.RunOneShot(t, e2e.Image(e2e.HTTPHello), httpClientOpts(s.Network, args...)...)
}

// echoReply is the part of /echo's answer that tells replicas apart.
type echoReply struct {
	Path     string   `json:"path"`
	Hostname string   `json:"hostname"`
	IPs      []string `json:"ips"`
}

// parseEchoOutput decodes the JSON body the client printed between its
// status line and its timings.
func parseEchoOutput(stdout string) (echoReply, error) {
	i := strings.IndexByte(stdout, '{')
	if i < 0 {
		return echoReply{}, fmt.Errorf("no JSON body in client output %q", stdout)
	}
	var r echoReply
	if err := json.NewDecoder(strings.NewReader(stdout[i:])).Decode(&r); err != nil {
		return echoReply{}, fmt.Errorf("/echo body in client output: %w", err)
	}
	if r.Hostname == "" {
		return echoReply{}, fmt.Errorf("/echo body has no hostname: %q", stdout)
	}
	return r, nil
}

func TestHTTPHello_ContainerIsHealthy(t *testing.T) {
	s := e2e.SharedStack(t)
	e2e.RequireHealthy(t, s.Service(e2e.HTTPHello).Container())
}

func TestHTTPHello_GreetsHelloWorldFromHost(t *testing.T) {
	addr := e2e.SharedStack(t).Service(e2e.HTTPHello).Addr(httpPort)

	tests := []struct {
		method   string
		wantBody string
	}{
		{method: http.MethodGet, wantBody: greeting},
		// HEAD: the same headers, no body.
		{method: http.MethodHead, wantBody: ""},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			resp, err := e2e.HTTPDo(t.Context(), tt.method, "http://"+addr+"/", 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Code != http.StatusOK {
				t.Errorf("%s / status = %d, want 200", tt.method, resp.Code)
			}
			if got := string(resp.Body); got != tt.wantBody {
				t.Errorf("%s / body = %q, want %q", tt.method, got, tt.wantBody)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("%s / Content-Type = %q, want text/plain", tt.method, ct)
			}
			if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(greeting)) {
				t.Errorf("%s / Content-Length = %q, want %d", tt.method, cl, len(greeting))
			}
		})
	}
}

func TestHTTPHello_ClientReachesServerByServiceName(t *testing.T) {
	s := e2e.SharedStack(t)

	res := runHTTPClient(t, s)
	if res.ExitCode != 0 {
		t.Fatalf("http-client: %s", res)
	}
	lines := strings.Split(strings.TrimRight(res.Stdout, "\n"), "\n")
	if len(lines) < 2 || lines[0] != "HTTP/1.1 200 OK" || lines[1] != greeting {
		t.Fatalf("http-client stdout = %q, want the status line %q and the body %q\nstderr:\n%s",
			res.Stdout, "HTTP/1.1 200 OK", greeting, res.Stderr)
	}
}

// The client container saves an open-loop run through its standard output
// (--save -), as a read-only container must: the record alone on stdout,
// the report on stderr.
func TestHTTPHello_ClientContainerSavesAnOpenLoopRun(t *testing.T) {
	s := e2e.SharedStack(t)

	res := runHTTPClient(t, s, "--duration", "2s", "--rate", "200", "--connections", "2", "--save", "-", "--label", "from the container")
	if res.ExitCode != 0 {
		t.Fatalf("http-client: %s", res)
	}
	var rec struct {
		Schema, Client, Label string
		Summary               struct{ Ops, Errors int64 }
		Schedule              *struct {
			TargetRate float64 `json:"target_rate"`
			Started    int64
		}
		Intervals []json.RawMessage
	}
	if strings.Count(res.Stdout, "\n") != 1 {
		t.Fatalf("stdout is not one record: %q", res.Stdout)
	}
	if err := json.Unmarshal([]byte(res.Stdout), &rec); err != nil {
		t.Fatalf("%v: %q", err, res.Stdout)
	}
	if rec.Schema != "netlab-run/1" || rec.Client != "http-client" || rec.Label != "from the container" ||
		rec.Summary.Ops < 100 || rec.Summary.Errors != 0 || rec.Schedule == nil || rec.Schedule.TargetRate != 200 ||
		rec.Schedule.Started != rec.Summary.Ops || len(rec.Intervals) < 2 {
		t.Errorf("record %+v", rec)
	}
	if !strings.Contains(res.Stderr, "schedule   rate 200/s asked") {
		t.Errorf("stderr has no report: %q", res.Stderr)
	}
}

// An open loop the server cannot keep: 200 requests a second on one
// connection to /delay/20ms, which answers at most 50 a second. The client
// says it could not keep the rate, and its count of requests is the one
// the server answered.
func TestHTTPHello_OpenLoopReportsTheShortfallAgainstDelay(t *testing.T) {
	s := e2e.SharedStack(t)
	hello := s.Service(e2e.HTTPHello)
	const requests, route = "netlab_http_hello_requests_total", `route="GET /delay/{duration}"`
	before := e2e.Scrape(t, hello.AdminAddr()).Sum(requests, route)

	res := runHTTPClient(t, s, "--duration", "2s", "--rate", "200", "--connections", "1", "--json", httpHelloURL+"delay/20ms")
	if res.ExitCode != 0 {
		t.Fatalf("http-client: %s", res)
	}
	var sum struct {
		Requests, OK int64
		Schedule     *struct {
			Scheduled, Started, Missed int64
			KeptRate                   bool `json:"kept_rate"`
		}
	}
	if err := json.Unmarshal([]byte(res.Stdout), &sum); err != nil || sum.Schedule == nil {
		t.Fatalf("%v: %q", err, res.Stdout)
	}
	served := e2e.Scrape(t, hello.AdminAddr()).Value(requests, route) - before
	sc := sum.Schedule
	t.Logf("scheduled %d, started %d, missed %d; the server answered %v", sc.Scheduled, sc.Started, sc.Missed, served)
	if sum.OK != sum.Requests || sc.Started != sum.Requests || float64(sum.Requests) != served {
		t.Errorf("client: %d requests, %d ok, %d started; server answered %v", sum.Requests, sum.OK, sc.Started, served)
	}
	if sc.Scheduled != 400 || sc.Missed != sc.Scheduled-sc.Started || sc.Missed < 200 || sc.KeptRate {
		t.Errorf("schedule %+v: want 400 due, over half of them missed, the rate not kept", *sc)
	}
}

func TestHTTPHello_RawClientPrintsStatusLineAndBody(t *testing.T) {
	s := e2e.SharedStack(t)

	res := runHTTPClient(t, s, "--raw")
	if res.ExitCode != 0 {
		t.Fatalf("http-client --raw: %s", res)
	}
	// Exactly the bytes the server sent: status line, headers, blank line,
	// body (the request said Connection: close, so nothing follows).
	head, body, found := strings.Cut(res.Stdout, "\r\n\r\n")
	if !found {
		t.Fatalf("http-client --raw stdout has no end of headers (CRLF CRLF): %q", res.Stdout)
	}
	if status, _, _ := strings.Cut(head, "\r\n"); status != "HTTP/1.1 200 OK" {
		t.Errorf("status line = %q, want %q", status, "HTTP/1.1 200 OK")
	}
	if body != greeting {
		t.Errorf("body = %q, want %q", body, greeting)
	}
}

// TestHTTPHello_EchoTellsTwoReplicasApart scales the service, so it runs on
// a stack of its own.
func TestHTTPHello_EchoTellsTwoReplicasApart(t *testing.T) {
	s := e2e.NewStack(t, e2e.StackConfig{
		Services: []string{e2e.HTTPHello},
		Replicas: map[string]int{e2e.HTTPHello: 2},
	})
	var want []string
	for _, c := range s.Service(e2e.HTTPHello).Containers {
		want = append(want, e2e.Inspect(t, c).Config.Hostname)
	}
	slices.Sort(want)
	if len(want) != 2 {
		t.Fatalf("http-hello runs %d containers (%v), want 2", len(want), want)
	}

	// Docker's DNS shuffles the replicas' addresses on every lookup, and
	// each client container looks the name up afresh: a batch of parallel
	// one-shot clients almost surely reaches both. Bounded: 4 batches of 4
	// all reaching one replica has probability 2^-15.
	const batches, perBatch = 4, 4
	seen := map[string]int{}
	for b := 0; b < batches && len(seen) < 2; b++ {
		runs, err := e2e.StartOneShots(t, perBatch, e2e.Image(e2e.HTTPHello), httpClientOpts(s.Network, httpHelloURL+"echo")...)
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range runs {
			if res.ExitCode != 0 {
				t.Errorf("http-client /echo: %s", res)
				continue
			}
			r, err := parseEchoOutput(res.Stdout)
			if err != nil {
				t.Error(err)
				continue
			}
			if r.Path != "/echo" {
				t.Errorf("/echo answered path %q", r.Path)
			}
			seen[r.Hostname]++
		}
		if t.Failed() {
			t.FailNow()
		}
		t.Logf("after batch %d: answers by hostname %v", b+1, seen)
	}
	if got := slices.Sorted(maps.Keys(seen)); !slices.Equal(got, want) {
		t.Fatalf("/echo answered from hostnames %v, want both replicas %v", got, want)
	}
}

func TestHTTPHello_BytesStreamsUpToMaxBytesAndRefusesMore(t *testing.T) {
	addr := e2e.SharedStack(t).Service(e2e.HTTPHello).Addr(httpPort)
	ctx := t.Context()

	t.Run("over MAX_BYTES", func(t *testing.T) {
		resp, err := e2e.HTTPDo(ctx, http.MethodGet, fmt.Sprintf("http://%s/bytes/%d", addr, httpMaxBytes+1), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Code != http.StatusBadRequest || !strings.Contains(string(resp.Body), "MAX_BYTES") {
			t.Fatalf("GET /bytes/%d = %d %q, want 400 naming MAX_BYTES", httpMaxBytes+1, resp.Code, e2e.Abbrev(resp.Body))
		}
	})

	t.Run("exactly MAX_BYTES", func(t *testing.T) {
		// Counted as it streams, not held in memory.
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/bytes/%d", addr, httpMaxBytes), nil)
		if err != nil {
			t.Fatal(err)
		}
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true}}
		defer c.CloseIdleConnections()
		start := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /bytes/%d status = %d, want 200", httpMaxBytes, resp.StatusCode)
		}
		if resp.ContentLength != httpMaxBytes {
			t.Errorf("Content-Length = %d, want %d", resp.ContentLength, httpMaxBytes)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil {
			t.Fatalf("read body after %d bytes: %v", n, err)
		}
		if n != httpMaxBytes {
			t.Fatalf("body has %d bytes, want %d", n, httpMaxBytes)
		}
		t.Logf("streamed %d bytes in %s", n, time.Since(start).Round(time.Millisecond))
	})
}

func TestHTTPHello_SlowlorisIsCutOffWhileOthersAreServed(t *testing.T) {
	addr := e2e.SharedStack(t).Service(e2e.HTTPHello).Addr(httpPort)

	conn := e2e.Dial(t, addr)
	opened := time.Now()
	closed := awaitClose(conn)
	defer trickleHeader(t.Context(), conn)()

	// Meanwhile, normal requests are answered at once.
	served := 0
	var v closeVerdict
	wait := time.NewTimer(httpReadHeaderTimeout + 5*time.Second)
	defer wait.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for v.closed.IsZero() {
		select {
		case v = <-closed:
		case <-wait.C:
			t.Fatalf("the slow connection is still open %s after it was opened (READ_HEADER_TIMEOUT is %s)",
				time.Since(opened).Round(time.Millisecond), httpReadHeaderTimeout)
		case <-tick.C:
			expectServedAtOnce(t, addr)
			served++
		}
	}

	after := v.closed.Sub(opened)
	t.Logf("slow connection closed after %s (read %q, %v); %d requests served meanwhile",
		after.Round(time.Millisecond), v.got, v.err, served)
	if v.err != nil && !e2e.IsClosedByPeer(v.err) {
		t.Fatalf("slow connection: want the server to close it, got %v", v.err)
	}
	// It was the header timeout that closed it, not something else.
	if after < httpReadHeaderTimeout-time.Second {
		t.Errorf("slow connection closed after %s, before READ_HEADER_TIMEOUT (%s)", after, httpReadHeaderTimeout)
	}
	// The server may say 408 before it closes; it must never serve the
	// request.
	if len(v.got) > 0 && !strings.HasPrefix(string(v.got), "HTTP/1.1 408") {
		t.Errorf("slow connection got %q, want nothing or a 408", e2e.Abbrev(v.got))
	}
	if served < 3 {
		t.Errorf("only %d requests were served while the slow client trickled, want several", served)
	}
}

// closeVerdict is the server's verdict on a slow connection: whatever it
// sent (nothing, or a 408) and when it closed.
type closeVerdict struct {
	got    []byte
	err    error
	closed time.Time
}

// awaitClose reads conn until the server closes it (or the header timeout
// and IOTimeout pass) and then delivers the verdict.
func awaitClose(conn net.Conn) <-chan closeVerdict {
	closed := make(chan closeVerdict, 1)
	go func() {
		_ = conn.SetReadDeadline(time.Now().Add(httpReadHeaderTimeout + e2e.IOTimeout))
		got, err := io.ReadAll(conn)
		closed <- closeVerdict{got: got, err: err, closed: time.Now()}
	}()
	return closed
}

// trickleHeader writes a request header that never ends on conn, one byte
// every 200ms, until the server closes the connection or the returned stop
// is called; stop returns once the writer has.
func trickleHeader(ctx context.Context, conn net.Conn) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		header := "GET / HTTP/1.1\r\nHost: http-hello\r\nX-Slow: " + strings.Repeat("z", 1000)
		for i := range len(header) {
			if _, err := conn.Write([]byte{header[i]}); err != nil {
				return // the server closed the connection
			}
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return func() { close(quit); <-done }
}

// expectServedAtOnce fails t unless GET / on addr answers the greeting
// within a second.
func expectServedAtOnce(t *testing.T, addr string) {
	t.Helper()
	start := time.Now()
	resp, err := e2e.HTTPDo(t.Context(), http.MethodGet, "http://"+addr+"/", 2*time.Second)
	if err != nil {
		t.Fatalf("GET / while a slow client trickles its header: %v", err)
	}
	if resp.Code != http.StatusOK || string(resp.Body) != greeting {
		t.Fatalf("GET / while a slow client trickles its header = %d %q, want 200 %q", resp.Code, resp.Body, greeting)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("GET / took %s while a slow client trickled its header", d)
	}
}

// TestHTTPHello_SIGTERMLetsDelayedRequestFinish stops the service, so it runs
// on a stack of its own.
func TestHTTPHello_SIGTERMLetsDelayedRequestFinish(t *testing.T) {
	hello := e2e.NewService(t, e2e.HTTPHello)
	ctx := t.Context()

	type result struct {
		resp e2e.HTTPResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := e2e.HTTPDo(ctx, http.MethodGet, "http://"+hello.Addr(httpPort)+"/delay/2s", 15*time.Second)
		done <- result{resp, err}
	}()

	// SIGTERM only once the server is inside the handler.
	route := `route="GET /delay/{duration}"`
	err := e2e.Poll(ctx, 2*time.Second, 20*time.Millisecond, func() error {
		if v := e2e.Scrape(t, hello.AdminAddr()).Sum(httpInFlight, route); v != 1 {
			return fmt.Errorf("%s{%s} = %v, want 1", httpInFlight, route, v)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("the /delay request is not in flight: %v", err)
	}

	sent := e2e.SendSIGTERM(t, hello.Container())

	r := <-done
	if r.err != nil {
		t.Fatalf("GET /delay/2s interrupted by SIGTERM: %v", r.err)
	}
	if r.resp.Code != http.StatusOK || !strings.Contains(string(r.resp.Body), `"delayed": "2s"`) {
		t.Fatalf("GET /delay/2s = %d %q, want 200 with \"delayed\": \"2s\"", r.resp.Code, r.resp.Body)
	}
	t.Logf("GET /delay/2s answered 200 %s after SIGTERM", time.Since(sent).Round(time.Millisecond))

	e2e.RequireExitedZero(t, hello.Container(), exitWithin)
	t.Logf("http-hello exited with code 0 %s after SIGTERM", time.Since(sent).Round(10*time.Millisecond))
}

func TestHTTPHello_BadConfigExitsTwoNamingTheVariable(t *testing.T) {
	e2e.ExpectConfigError(t, e2e.HTTPHello, "MAX_DELAY", "abc")
}

func TestHTTPHello_RunsAsNonRootWithReadOnlyRootFS(t *testing.T) {
	s := e2e.SharedStack(t)
	e2e.AssertNonRootReadOnly(t, s.Service(e2e.HTTPHello).Container())
}

// A header block over MAX_HEADER_BYTES is refused with 431 and a body over
// MAX_BODY with 413, each counted.
func TestHTTPHello_RefusesOversizedHeaderAndBody(t *testing.T) {
	hello := e2e.SharedStack(t).Service(e2e.HTTPHello)
	const requests = "netlab_http_hello_requests_total"

	t.Run("header", func(t *testing.T) {
		// net/http reads up to MAX_HEADER_BYTES plus 4096 bytes of slack;
		// four times the limit is over either way.
		const counter = "netlab_http_hello_headers_too_large_total"
		before := e2e.Scrape(t, hello.AdminAddr()).Sum(counter)
		req := "GET / HTTP/1.1\r\nHost: http-hello\r\nX-Big: " + strings.Repeat("h", 4*httpMaxHeaderBytes) + "\r\n\r\n"
		resp := e2e.RawHTTP(t, hello.Addr(httpPort), []byte(req))
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("a %d-byte header block got %d, want 431", len(req), resp.StatusCode)
		}
		// net/http answers before any handler runs; the server counts it
		// all the same.
		if after := e2e.Scrape(t, hello.AdminAddr()).Value(counter); after != before+1 {
			t.Errorf("%s went from %v to %v, want +1", counter, before, after)
		}
		// Just under the limit is served.
		req = "GET / HTTP/1.1\r\nHost: http-hello\r\nX-Big: " + strings.Repeat("h", httpMaxHeaderBytes-100) + "\r\n\r\n"
		if resp := e2e.RawHTTP(t, hello.Addr(httpPort), []byte(req)); resp.StatusCode != http.StatusOK {
			t.Fatalf("a %d-byte header block got %d, want 200", len(req), resp.StatusCode)
		}
	})

	t.Run("body", func(t *testing.T) {
		label := []string{`route="/echo"`, `method="POST"`, `code="413"`}
		before := e2e.Scrape(t, hello.AdminAddr()).Sum(requests, label...)
		body := bytes.Repeat([]byte("b"), httpMaxBody+1)
		req := fmt.Appendf(nil, "POST /echo HTTP/1.1\r\nHost: http-hello\r\nContent-Length: %d\r\n\r\n", len(body))
		resp := e2e.RawHTTP(t, hello.Addr(httpPort), append(req, body...))
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("a %d-byte body got %d, want 413", len(body), resp.StatusCode)
		}
		if after := e2e.Scrape(t, hello.AdminAddr()).Value(requests, label...); after != before+1 {
			t.Errorf("%s%v went from %v to %v, want +1", requests, label, before, after)
		}
	})
}
