package tests_test

// http-hello's faults on the real compose stack: a crash, SIGTERM under
// load. Requests go from the test process straight to the container's
// address on the compose network, so the server's access log names the
// test's own sockets.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/netlab/netlab/tests/e2e"
)

// TestHTTPHello_Faults runs http-hello's faults on a stack of its own: a
// crash, then SIGTERM under load (which stops it). Its subtests run in
// order.
func TestHTTPHello_Faults(t *testing.T) {
	hello := e2e.NewService(t, e2e.HTTPHello)

	runCrashRecovers(t, hello, func(t *testing.T) {
		resp, err := e2e.HTTPDo(t.Context(), http.MethodGet, "http://"+e2e.ContainerAddr(t, hello.Container(), httpPort)+"/", 5*time.Second)
		if err != nil || resp.Code != http.StatusOK || string(resp.Body) != greeting {
			t.Fatalf("GET / after the crash = %d %q, %v", resp.Code, resp.Body, err)
		}
	})

	t.Run("SIGTERM under load loses no request", func(t *testing.T) {
		testHTTPSIGTERMUnderLoad(t, hello)
	})
}

// testHTTPSIGTERMUnderLoad: 32 keep-alive connections send requests one
// after the other (GET /, and every fifth GET /delay/200ms so requests are
// inside the handler when the signal comes), written by hand so that
// nothing is retried behind the test's back; then SIGTERM.
//
// What http-hello promises (README): on SIGTERM it stops accepting and lets
// requests in progress finish within SHUTDOWN_TIMEOUT. net/http closes idle
// keep-alive connections at once, so a request written on one just then
// was never read. Per request:
//   - answered: 200 and the right body;
//   - clean close: the connection ended (end of stream, reset, refused)
//     before any byte of the response; acceptable only if the server never
//     handled it: its access log (one line per request handled, with the
//     client's address) must have no line for it;
//   - lost: anything else (partial response, wrong status, timeout, or a
//     request the access log shows handled but whose response never came);
//     must be 0.
func testHTTPSIGTERMUnderLoad(t *testing.T, hello *e2e.Service) {
	const workers = 32
	ctr := hello.Container()
	load := &httpLoad{tcpLoad{addr: e2e.ContainerAddr(t, hello.Container(), httpPort)}}
	loadStart := time.Now()
	var ws []worker
	for w := range workers {
		ws = append(ws, load.worker(t.Context(), w))
	}
	// The workers end by themselves once their connections are closed and
	// new ones refused; the drain is the bound.
	sigAt := loadUntilSIGTERM(t, hello, loadPlan{warmup: 1500 * time.Millisecond, drain: 15 * time.Second}, ws...)

	// Requests the server handled, by client address, and those answered.
	handled := map[string]int{}
	for _, l := range e2e.JSONLogs(t, ctr, loadStart) {
		if l.Msg == "request" {
			handled[l.Remote]++
		}
	}
	answeredOn := map[string]int{}
	for _, r := range load.log.requests {
		if r.outcome == reqAnswered {
			answeredOn[r.local]++
		}
	}
	before, after, failures := load.log.tally(sigAt, func(r request) error {
		if handled[r.local] > answeredOn[r.local] {
			return fmt.Errorf("the server handled %d requests on %s and the client got %d answers",
				handled[r.local], r.local, answeredOn[r.local])
		}
		return nil
	})
	for local, n := range handled {
		if n != answeredOn[local] {
			failures = append(failures, fmt.Sprintf("%s: the server handled %d requests, the client got %d answers", local, n, answeredOn[local]))
		}
	}
	reportSIGTERM(t, "http-hello", before, after, load.refused.Load(), failures)
}

// httpLoad is the load of testHTTPSIGTERMUnderLoad.
type httpLoad struct{ tcpLoad }

// worker sends requests one after the other on a keep-alive connection,
// dialling a new one when the server closes it, until stop, a lost request
// or a refused dial. Worker w's every fifth request is GET /delay/200ms.
func (l *httpLoad) worker(ctx context.Context, w int) worker {
	return func(stop <-chan struct{}) {
		var hc *httpConn
		defer func() {
			if hc != nil {
				_ = hc.c.Close()
			}
		}()
		for i := 0; !stopped(stop); i++ {
			if hc == nil {
				c, ok := l.dial(ctx)
				if !ok {
					return
				}
				hc = newHTTPConn(c)
			}
			path := "/"
			if (w+i)%5 == 0 {
				path = "/delay/200ms"
			}
			r, keep := hc.do(path)
			l.log.add(r)
			if r.outcome == reqLost {
				return
			}
			if !keep {
				_ = hc.c.Close()
				hc = nil
			}
		}
	}
}

// httpConn is one keep-alive connection of the load, read through a
// counter so that a close before the response can be told from a partial
// one.
type httpConn struct {
	c     net.Conn
	cr    *countingReader
	br    *bufio.Reader
	local string
}

// newHTTPConn reads c, a new connection of the load, through a counter.
func newHTTPConn(c net.Conn) *httpConn {
	cr := &countingReader{r: c}
	return &httpConn{c: c, cr: cr, br: bufio.NewReader(cr), local: c.LocalAddr().String()}
}

// do writes GET path and reads the response. It returns what became of the
// request, and whether the connection may carry the next one.
func (hc *httpConn) do(path string) (request, bool) {
	r := request{local: hc.local, path: path}
	_ = hc.c.SetDeadline(time.Now().Add(e2e.IOTimeout))
	readBefore := hc.cr.n + int64(hc.br.Buffered())
	_, err := fmt.Fprintf(hc.c, "GET %s HTTP/1.1\r\nHost: http-hello\r\nUser-Agent: netlab-e2e-sigterm\r\n\r\n", path)
	r.wroteAt = time.Now()
	var resp *http.Response
	var body []byte
	if err == nil {
		if resp, err = http.ReadResponse(hc.br, nil); err == nil {
			body, err = io.ReadAll(resp.Body)
			_ = resp.Body.Close()
		}
	}
	switch {
	case err == nil && resp.StatusCode == http.StatusOK &&
		(path == "/" && string(body) == greeting || path != "/" && bytes.Contains(body, []byte(`"delayed"`))):
		r.outcome = reqAnswered
		return r, !resp.Close
	case err == nil:
		r.outcome, r.err = reqLost, fmt.Errorf("%s: %d %q", path, resp.StatusCode, e2e.Abbrev(body))
	case hc.cr.n == readBefore && e2e.IsClosedByPeer(err):
		r.outcome, r.err = reqCleanClose, err
	default:
		r.outcome, r.err = reqLost, fmt.Errorf("%s after %d response bytes: %w", path, hc.cr.n-readBefore, err)
	}
	return r, false
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
