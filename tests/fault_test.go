package tests_test

// The fault matrix: every service under a crash, SIGTERM under load,
// bandwidth caps and random loss, on the real compose stack. Each service
// gets one stack of its own; its subtests run in order and the SIGTERM
// subtest, which stops the service, comes last.
//
// Traffic goes from the test process straight to the container's address
// on the compose network, not through a published port: Docker's userland
// proxy would accept a connection the server never saw, and the server's
// logs name the test's own sockets, so every request can be matched with
// what the server did.
//
// Lines starting with "FIGURE" are the measured results, one per line with
// key=value fields, collected for docs/reliability.md.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// containerIP is the container's address on its network, reachable from the
// host through the bridge.
func containerIP(t *testing.T, ctr *testcontainers.DockerContainer) string {
	t.Helper()
	ip, err := ctr.ContainerIP(t.Context())
	if err != nil || ip == "" {
		t.Fatalf("container IP: %q, %v", ip, err)
	}
	return ip
}

// sendSIGTERM sends SIGTERM to the container's main process and returns the
// time just before it was sent. Docker treats a signal sent with `docker
// kill` as a stop: the restart policy does not bring the container back.
func sendSIGTERM(t *testing.T, ctr *testcontainers.DockerContainer) time.Time {
	t.Helper()
	at := time.Now()
	if _, err := requireDocker(t).ContainerKill(t.Context(), ctr.GetContainerID(), client.ContainerKillOptions{Signal: "SIGTERM"}); err != nil {
		t.Fatalf("send SIGTERM: %v", err)
	}
	return at
}

// requireExitedZero waits until the container has exited and fails t unless
// its exit code is 0.
func requireExitedZero(t *testing.T, ctr *testcontainers.DockerContainer, within time.Duration) {
	t.Helper()
	state, err := waitExited(t.Context(), ctr, within)
	if err != nil {
		t.Fatalf("did not exit: %v", err)
	}
	if state.ExitCode != 0 {
		stdout, stderr := containerLogs(t, ctr.GetContainerID())
		t.Fatalf("exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", state.ExitCode, tail(stdout, 20), tail(stderr, 20))
	}
}

// logLine is one JSON log line of a service, with the fields the fault
// tests read.
type logLine struct {
	Msg      string `json:"msg"`
	Remote   string `json:"remote"`
	Reason   string `json:"reason"`
	BytesIn  int64  `json:"bytes_in"`
	BytesOut int64  `json:"bytes_out"`
	Path     string `json:"path"`
	Status   int    `json:"status"`
	TS       string `json:"ts"`
}

// jsonLogs parses a container's JSON log lines (zap writes them on stderr)
// logged at or after since; the logs of a container hold every run since it
// was created.
func jsonLogs(t *testing.T, ctr *testcontainers.DockerContainer, since time.Time) []logLine {
	t.Helper()
	_, stderr := containerLogs(t, ctr.GetContainerID())
	var lines []logLine
	sc := bufio.NewScanner(strings.NewReader(stderr))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var l logLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			continue
		}
		// zap's ISO 8601 encoder: milliseconds, numeric zone.
		ts, err := time.Parse("2006-01-02T15:04:05.000Z0700", l.TS)
		if err != nil {
			t.Fatalf("log line time %q: %v", l.TS, err)
		}
		if !ts.Before(since.Truncate(time.Millisecond)) {
			lines = append(lines, l)
		}
	}
	return lines
}

// crashAndRecover kills the container's main process with SIGKILL from the
// host, as the kernel's OOM killer or a crash would (a `docker kill` counts
// as a stop and is never restarted), then waits until the restart policy has
// started it again and its healthcheck passes. It returns the time from the
// kill to healthy.
func crashAndRecover(t *testing.T, ctr *testcontainers.DockerContainer) time.Duration {
	t.Helper()
	info := inspect(t, ctr)
	if !info.State.Running || info.State.Pid == 0 {
		t.Fatalf("container is %q, want running", info.State.Status)
	}
	restarts := info.RestartCount
	killed := time.Now()
	if err := syscall.Kill(info.State.Pid, syscall.SIGKILL); err != nil {
		if errors.Is(err, syscall.EPERM) {
			t.Skipf("cannot signal the container's process from here (%v): run the e2e tests as root", err)
		}
		t.Fatalf("kill -9 %d: %v", info.State.Pid, err)
	}
	var last *container.InspectResponse
	err := poll(t.Context(), 90*time.Second, 100*time.Millisecond, func() error {
		i, err := ctr.Inspect(t.Context())
		if err != nil {
			return err
		}
		last = i
		switch {
		case i.RestartCount <= restarts:
			return fmt.Errorf("not restarted yet (status %q, restart count %d)", i.State.Status, i.RestartCount)
		case !i.State.Running:
			return fmt.Errorf("status %q", i.State.Status)
		case i.State.Health == nil || i.State.Health.Status != container.Healthy:
			return fmt.Errorf("restarted, health %+v", i.State.Health)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("after kill -9: %v", err)
	}
	took := time.Since(killed)
	t.Logf("restarted (restart count %d) and healthy %s after kill -9", last.RestartCount, took.Round(10*time.Millisecond))
	return took
}

// requireNetTools skips t unless this process can run tc and iptables in
// another network namespace (root, and the tools installed).
func requireNetTools(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network faults need root: nsenter into the container's network namespace")
	}
	for _, tool := range []string{"nsenter", "tc", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("network faults need %s on the host: %v", tool, err)
		}
	}
}

// inNetns runs a command of the host (tc, iptables) inside the container's
// network namespace and returns its output. A command the kernel refuses
// (no such qdisc, no permission) skips the test: the machine cannot inject
// that fault.
func inNetns(t *testing.T, ctr *testcontainers.DockerContainer, args ...string) string {
	t.Helper()
	out, err := netnsRun(t.Context(), inspect(t, ctr).State.Pid, args...)
	if err != nil {
		t.Skipf("cannot inject the fault here: nsenter %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func netnsRun(ctx context.Context, pid int, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"-t", fmt.Sprint(pid), "-n"}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// ---- tcp-echo ----

// TestTCPEcho_Faults runs tcp-echo's faults on a stack of its own: a crash,
// a bandwidth cap, then SIGTERM under load (which stops it).
func TestTCPEcho_Faults(t *testing.T) {
	s := newStack(t, stackConfig{services: []string{tcpEchoService}})

	t.Run("crash is restarted and serves again", func(t *testing.T) {
		took := crashAndRecover(t, s.tcpEcho)
		// The host port may change with the new start; the container's
		// address does not.
		expectEcho(t, dial(t, net.JoinHostPort(containerIP(t, s.tcpEcho), "65432")), []byte("after the crash"))
		t.Logf("FIGURE restart tcp-echo healthy_after=%s", took.Round(10*time.Millisecond))
	})

	t.Run("bulk echo under a tbf cap stays within the cap and intact", func(t *testing.T) {
		requireNetTools(t)
		testTCPEchoUnderTBF(t, s)
	})

	t.Run("SIGTERM under load loses no request", func(t *testing.T) {
		testTCPEchoSIGTERMUnderLoad(t, s)
	})
}

// testTCPEchoUnderTBF caps the container's egress (the echoes) with a token
// bucket and streams a payload through it: the echo must come back byte for
// byte at no more than the cap.
func testTCPEchoUnderTBF(t *testing.T, s *stack) {
	const (
		rateBits  = 16_000_000 // 16 Mbit/s: 2 MB/s
		payload   = 4 << 20    // about two seconds at the cap
		tolerance = 1.10       // plus the bucket (4 KiB) and timing
	)
	inNetns(t, s.tcpEcho, "tc", "qdisc", "add", "dev", "eth0", "root", "tbf",
		"rate", "16mbit", "burst", "32kbit", "latency", "50ms")
	t.Cleanup(func() {
		// The stack's later subtests run unshaped; the container may be
		// gone already (then so is the qdisc).
		if info, err := s.tcpEcho.Inspect(context.Background()); err == nil && info.State.Pid != 0 {
			_, _ = netnsRun(context.Background(), info.State.Pid, "tc", "qdisc", "del", "dev", "eth0", "root")
		}
	})
	t.Logf("qdisc: %s", strings.TrimSpace(inNetns(t, s.tcpEcho, "tc", "qdisc", "show", "dev", "eth0")))

	data := make([]byte, payload)
	_, _ = rand.Read(data)
	conn := dial(t, net.JoinHostPort(containerIP(t, s.tcpEcho), "65432"))
	start := time.Now()
	got, err := roundTrip(conn, data, time.Now().Add(time.Minute))
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("echo of %d bytes under the cap: %v", payload, err)
	}
	if i := firstDiff(got, data); i >= 0 {
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

// An echo request of the load below: one message written whole, and its
// echo read back whole.
const echoRequestSize = 256

// reqOutcome is what became of one request (tcp-echo and http-hello).
type reqOutcome int

const (
	// answered: the full echo came back, byte for byte.
	reqAnswered reqOutcome = iota
	// cleanClose: the connection ended (end of stream, reset or refused)
	// before any byte of the reply. Acceptable only if the server never
	// accepted the connection; the server's log decides that.
	reqCleanClose
	// lost: a partial or wrong reply, a timeout, or any other failure.
	reqLost
)

// echoRequest records one request of the load.
type echoRequest struct {
	local   string // the client's address, as the server logs it
	wroteAt time.Time
	outcome reqOutcome
	err     error
}

// echoConnStats is what the client saw on one connection.
type echoConnStats struct {
	local    string
	sent     int64 // bytes written
	received int64 // bytes of echo read back
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
func testTCPEchoSIGTERMUnderLoad(t *testing.T, s *stack) {
	const (
		persistent = 48
		churners   = 4
		warmup     = 1500 * time.Millisecond
		afterSig   = time.Second // load goes on during the drain
	)
	addr := net.JoinHostPort(containerIP(t, s.tcpEcho), "65432")
	ctx := t.Context()

	var (
		mu        sync.Mutex
		requests  []echoRequest
		connStats []echoConnStats
		refused   atomic.Int64 // dials refused after the signal: nothing sent
		stop      = make(chan struct{})
		wg        sync.WaitGroup
	)
	record := func(r echoRequest) {
		mu.Lock()
		requests = append(requests, r)
		mu.Unlock()
	}
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}

	loadStart := time.Now()
	// Persistent connections, all accepted and echoing before the clock
	// starts.
	conns := make([]net.Conn, persistent)
	for i := range conns {
		c, err := netDial(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		expectEcho(t, c, []byte("ready"))
		conns[i] = c
	}
	for _, c := range conns {
		wg.Go(func() {
			st := echoConnStats{local: c.LocalAddr().String(), sent: 5, received: 5}
			defer func() {
				mu.Lock()
				connStats = append(connStats, st)
				mu.Unlock()
			}()
			msg := make([]byte, echoRequestSize)
			for !stopped() {
				_, _ = rand.Read(msg)
				r := echoRequest{local: st.local}
				got, wroteAt, err := echoOnce(c, msg)
				r.wroteAt = wroteAt
				st.sent += int64(len(msg))
				st.received += int64(len(got))
				r.outcome, r.err = classifyEcho(msg, got, err)
				record(r)
				if r.outcome != reqAnswered {
					return
				}
			}
			// The client ends the conversation; the server must answer
			// with a clean end of stream and nothing more.
			_ = c.(*net.TCPConn).CloseWrite()
			_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
			extra, err := io.ReadAll(c)
			if err != nil || len(extra) > 0 {
				record(echoRequest{local: st.local, wroteAt: time.Now(), outcome: reqLost,
					err: fmt.Errorf("after the client's close: %d extra bytes, %v", len(extra), err)})
			}
		})
	}
	// One connection per request.
	for range churners {
		wg.Go(func() {
			msg := make([]byte, echoRequestSize)
			for !stopped() {
				d := net.Dialer{Timeout: 2 * time.Second}
				c, err := d.DialContext(ctx, "tcp", addr)
				if err != nil {
					if errors.Is(err, syscall.ECONNREFUSED) {
						// The listener is closed: nothing was sent.
						refused.Add(1)
						return
					}
					record(echoRequest{wroteAt: time.Now(), outcome: reqLost, err: err})
					return
				}
				_, _ = rand.Read(msg)
				got, wroteAt, err := echoOnce(c, msg)
				r := echoRequest{local: c.LocalAddr().String(), wroteAt: wroteAt}
				r.outcome, r.err = classifyEcho(msg, got, err)
				_ = c.Close()
				record(r)
				mu.Lock()
				connStats = append(connStats, echoConnStats{local: r.local, sent: int64(len(msg)), received: int64(len(got))})
				mu.Unlock()
				if r.outcome != reqAnswered {
					return
				}
			}
		})
	}

	time.Sleep(warmup) // load, not readiness: the stack is healthy already
	sigAt := sendSIGTERM(t, s.tcpEcho)
	time.Sleep(afterSig)
	close(stop)
	wg.Wait()
	requireExitedZero(t, s.tcpEcho, 30*time.Second)

	// What the server says it did, by remote address.
	served := map[string]logLine{}
	for _, l := range jsonLogs(t, s.tcpEcho, loadStart) {
		if l.Msg == "connection closed" {
			served[l.Remote] = l
		}
	}

	var before, after tally
	var failures []string
	for _, r := range requests {
		if r.outcome == reqCleanClose {
			if l, ok := served[r.local]; ok {
				// The server accepted it and still dropped it.
				r.outcome = reqLost
				r.err = fmt.Errorf("%w, but the server served %s (bytes in %d, out %d, %s)", r.err, r.local, l.BytesIn, l.BytesOut, l.Reason)
			}
		}
		when := "after"
		if r.wroteAt.Before(sigAt) {
			before.add(r.outcome)
			when = "before"
		} else {
			after.add(r.outcome)
		}
		if r.outcome == reqLost && len(failures) < 10 {
			failures = append(failures, fmt.Sprintf("%s (written %s the signal): %v", r.local, when, r.err))
		}
	}
	// Every connection the client saw answered was served by the server,
	// and its bytes agree on both sides.
	for _, st := range connStats {
		if st.received == 0 {
			continue
		}
		l, ok := served[st.local]
		switch {
		case !ok:
			failures = append(failures, fmt.Sprintf("%s: echoed %d bytes but the server did not log it", st.local, st.received))
		case l.BytesIn != st.sent || l.BytesOut != st.received:
			failures = append(failures, fmt.Sprintf("%s: client sent %d and got %d back, server read %d and wrote %d (%s)",
				st.local, st.sent, st.received, l.BytesIn, l.BytesOut, l.Reason))
		}
	}
	t.Logf("FIGURE sigterm tcp-echo %s refused_dials=%d", figure(before, after), refused.Load())
	if len(failures) > 0 {
		t.Errorf("lost or miscounted:\n%s", strings.Join(failures, "\n"))
	}
	before.check(t, after)
	if after.answered == 0 {
		t.Error("no request was answered after the signal: open connections must be served during the drain")
	}
}

// tally counts requests by outcome, for those written before the signal
// and those written after it.
type tally struct {
	sent, answered, cleanClose, lost int
}

func (t *tally) add(o reqOutcome) {
	t.sent++
	switch o {
	case reqAnswered:
		t.answered++
	case reqCleanClose:
		t.cleanClose++
	case reqLost:
		t.lost++
	}
}

// figure formats the counts as the FIGURE line's fields.
func figure(before, after tally) string {
	return fmt.Sprintf("sent=%d answered=%d clean_close=%d lost=%d sent_after=%d answered_after=%d clean_close_after=%d lost_after=%d",
		before.sent, before.answered, before.cleanClose, before.lost, after.sent, after.answered, after.cleanClose, after.lost)
}

// check fails t unless no request was lost and every request written
// before the signal was answered or cleanly closed.
func (t *tally) check(tb testing.TB, after tally) {
	tb.Helper()
	if t.sent == 0 {
		tb.Error("no request was written before the signal")
	}
	if t.lost+after.lost > 0 || t.answered+t.cleanClose != t.sent {
		tb.Errorf("written before the signal: %d, answered %d, clean closes %d, lost %d; after it: %d lost",
			t.sent, t.answered, t.cleanClose, t.lost, after.lost)
	}
}

// echoOnce writes msg in one write and reads len(msg) bytes back. It
// returns what was read and when the write completed.
func echoOnce(c net.Conn, msg []byte) ([]byte, time.Time, error) {
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
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
		return reqLost, fmt.Errorf("garbled echo: differs at byte %d", firstDiff(got, msg))
	case len(got) == 0 && isClosedByPeer(err):
		return reqCleanClose, err
	case len(got) > 0:
		return reqLost, fmt.Errorf("partial echo: %d of %d bytes, then %w", len(got), len(msg), err)
	default:
		return reqLost, err
	}
}

// ---- udp-responder ----

// TestUDPResponder_Faults runs udp-responder's faults on a stack of its
// own: a crash, random loss injected with iptables, then SIGTERM under load
// (which stops it).
func TestUDPResponder_Faults(t *testing.T) {
	s := newStack(t, stackConfig{services: []string{udpResponderService}})

	t.Run("crash is restarted and serves again", func(t *testing.T) {
		// restart: on-failure: a crash (exit 137) is a failure.
		took := crashAndRecover(t, s.udpResponder)
		expectGreeting(t, s)
		t.Logf("FIGURE restart udp-responder healthy_after=%s", took.Round(10*time.Millisecond))
	})

	t.Run("client reports the loss injected with iptables statistic", func(t *testing.T) {
		requireNetTools(t)
		testUDPLossMeasured(t, s)
	})

	t.Run("SIGTERM under load leaves no received datagram unanswered", func(t *testing.T) {
		testUDPSIGTERMUnderLoad(t, s)
	})
}

// testUDPLossMeasured drops each request on its way into the responder
// with probability p (iptables statistic, in the container's network
// namespace; replies pass) and checks that udp-client's reported loss is
// the rule's drop count exactly, and within 4 binomial standard deviations
// of p*N.
func testUDPLossMeasured(t *testing.T, s *stack) {
	const (
		count = 2000
		p     = 0.2
	)
	// Only datagrams arriving on eth0: the healthcheck's probe comes over
	// loopback and must not fail because of the test.
	rule := []string{"INPUT", "-i", "eth0", "-p", "udp", "--dport", "12345",
		"-m", "statistic", "--mode", "random", "--probability", fmt.Sprint(p), "-j", "DROP"}
	inNetns(t, s.udpResponder, append([]string{"iptables", "-A"}, rule...)...)
	t.Cleanup(func() {
		if info, err := s.udpResponder.Inspect(context.Background()); err == nil && info.State.Pid != 0 {
			_, _ = netnsRun(context.Background(), info.State.Pid, append([]string{"iptables", "-D"}, rule...)...)
		}
	})

	// 1000/s is half the per-source RATE_LIMIT: no drop is the limiter's.
	rep, res, err := probeRun(t, s, "--count", fmt.Sprint(count), "--rate", "1000", "--timeout", "2s")
	if err != nil {
		t.Fatal(err)
	}
	drops := ruleDrops(t, s.udpResponder)
	mean := p * count
	sigma := sqrt(count * p * (1 - p))
	t.Logf("FIGURE loss udp-responder injected=%.2f sent=%d received=%d lost=%d loss=%.4f rule_drops=%d expected=%.0f sigma=%.1f",
		p, rep.Sent, rep.Received, rep.Lost, float64(rep.Lost)/float64(rep.Sent), drops, mean, sigma)
	if rep.Sent != count || rep.Corrupted != 0 || rep.Duplicated != 0 {
		t.Fatalf("sent %d corrupted %d duplicated %d, want %d, 0, 0\n%s", rep.Sent, rep.Corrupted, rep.Duplicated, count, res)
	}
	// Every datagram the rule dropped is one the client counts lost, and
	// no other was lost.
	if rep.Lost != drops {
		t.Errorf("client lost %d probes, the iptables rule dropped %d: the client's loss count is wrong", rep.Lost, drops)
	}
	if d := float64(rep.Lost) - mean; d > 4*sigma || d < -4*sigma {
		t.Errorf("lost %d of %d, want %.0f ± %.0f (4 sigma of a binomial with p=%.2f)", rep.Lost, count, mean, 4*sigma, p)
	}
}

// ruleDrops returns the packet counter of the statistic rule in the
// container's INPUT chain.
func ruleDrops(t *testing.T, ctr *testcontainers.DockerContainer) int64 {
	t.Helper()
	out := inNetns(t, ctr, "iptables", "-nvxL", "INPUT")
	for line := range strings.Lines(out) {
		if strings.Contains(line, "statistic") && strings.Contains(line, "DROP") {
			var pkts int64
			if _, err := fmt.Sscan(line, &pkts); err != nil {
				t.Fatalf("iptables counter in %q: %v", line, err)
			}
			return pkts
		}
	}
	t.Fatalf("no statistic rule in the container's INPUT chain:\n%s", out)
	return 0
}

func sqrt(x float64) float64 {
	// Newton's method; enough digits for a tolerance.
	z := x / 2
	for range 30 {
		z -= (z*z - x) / (2 * z)
	}
	return z
}

// udpProbe encodes a probe as docs/udp-responder.md specifies it: magic
// "NLPB", version 1, flags 0, run id, sequence number, send time, CRC-32C
// with the flags byte and the checksum taken as zero; zero padding.
func udpProbe(size int, runID, seq uint64) []byte {
	b := make([]byte, size)
	copy(b, "NLPB")
	b[4] = 1
	binary.BigEndian.PutUint64(b[8:], runID)
	binary.BigEndian.PutUint64(b[16:], seq)
	binary.BigEndian.PutUint64(b[24:], uint64(time.Now().UnixNano()))
	binary.BigEndian.PutUint32(b[32:], crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	return b
}

// probeReply checks that b is the reply to one of this run's probes of the
// given size (reply flag set, checksum intact) and returns its sequence
// number.
func probeReply(b []byte, size int, runID uint64) (uint64, bool) {
	if len(b) != size || string(b[:4]) != "NLPB" || b[4] != 1 || b[5] != 1 ||
		binary.BigEndian.Uint64(b[8:]) != runID {
		return 0, false
	}
	c := bytes.Clone(b)
	c[5] = 0
	clear(c[32:36])
	if crc32.Checksum(c, crc32.MakeTable(crc32.Castagnoli)) != binary.BigEndian.Uint32(b[32:]) {
		return 0, false
	}
	return binary.BigEndian.Uint64(b[16:]), true
}

// testUDPSIGTERMUnderLoad sends numbered probes from the host at 1000/s,
// sends SIGTERM after 1.5 s and keeps sending until the server has exited.
//
// What udp-responder promises: a datagram it has read is answered, even
// when shutdown starts; what it has not read when its sockets close is
// gone (UDP has nothing to drain). From outside, with one client socket
// (one source address, so the kernel hands every probe to the same server
// socket, in order):
//   - answered: the reply came back, byte for byte the probe with the reply
//     flag set;
//   - unread: no reply, and no later probe was answered either: it arrived
//     after the server stopped reading;
//   - lost: no reply although a later probe was answered, so the server read
//     it and dropped the reply; must be 0.
//
// Every probe sent before the signal must be answered: the signal takes
// milliseconds to arrive, the server reads within microseconds.
func testUDPSIGTERMUnderLoad(t *testing.T, s *stack) {
	const (
		size   = 64
		rate   = 1000 // per second; half the per-source RATE_LIMIT
		warmup = 1500 * time.Millisecond
	)
	server := &net.UDPAddr{IP: net.ParseIP(containerIP(t, s.udpResponder)), Port: 12345}
	sock, err := net.ListenUDP("udp4", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	var runIDBytes [8]byte
	_, _ = rand.Read(runIDBytes[:])
	runID := binary.BigEndian.Uint64(runIDBytes[:])

	var (
		mu      sync.Mutex
		sentAt  []time.Time // by sequence number
		replies = map[uint64]int{}
		bad     []string
	)
	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		buf := make([]byte, 2048)
		for {
			n, err := sock.Read(buf)
			if err != nil {
				return // closed below, once the server is gone
			}
			b := buf[:n]
			mu.Lock()
			if seq, ok := probeReply(b, size, runID); ok {
				replies[seq]++
			} else {
				bad = append(bad, fmt.Sprintf("unexpected reply of %d bytes: %x", n, abbrev(b)))
			}
			mu.Unlock()
		}
	}()

	stop := make(chan struct{})
	sendDone := make(chan struct{})
	go func() {
		defer close(sendDone)
		tick := time.NewTicker(time.Second / rate)
		defer tick.Stop()
		for seq := uint64(0); ; seq++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := sock.WriteToUDP(udpProbe(size, runID, seq), server); err != nil {
				return
			}
			mu.Lock()
			sentAt = append(sentAt, time.Now())
			mu.Unlock()
		}
	}()

	time.Sleep(warmup) // load, not readiness: the stack is healthy already
	sigAt := sendSIGTERM(t, s.udpResponder)
	requireExitedZero(t, s.udpResponder, 30*time.Second)
	close(stop)
	<-sendDone
	// Replies sent before the exit are on the host by now; a moment for
	// the receiver to read them.
	_ = sock.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	<-recvDone

	mu.Lock()
	defer mu.Unlock()
	last := -1
	for seq := range sentAt {
		if replies[uint64(seq)] > 0 {
			last = seq
		}
	}
	var sent, answered, sentAfter, answeredAfter, unread, lost, dup int
	var lostSeqs []int
	for seq, at := range sentAt {
		before := at.Before(sigAt)
		n := replies[uint64(seq)]
		if before {
			sent++
		} else {
			sentAfter++
		}
		switch {
		case n > 0 && before:
			answered++
		case n > 0:
			answeredAfter++
		case seq < last:
			lost++
			lostSeqs = append(lostSeqs, seq)
		default:
			unread++
		}
		if n > 1 {
			dup++
		}
	}
	t.Logf("FIGURE sigterm udp-responder sent=%d answered=%d clean_close=0 lost=%d sent_after=%d answered_after=%d unread=%d",
		sent, answered, lost, sentAfter, answeredAfter, unread)
	if len(bad) > 0 {
		t.Errorf("%d bad replies, e.g. %s", len(bad), bad[0])
	}
	if dup > 0 {
		t.Errorf("%d probes answered more than once", dup)
	}
	if lost > 0 {
		t.Errorf("%d probes read by the server got no reply (later ones did): %v", lost, lostSeqs[:min(len(lostSeqs), 20)])
	}
	if sent == 0 || answered != sent {
		t.Errorf("probes sent before the signal: %d, answered: %d", sent, answered)
	}
}

// ---- http-hello ----

// TestHTTPHello_Faults runs http-hello's faults on a stack of its own: a
// crash, then SIGTERM under load (which stops it).
func TestHTTPHello_Faults(t *testing.T) {
	s := newStack(t, stackConfig{services: []string{httpHelloService}})

	t.Run("crash is restarted and serves again", func(t *testing.T) {
		took := crashAndRecover(t, s.httpHello)
		resp, err := httpDo(t.Context(), http.MethodGet, "http://"+net.JoinHostPort(containerIP(t, s.httpHello), "8000")+"/", 5*time.Second)
		if err != nil || resp.code != http.StatusOK || string(resp.body) != greeting {
			t.Fatalf("GET / after the crash = %d %q, %v", resp.code, resp.body, err)
		}
		t.Logf("FIGURE restart http-hello healthy_after=%s", took.Round(10*time.Millisecond))
	})

	t.Run("SIGTERM under load loses no request", func(t *testing.T) {
		testHTTPSIGTERMUnderLoad(t, s)
	})
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
func testHTTPSIGTERMUnderLoad(t *testing.T, s *stack) {
	const (
		workers = 32
		warmup  = 1500 * time.Millisecond
	)
	addr := net.JoinHostPort(containerIP(t, s.httpHello), "8000")
	ctx := t.Context()
	loadStart := time.Now()

	type request struct {
		local   string
		path    string
		wroteAt time.Time
		outcome reqOutcome
		err     error
	}
	var (
		mu       sync.Mutex
		requests []request
		refused  atomic.Int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			var (
				c     net.Conn
				cr    *countingReader
				br    *bufio.Reader
				local string
			)
			defer func() {
				if c != nil {
					_ = c.Close()
				}
			}()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if c == nil {
					d := net.Dialer{Timeout: 2 * time.Second}
					var err error
					if c, err = d.DialContext(ctx, "tcp", addr); err != nil {
						if errors.Is(err, syscall.ECONNREFUSED) {
							refused.Add(1) // the listener is closed: nothing sent
						} else {
							mu.Lock()
							requests = append(requests, request{wroteAt: time.Now(), outcome: reqLost, err: err})
							mu.Unlock()
						}
						c = nil
						return
					}
					cr = &countingReader{r: c}
					br = bufio.NewReader(cr)
					local = c.LocalAddr().String()
				}
				r := request{local: local, path: "/"}
				if (w+i)%5 == 0 {
					r.path = "/delay/200ms"
				}
				_ = c.SetDeadline(time.Now().Add(ioTimeout))
				readBefore := cr.n + int64(br.Buffered())
				_, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: http-hello\r\nUser-Agent: netlab-e2e-sigterm\r\n\r\n", r.path)
				r.wroteAt = time.Now()
				var resp *http.Response
				var body []byte
				if err == nil {
					if resp, err = http.ReadResponse(br, nil); err == nil {
						body, err = io.ReadAll(resp.Body)
						_ = resp.Body.Close()
					}
				}
				keep := false
				switch {
				case err == nil && resp.StatusCode == http.StatusOK &&
					(r.path == "/" && string(body) == greeting || r.path != "/" && bytes.Contains(body, []byte(`"delayed"`))):
					r.outcome = reqAnswered
					keep = !resp.Close
				case err == nil:
					r.outcome, r.err = reqLost, fmt.Errorf("%s: %d %q", r.path, resp.StatusCode, abbrev(body))
				case cr.n == readBefore && isClosedByPeer(err):
					r.outcome, r.err = reqCleanClose, err
				default:
					r.outcome, r.err = reqLost, fmt.Errorf("%s after %d response bytes: %w", r.path, cr.n-readBefore, err)
				}
				mu.Lock()
				requests = append(requests, r)
				mu.Unlock()
				if r.outcome == reqLost {
					return
				}
				if !keep {
					_ = c.Close()
					c = nil
				}
			}
		})
	}

	time.Sleep(warmup) // load, not readiness: the stack is healthy already
	sigAt := sendSIGTERM(t, s.httpHello)
	// The workers end by themselves once their connections are closed and
	// new ones refused; stop is the bound.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		close(stop)
		<-done
	}
	requireExitedZero(t, s.httpHello, 30*time.Second)

	// Requests the server handled, by client address.
	handled := map[string]int{}
	for _, l := range jsonLogs(t, s.httpHello, loadStart) {
		if l.Msg == "request" {
			handled[l.Remote]++
		}
	}
	answeredOn := map[string]int{}
	for _, r := range requests {
		if r.outcome == reqAnswered {
			answeredOn[r.local]++
		}
	}
	var before, after tally
	var failures []string
	for _, r := range requests {
		if r.outcome == reqCleanClose && handled[r.local] > answeredOn[r.local] {
			r.outcome = reqLost
			r.err = fmt.Errorf("%w, but the server handled %d requests on %s and the client got %d answers",
				r.err, handled[r.local], r.local, answeredOn[r.local])
		}
		if r.wroteAt.Before(sigAt) {
			before.add(r.outcome)
		} else {
			after.add(r.outcome)
		}
		if r.outcome == reqLost && len(failures) < 10 {
			failures = append(failures, fmt.Sprintf("%s %s: %v", r.local, r.path, r.err))
		}
	}
	for local, n := range handled {
		if n != answeredOn[local] {
			failures = append(failures, fmt.Sprintf("%s: the server handled %d requests, the client got %d answers", local, n, answeredOn[local]))
		}
	}
	t.Logf("FIGURE sigterm http-hello %s refused_dials=%d", figure(before, after), refused.Load())
	if len(failures) > 0 {
		t.Errorf("lost or miscounted requests:\n%s", strings.Join(failures, "\n"))
	}
	before.check(t, after)
}

// ---- peer ----

// metricOrZero is a counter's value, 0 while it has no sample yet (a
// labelled counter appears with its first event).
func (p *peerNode) metricOrZero(name string, labels ...string) float64 {
	p.t.Helper()
	code, body, err := httpGet(p.t.Context(), "http://"+p.admin+"/metrics")
	if err != nil || code != http.StatusOK {
		p.t.Fatalf("GET /metrics on %s = %d, %v", p.alias, code, err)
	}
	v, _, err := metricValue(body, name, labels...)
	if err != nil {
		p.t.Fatal(err)
	}
	return v
}

// TestPeer_Faults runs the peer's faults on the compose swarm (three nodes,
// uploads capped so a transfer lasts long enough to be interrupted): a node
// crashes and is restarted with its share, then a source gets SIGTERM in
// the middle of a download (which stops it).
func TestPeer_Faults(t *testing.T) {
	skipShort(t)
	nodes := composeSwarm(t, map[string]string{"PEER_UPLOAD_RATE": "6MiB"})
	src, other, dst := nodes[0], nodes[1], nodes[2]
	const name = "fault.bin"
	data, want := randomBytes(t, 48<<20)
	id := src.put(name, data)
	other.put(name, data)
	// The nodes' helpers fail the test they belong to: hand them to each
	// subtest in turn.
	parent := t
	use := func(t *testing.T) {
		for _, n := range nodes {
			n.t = t
		}
		t.Cleanup(func() {
			for _, n := range nodes {
				n.t = parent
			}
		})
	}

	t.Run("crash is restarted and serves its share again", func(t *testing.T) {
		use(t)
		took := crashAndRecover(t, other.ctr)
		other.remap() // a new start, a new host port
		// The share is a volume: the file is still there, served after the
		// node has scanned it again.
		err := poll(t.Context(), 30*time.Second, 200*time.Millisecond, func() error {
			got, err := other.fileSum(name)
			if err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("%s has SHA-256 %x after the restart, want %x", name, got[:8], want[:8])
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("FIGURE restart peer healthy_after=%s", took.Round(10*time.Millisecond))
	})

	t.Run("SIGTERM of a source mid-download: the download completes intact", func(t *testing.T) {
		use(t)
		// The in-flight unit is a piece request: the stopping node
		// finishes the piece it is sending and then says it is shutting
		// down; the downloader gets every other piece from the other
		// source. No piece may arrive damaged or be lost.
		dst.waitInSwarm(id, 2)
		dst.startDownload(id)
		dst.waitProgress(id, 0.25)
		srcAddr, otherAddr := src.peerAddr(), other.peerAddr() // gone once it exits
		sendSIGTERM(t, src.ctr)
		d := dst.waitComplete(id)
		dst.requireFile(name, want)
		requireExitedZero(t, src.ctr, 30*time.Second)

		failed := dst.metricOrZero("netlab_peer_pieces_failed_total")
		invalid := dst.metricOrZero("netlab_peer_frames_invalid_total")
		fromStopped, fromOther := d.Sources[srcAddr], d.Sources[otherAddr]
		t.Logf("FIGURE sigterm peer pieces=%d from_stopped=%d from_other=%d failed=%d verified=%d lost=0",
			d.Pieces, fromStopped.Pieces, fromOther.Pieces, int(failed), d.Verified)
		if fromStopped.Pieces == 0 || fromOther.Pieces == 0 {
			t.Errorf("want pieces from both sources, got %+v", d.Sources)
		}
		if fromStopped.Pieces+fromOther.Pieces != d.Pieces || d.Verified != d.Pieces {
			t.Errorf("%d pieces: %d from the stopped source + %d from the other, %d verified", d.Pieces, fromStopped.Pieces, fromOther.Pieces, d.Verified)
		}
		if failed != 0 || invalid != 0 || d.Failed != 0 {
			t.Errorf("pieces failed %v (download says %d), invalid frames %v: a stopping source must not send a damaged piece", failed, d.Failed, invalid)
		}
	})
}

// A source frozen with `docker pause` in the middle of a download: the
// downloader's reads time out (IO_TIMEOUT), it reports itself stalled, and
// once the source is unpaused the download resumes and completes intact.
// (TestPeer_PartitionHeals covers network disconnect and reconnect.)
func TestPeer_PausedSourceHeals(t *testing.T) {
	skipShort(t)
	nw := newPeerNetwork(t)
	a := startPeer(t, nw, "src", map[string]string{"UPLOAD_RATE": "8MiB"})
	data, want := randomBytes(t, 32<<20)
	id := a.put("pause.bin", data)
	c := startPeer(t, nw, "dst", map[string]string{"PEERS": "src"})
	c.waitInSwarm(id, 1)
	c.startDownload(id)
	c.waitProgress(id, 0.2)
	cli := requireDocker(t)
	if _, err := cli.ContainerPause(t.Context(), a.ctr.GetContainerID(), client.ContainerPauseOptions{}); err != nil {
		t.Fatalf("pause: %v", err)
	}
	t.Cleanup(func() {
		// A paused container cannot be removed.
		_, _ = cli.ContainerUnpause(context.Background(), a.ctr.GetContainerID(), client.ContainerUnpauseOptions{})
	})
	paused := time.Now()
	// The frozen source's kernel still holds the connection open: only
	// the downloader's read deadline (IO_TIMEOUT) can notice.
	held := c.waitStalled(id)
	stalledAfter := time.Since(paused)
	if _, err := cli.ContainerUnpause(t.Context(), a.ctr.GetContainerID(), client.ContainerUnpauseOptions{}); err != nil {
		t.Fatalf("unpause: %v", err)
	}
	d := c.waitComplete(id)
	c.requireFile("pause.bin", want)
	t.Logf("FIGURE pause peer stalled_after=%s bytes_when_stalled=%d size=%d failed=%d",
		stalledAfter.Round(100*time.Millisecond), held.Bytes, d.Size, d.Failed)
	if held.Bytes >= held.Size || d.Bytes != d.Size {
		t.Fatalf("progress: %d of %d bytes when stalled, %d at the end", held.Bytes, held.Size, d.Bytes)
	}
}
