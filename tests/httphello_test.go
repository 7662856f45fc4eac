package tests_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
)

const (
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
	// httpInFlight is the gauge of requests being answered, by route.
	httpInFlight = "netlab_http_hello_requests_in_flight"
)

// httpClientOpts runs /http-client from the http-hello image on network with
// args, hardened like the compose http-client service.
func httpClientOpts(networkName string, args ...string) []testcontainers.ContainerCustomizer {
	return []testcontainers.ContainerCustomizer{
		testcontainers.WithEntrypoint(httpClient),
		testcontainers.WithCmd(args...),
		testcontainers.WithEnv(map[string]string{"HTTP_HELLO_URL": httpHelloURL}),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.ReadonlyRootfs = true
			hc.CapDrop = []string{"ALL"}
			hc.SecurityOpt = []string{"no-new-privileges:true"}
		}),
		network.WithNetworkName(nil, networkName),
	}
}

// runHTTPClient runs the client to completion on the stack's network.
func runHTTPClient(t *testing.T, s *stack, args ...string) oneShot {
	t.Helper()
	return runOneShot(t, httpHelloImage, httpClientOpts(s.network, args...)...)
}

// httpResponse is a response read to the end.
type httpResponse struct {
	code   int
	header http.Header
	body   []byte
}

// httpDo sends one request with a client of its own (no pooled connections
// shared between tests) and reads the whole response.
func httpDo(ctx context.Context, method, url string, timeout time.Duration) (httpResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return httpResponse{}, err
	}
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		return httpResponse{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return httpResponse{}, fmt.Errorf("%s %s: read body: %w", method, url, err)
	}
	return httpResponse{code: resp.StatusCode, header: resp.Header, body: body}, nil
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

// serviceHostnames returns the hostnames of every container of a compose
// service in the stack's project.
func serviceHostnames(t *testing.T, s *stack, service string) []string {
	t.Helper()
	cli := requireDocker(t)
	res, err := cli.ContainerList(t.Context(), client.ContainerListOptions{
		All: true,
		Filters: make(client.Filters).
			Add("label", "com.docker.compose.project="+s.name).
			Add("label", "com.docker.compose.service="+service),
	})
	if err != nil {
		t.Fatalf("list %s containers: %v", service, err)
	}
	var names []string
	for _, c := range res.Items {
		info, err := cli.ContainerInspect(t.Context(), c.ID, client.ContainerInspectOptions{})
		if err != nil {
			t.Fatalf("inspect %s: %v", c.ID, err)
		}
		names = append(names, info.Container.Config.Hostname)
	}
	slices.Sort(names)
	return names
}

func TestHTTPHello_ContainerIsHealthy(t *testing.T) {
	s := sharedStack(t)

	state := inspect(t, s.httpHello).State
	if state.Health == nil {
		t.Fatal("http-hello has no health check (expected one from docker-compose.yml)")
	}
	if state.Health.Status != container.Healthy {
		t.Fatalf("health status = %q, want %q (last results: %+v)", state.Health.Status, container.Healthy, state.Health.Log)
	}
}

func TestHTTPHello_GreetsHelloWorldFromHost(t *testing.T) {
	s := sharedStack(t)

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
			resp, err := httpDo(t.Context(), tt.method, "http://"+s.httpAddr+"/", 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if resp.code != http.StatusOK {
				t.Errorf("%s / status = %d, want 200", tt.method, resp.code)
			}
			if got := string(resp.body); got != tt.wantBody {
				t.Errorf("%s / body = %q, want %q", tt.method, got, tt.wantBody)
			}
			if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("%s / Content-Type = %q, want text/plain", tt.method, ct)
			}
			if cl := resp.header.Get("Content-Length"); cl != strconv.Itoa(len(greeting)) {
				t.Errorf("%s / Content-Length = %q, want %d", tt.method, cl, len(greeting))
			}
		})
	}
}

func TestHTTPHello_ClientReachesServerByServiceName(t *testing.T) {
	s := sharedStack(t)

	res := runHTTPClient(t, s)
	if res.exitCode != 0 {
		t.Fatalf("http-client: %s", res)
	}
	lines := strings.Split(strings.TrimRight(res.stdout, "\n"), "\n")
	if len(lines) < 2 || lines[0] != "HTTP/1.1 200 OK" || lines[1] != greeting {
		t.Fatalf("http-client stdout = %q, want the status line %q and the body %q\nstderr:\n%s",
			res.stdout, "HTTP/1.1 200 OK", greeting, res.stderr)
	}
}

func TestHTTPHello_RawClientPrintsStatusLineAndBody(t *testing.T) {
	s := sharedStack(t)

	res := runHTTPClient(t, s, "--raw")
	if res.exitCode != 0 {
		t.Fatalf("http-client --raw: %s", res)
	}
	// Exactly the bytes the server sent: status line, headers, blank line,
	// body (the request said Connection: close, so nothing follows).
	head, body, found := strings.Cut(res.stdout, "\r\n\r\n")
	if !found {
		t.Fatalf("http-client --raw stdout has no end of headers (CRLF CRLF): %q", res.stdout)
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
	s := newStack(t, stackConfig{
		services: []string{httpHelloService},
		replicas: map[string]int{httpHelloService: 2},
	})
	want := serviceHostnames(t, s, httpHelloService)
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
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
		)
		for range perBatch {
			wg.Go(func() {
				r, err := func() (echoReply, error) {
					res, err := startOneShot(t, httpHelloImage, httpClientOpts(s.network, httpHelloURL+"echo")...)
					if err != nil {
						return echoReply{}, err
					}
					if res.exitCode != 0 {
						return echoReply{}, fmt.Errorf("http-client /echo: %s", res)
					}
					return parseEchoOutput(res.stdout)
				}()
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				if r.Path != "/echo" {
					errs = append(errs, fmt.Errorf("/echo answered path %q", r.Path))
				}
				seen[r.Hostname]++
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		t.Logf("after batch %d: answers by hostname %v", b+1, seen)
	}
	if got := slices.Sorted(maps.Keys(seen)); !slices.Equal(got, want) {
		t.Fatalf("/echo answered from hostnames %v, want both replicas %v", got, want)
	}
}

func TestHTTPHello_BytesStreamsUpToMaxBytesAndRefusesMore(t *testing.T) {
	s := sharedStack(t)
	ctx := t.Context()

	t.Run("over MAX_BYTES", func(t *testing.T) {
		resp, err := httpDo(ctx, http.MethodGet, fmt.Sprintf("http://%s/bytes/%d", s.httpAddr, httpMaxBytes+1), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if resp.code != http.StatusBadRequest || !strings.Contains(string(resp.body), "MAX_BYTES") {
			t.Fatalf("GET /bytes/%d = %d %q, want 400 naming MAX_BYTES", httpMaxBytes+1, resp.code, abbrev(resp.body))
		}
	})

	t.Run("exactly MAX_BYTES", func(t *testing.T) {
		// Counted as it streams, not held in memory.
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/bytes/%d", s.httpAddr, httpMaxBytes), nil)
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
	s := sharedStack(t)
	ctx := t.Context()

	conn := dial(t, s.httpAddr)
	opened := time.Now()
	// The server's verdict: whatever it sends (nothing, or a 408) and when
	// it closes.
	type verdict struct {
		got    []byte
		err    error
		closed time.Time
	}
	closed := make(chan verdict, 1)
	go func() {
		_ = conn.SetReadDeadline(time.Now().Add(httpReadHeaderTimeout + ioTimeout))
		got, err := io.ReadAll(conn)
		closed <- verdict{got: got, err: err, closed: time.Now()}
	}()

	// Trickle a request header that never ends: one byte every 200ms.
	stopTrickle, trickleDone := make(chan struct{}), make(chan struct{})
	defer func() { close(stopTrickle); <-trickleDone }()
	go func() {
		defer close(trickleDone)
		header := "GET / HTTP/1.1\r\nHost: http-hello\r\nX-Slow: " + strings.Repeat("z", 1000)
		for i := range len(header) {
			if _, err := conn.Write([]byte{header[i]}); err != nil {
				return // the server closed the connection
			}
			select {
			case <-stopTrickle:
				return
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()

	// Meanwhile, normal requests are answered at once.
	served := 0
	var v verdict
	wait := time.NewTimer(httpReadHeaderTimeout + 5*time.Second)
	defer wait.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
loop:
	for {
		select {
		case v = <-closed:
			break loop
		case <-wait.C:
			t.Fatalf("the slow connection is still open %s after it was opened (READ_HEADER_TIMEOUT is %s)",
				time.Since(opened).Round(time.Millisecond), httpReadHeaderTimeout)
		case <-tick.C:
			start := time.Now()
			resp, err := httpDo(ctx, http.MethodGet, "http://"+s.httpAddr+"/", 2*time.Second)
			if err != nil {
				t.Fatalf("GET / while a slow client trickles its header: %v", err)
			}
			if resp.code != http.StatusOK || string(resp.body) != greeting {
				t.Fatalf("GET / while a slow client trickles its header = %d %q, want 200 %q", resp.code, resp.body, greeting)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("GET / took %s while a slow client trickled its header", d)
			}
			served++
		}
	}

	after := v.closed.Sub(opened)
	t.Logf("slow connection closed after %s (read %q, %v); %d requests served meanwhile",
		after.Round(time.Millisecond), v.got, v.err, served)
	if v.err != nil && !isClosedByPeer(v.err) {
		t.Fatalf("slow connection: want the server to close it, got %v", v.err)
	}
	// It was the header timeout that closed it, not something else.
	if after < httpReadHeaderTimeout-time.Second {
		t.Errorf("slow connection closed after %s, before READ_HEADER_TIMEOUT (%s)", after, httpReadHeaderTimeout)
	}
	// The server may say 408 before it closes; it must never serve the
	// request.
	if len(v.got) > 0 && !strings.HasPrefix(string(v.got), "HTTP/1.1 408") {
		t.Errorf("slow connection got %q, want nothing or a 408", abbrev(v.got))
	}
	if served < 3 {
		t.Errorf("only %d requests were served while the slow client trickled, want several", served)
	}
}

// TestHTTPHello_SIGTERMLetsDelayedRequestFinish stops the service, so it runs
// on a stack of its own.
func TestHTTPHello_SIGTERMLetsDelayedRequestFinish(t *testing.T) {
	s := newStack(t, stackConfig{services: []string{httpHelloService}})
	ctx := t.Context()

	type result struct {
		resp httpResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := httpDo(ctx, http.MethodGet, "http://"+s.httpAddr+"/delay/2s", 15*time.Second)
		done <- result{resp, err}
	}()

	// SIGTERM only once the server is inside the handler.
	route := `route="GET /delay/{duration}"`
	err := poll(ctx, 2*time.Second, 20*time.Millisecond, func() error {
		v, err := scrapeMetric(ctx, s.httpAdminAddr, httpInFlight, route)
		if err != nil {
			return err
		}
		if v != 1 {
			return fmt.Errorf("%s{%s} = %v, want 1", httpInFlight, route, v)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("the /delay request is not in flight: %v", err)
	}

	sent := time.Now()
	if _, err := requireDocker(t).ContainerKill(ctx, s.httpHello.GetContainerID(), client.ContainerKillOptions{Signal: "SIGTERM"}); err != nil {
		t.Fatalf("send SIGTERM: %v", err)
	}

	r := <-done
	if r.err != nil {
		t.Fatalf("GET /delay/2s interrupted by SIGTERM: %v", r.err)
	}
	if r.resp.code != http.StatusOK || !strings.Contains(string(r.resp.body), `"delayed": "2s"`) {
		t.Fatalf("GET /delay/2s = %d %q, want 200 with \"delayed\": \"2s\"", r.resp.code, r.resp.body)
	}
	t.Logf("GET /delay/2s answered 200 %s after SIGTERM", time.Since(sent).Round(time.Millisecond))

	state, err := waitExited(ctx, s.httpHello, 30*time.Second)
	if err != nil {
		t.Fatalf("http-hello did not exit: %v", err)
	}
	if state.ExitCode != 0 {
		stdout, stderr := containerLogs(t, s.httpHello.GetContainerID())
		t.Fatalf("http-hello exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", state.ExitCode, tail(stdout, 20), tail(stderr, 20))
	}
	t.Logf("http-hello exited with code 0 %s after SIGTERM", time.Since(sent).Round(10*time.Millisecond))
}

func TestHTTPHello_BadConfigExitsTwoNamingTheVariable(t *testing.T) {
	skipShort(t)

	res := runOneShot(t, httpHelloImage, testcontainers.WithEnv(map[string]string{"MAX_DELAY": "abc"}))
	if res.exitCode != 2 {
		t.Errorf("exit code = %d, want 2", res.exitCode)
	}
	if !strings.Contains(res.stderr, "MAX_DELAY") {
		t.Errorf("stderr does not name MAX_DELAY\n%s", res)
	}
}

func TestHTTPHello_RunsAsNonRootWithReadOnlyRootFS(t *testing.T) {
	s := sharedStack(t)
	assertNonRootReadOnly(t, s.httpHello)
}
