package tests_test

// tcp-echo's faults on the real compose stack: a crash, a bandwidth cap,
// SIGTERM under load. Traffic goes from the test process straight to the
// container's address on the compose network, not through a published
// port: Docker's userland proxy would accept a connection the server never
// saw, and the server's logs name the test's own sockets, so every request
// can be matched with what the server did.

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/tests/e2e"
)

// TestTCPEcho_Faults runs tcp-echo's faults on a stack of its own: a crash,
// a bandwidth cap, then SIGTERM under load (which stops it). Its subtests
// run in order.
func TestTCPEcho_Faults(t *testing.T) {
	echo := e2e.NewService(t, e2e.TCPEcho)

	runCrashRecovers(t, echo, func(t *testing.T) {
		e2e.ExpectEcho(t, e2e.Dial(t, e2e.ContainerAddr(t, echo.Container(), tcpEchoPort)), []byte("after the crash"))
	})

	t.Run("bulk echo under a tbf cap stays within the cap and intact", func(t *testing.T) {
		e2e.RequireNetTools(t)
		testTCPEchoUnderTBF(t, echo)
	})

	t.Run("SIGTERM under load loses no request", func(t *testing.T) {
		testTCPEchoSIGTERMUnderLoad(t, echo)
	})
}

// testTCPEchoUnderTBF caps the container's egress (the echoes) with a token
// bucket and streams a payload through it: the echo must come back byte for
// byte at no more than the cap.
func testTCPEchoUnderTBF(t *testing.T, echo *e2e.Service) {
	const (
		rateBits  = 16_000_000 // 16 Mbit/s: 2 MB/s
		payload   = 4 << 20    // about two seconds at the cap
		tolerance = 1.10       // plus the bucket (4 KiB) and timing
	)
	ctr := echo.Container()
	e2e.InNetns(t, ctr, "tc", "qdisc", "add", "dev", "eth0", "root", "tbf",
		"rate", "16mbit", "burst", "32kbit", "latency", "50ms")
	// The stack's later subtests run unshaped.
	e2e.UndoInNetns(t, ctr, "tc", "qdisc", "del", "dev", "eth0", "root")
	t.Logf("qdisc: %s", strings.TrimSpace(e2e.InNetns(t, ctr, "tc", "qdisc", "show", "dev", "eth0")))

	data := make([]byte, payload)
	_, _ = rand.Read(data)
	conn := e2e.Dial(t, e2e.ContainerAddr(t, echo.Container(), tcpEchoPort))
	start := time.Now()
	got, err := e2e.RoundTrip(conn, data, time.Now().Add(time.Minute))
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("echo of %d bytes under the cap: %v", payload, err)
	}
	if i := e2e.FirstDiff(got, data); i >= 0 {
		t.Fatalf("echo under the cap differs at byte %d of %d", i, payload)
	}
	rate := float64(payload) * 8 / elapsed.Seconds()
	t.Logf("FIGURE tbf tcp-echo cap_bits=%d bytes=%d seconds=%.3f rate_bits=%.0f ratio=%.3f", rateBits, payload, elapsed.Seconds(), rate, rate/rateBits)
	if rate > rateBits*tolerance {
		t.Fatalf("echo ran at %.0f bit/s, over the %d bit/s cap (+%.0f%%): the cap is not applied", rate, rateBits, (tolerance-1)*100)
	}
	// Shaped, not stalled: TCP keeps the link mostly busy.
	if rate < rateBits/2 {
		t.Errorf("echo ran at %.0f bit/s, under half the %d bit/s cap", rate, rateBits)
	}
}

// testTCPEchoSIGTERMUnderLoad: 48 connections run closed-loop requests while
// 4 more goroutines open a fresh connection per request; then SIGTERM.
//
// What tcp-echo promises (README, Graceful shutdown): on SIGTERM the
// listener closes, open connections keep being echoed until their clients
// close them (or SHUTDOWN_TIMEOUT), and the close is clean. So:
//   - every request written on an accepted connection, before or after the
//     signal, comes back whole and correct;
//   - a request on a connection the server never accepted (still in the
//     kernel's accept queue when the listener closed, or refused) sees a
//     clean end without a reply byte, and the server's log must have no
//     record of that connection;
//   - anything else (partial or garbled echo, timeout, reset of an accepted
//     connection) is lost, and lost must be 0.
//
// The server logs every connection it served with its remote address and
// bytes in and out; each must match what the client sent and received.
func testTCPEchoSIGTERMUnderLoad(t *testing.T, echo *e2e.Service) {
	const persistent, churners = 48, 4
	ctr := echo.Container()
	load := &echoLoad{tcpLoad: tcpLoad{addr: e2e.ContainerAddr(t, echo.Container(), tcpEchoPort)}}

	loadStart := time.Now()
	var workers []worker
	// Persistent connections, all accepted and echoing before the clock
	// starts.
	for range persistent {
		c, err := e2e.DialContext(t.Context(), load.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		e2e.ExpectEcho(t, c, []byte("ready"))
		workers = append(workers, load.persistent(c))
	}
	for range churners {
		workers = append(workers, load.churner(t.Context()))
	}
	// The load goes on during the drain.
	sigAt := loadUntilSIGTERM(t, echo, loadPlan{warmup: 1500 * time.Millisecond, drain: time.Second}, workers...)

	// What the server says it did, by remote address.
	served := map[string]e2e.LogLine{}
	for _, l := range e2e.JSONLogs(t, ctr, loadStart) {
		if l.Msg == "connection closed" {
			served[l.Remote] = l
		}
	}
	before, after, failures := load.log.tally(sigAt, func(r request) error {
		if l, ok := served[r.local]; ok {
			// The server accepted it and still dropped it.
			return fmt.Errorf("the server served %s (bytes in %d, out %d, %s)", r.local, l.BytesIn, l.BytesOut, l.Reason)
		}
		return nil
	})
	failures = append(failures, load.checkBytes(served)...)
	reportSIGTERM(t, "tcp-echo", before, after, load.refused.Load(), failures)
	if after.answered == 0 {
		t.Error("no request was answered after the signal: open connections must be served during the drain")
	}
}

// An echo request of the load: one message written whole, and its echo
// read back whole.
const echoRequestSize = 256

// echoLoad is the load of testTCPEchoSIGTERMUnderLoad.
type echoLoad struct {
	tcpLoad

	mu    sync.Mutex
	conns []echoConnStats
}

// echoConnStats is what the client saw on one connection.
type echoConnStats struct {
	local    string
	sent     int64 // bytes written
	received int64 // bytes of echo read back
}

func (l *echoLoad) addConn(st echoConnStats) {
	l.mu.Lock()
	l.conns = append(l.conns, st)
	l.mu.Unlock()
}

// persistent runs closed-loop requests on c, which has echoed "ready",
// until stop; then the client ends the conversation, and the server must
// answer with a clean end of stream and nothing more.
func (l *echoLoad) persistent(c net.Conn) worker {
	return func(stop <-chan struct{}) {
		st := echoConnStats{local: c.LocalAddr().String(), sent: 5, received: 5}
		defer func() { l.addConn(st) }() // with the final counts
		msg := make([]byte, echoRequestSize)
		for !stopped(stop) {
			_, _ = rand.Read(msg)
			r := request{local: st.local}
			got, wroteAt, err := echoOnce(c, msg)
			r.wroteAt = wroteAt
			st.sent += int64(len(msg))
			st.received += int64(len(got))
			r.outcome, r.err = classifyEcho(msg, got, err)
			l.log.add(r)
			if r.outcome != reqAnswered {
				return
			}
		}
		_ = c.(*net.TCPConn).CloseWrite()
		_ = c.SetReadDeadline(time.Now().Add(e2e.IOTimeout))
		extra, err := io.ReadAll(c)
		if err != nil || len(extra) > 0 {
			l.log.add(request{local: st.local, wroteAt: time.Now(), outcome: reqLost,
				err: fmt.Errorf("after the client's close: %d extra bytes, %v", len(extra), err)})
		}
	}
}

// churner opens one connection per request until stop, or until the
// listener refuses.
func (l *echoLoad) churner(ctx context.Context) worker {
	return func(stop <-chan struct{}) {
		msg := make([]byte, echoRequestSize)
		for !stopped(stop) {
			c, ok := l.dial(ctx)
			if !ok {
				return
			}
			_, _ = rand.Read(msg)
			got, wroteAt, err := echoOnce(c, msg)
			r := request{local: c.LocalAddr().String(), wroteAt: wroteAt}
			r.outcome, r.err = classifyEcho(msg, got, err)
			_ = c.Close()
			l.log.add(r)
			l.addConn(echoConnStats{local: r.local, sent: int64(len(msg)), received: int64(len(got))})
			if r.outcome != reqAnswered {
				return
			}
		}
	}
}

// checkBytes checks that every connection the client saw answered was
// served by the server, and that its bytes agree on both sides.
func (l *echoLoad) checkBytes(served map[string]e2e.LogLine) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var failures []string
	for _, st := range l.conns {
		if st.received == 0 {
			continue
		}
		sl, ok := served[st.local]
		switch {
		case !ok:
			failures = append(failures, fmt.Sprintf("%s: echoed %d bytes but the server did not log it", st.local, st.received))
		case sl.BytesIn != st.sent || sl.BytesOut != st.received:
			failures = append(failures, fmt.Sprintf("%s: client sent %d and got %d back, server read %d and wrote %d (%s)",
				st.local, st.sent, st.received, sl.BytesIn, sl.BytesOut, sl.Reason))
		}
	}
	return failures
}

// echoOnce writes msg in one write and reads len(msg) bytes back. It
// returns what was read and when the write completed.
func echoOnce(c net.Conn, msg []byte) ([]byte, time.Time, error) {
	_ = c.SetDeadline(time.Now().Add(e2e.IOTimeout))
	if _, err := c.Write(msg); err != nil {
		return nil, time.Now(), fmt.Errorf("write: %w", err)
	}
	wroteAt := time.Now()
	got := make([]byte, len(msg))
	n, err := io.ReadFull(c, got)
	return got[:n], wroteAt, err
}

// classifyEcho decides what became of one request.
func classifyEcho(msg, got []byte, err error) (reqOutcome, error) {
	switch {
	case err == nil && bytes.Equal(got, msg):
		return reqAnswered, nil
	case err == nil:
		return reqLost, fmt.Errorf("garbled echo: differs at byte %d", e2e.FirstDiff(got, msg))
	case len(got) == 0 && e2e.IsClosedByPeer(err):
		return reqCleanClose, err
	case len(got) > 0:
		return reqLost, fmt.Errorf("partial echo: %d of %d bytes, then %w", len(got), len(msg), err)
	default:
		return reqLost, err
	}
}
