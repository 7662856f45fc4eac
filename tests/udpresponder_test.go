package tests_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/netlab/netlab/tests/e2e"
	"github.com/testcontainers/testcontainers-go"
)

const (
	// udpServerAddr is where a client container on the stack's network
	// reaches udp-responder (the compose udp-client service's
	// UDP_SERVER_ADDR). UDP is checked from inside the network, never through
	// a host-mapped UDP port.
	udpServerAddr = "udp-responder:12345"
	// udpPort is udp-responder's port in its container.
	udpPort = 12345
	// udpClient is the client binary in the udp-responder image.
	udpClient = "/udp-client"
	// udpDropped counts datagrams that got no reply, by reason.
	udpDropped = "netlab_udp_responder_dropped_total"
	// udpGreetingLine is what the tutorial client prints.
	udpGreetingLine = "Received: Hello, client!"
	// maxDatagram is MAX_DATAGRAM in deploy/env/udp-responder.env.
	maxDatagram = 2048
)

// droppedFor is the label selector of one drop reason.
func droppedFor(reason string) string { return `reason="` + reason + `"` }

// udpClientOpts runs /udp-client from the udp-responder image on network
// with args, hardened like the compose udp-client service.
func udpClientOpts(networkName string, args ...string) []testcontainers.ContainerCustomizer {
	return e2e.ClientOpts(networkName, udpClient, map[string]string{"UDP_SERVER_ADDR": udpServerAddr}, args...)
}

// runUDPClient runs the client to completion on the stack's network.
func runUDPClient(t *testing.T, s *e2e.Stack, args ...string) e2e.OneShot {
	t.Helper()
	return e2e.RunOneShot(t, e2e.Image(e2e.UDPResponder), udpClientOpts(s.Network, args...)...)
}

// udpServer is udp-responder's address on the stack's network, reachable
// from the host through the bridge.
func udpServer(t *testing.T, udp *e2e.Service) *net.UDPAddr {
	return &net.UDPAddr{IP: net.ParseIP(e2e.ContainerIP(t, udp.Container())), Port: udpPort}
}

// probeReport is the client's --json summary of a probe run.
type probeReport struct {
	Sent        int64   `json:"sent"`
	Received    int64   `json:"received"`
	Lost        int64   `json:"lost"`
	LossPercent float64 `json:"loss_percent"`
	Reordered   int64   `json:"reordered"`
	Duplicated  int64   `json:"duplicated"`
	Corrupted   int64   `json:"corrupted"`
	SendErrors  int64   `json:"send_errors"`
	Duration    string  `json:"duration"`
	Latency     struct {
		AvgNs int64 `json:"avg_ns"`
		P99Ns int64 `json:"p99_ns"`
	} `json:"latency"`
	Jitter     string `json:"jitter"`
	Directions *struct {
		CountQueries int64 `json:"count_queries"`
	} `json:"directions"`
}

// countQueries is how many count queries the client sent at the end of
// the run (version 2 probes): they pass the same rules as the probes.
func (r probeReport) countQueries() int64 {
	if r.Directions == nil {
		return 0
	}
	return r.Directions.CountQueries
}

// probeReportFields are the fields a report must have: a renamed field must
// fail the test rather than read as a reassuring zero.
var probeReportFields = []string{"sent", "received", "lost", "loss_percent", "reordered", "duplicated", "corrupted", "send_errors"}

// parseProbeReport decodes the one JSON object the client prints with
// --json.
func parseProbeReport(stdout string) (probeReport, error) {
	var obj json.RawMessage
	if err := json.NewDecoder(strings.NewReader(stdout)).Decode(&obj); err != nil {
		return probeReport{}, fmt.Errorf("client --json output: %w", err)
	}
	var fields map[string]json.RawMessage
	var r probeReport
	if err := errors.Join(json.Unmarshal(obj, &fields), json.Unmarshal(obj, &r)); err != nil {
		return probeReport{}, fmt.Errorf("client --json output: %w", err)
	}
	var missing []string
	for _, f := range probeReportFields {
		if _, ok := fields[f]; !ok {
			missing = append(missing, f)
		}
	}
	if missing != nil {
		return probeReport{}, fmt.Errorf("client --json output has no %v", missing)
	}
	return r, nil
}

// probeRun runs the client's probe mode and returns its report. Exit code 0
// (no loss) and 1 (loss) both come with a report.
func probeRun(t *testing.T, s *e2e.Stack, args ...string) (probeReport, e2e.OneShot, error) {
	t.Helper()
	res, err := e2e.StartOneShot(t, e2e.Image(e2e.UDPResponder), udpClientOpts(s.Network, append(args, "--json")...)...)
	if err != nil {
		return probeReport{}, res, err
	}
	rep, err := parseProbeReport(res.Stdout)
	if err != nil {
		return probeReport{}, res, fmt.Errorf("%w\n%s", err, res)
	}
	return rep, res, nil
}

// expectGreeting runs the tutorial client and fails t unless it prints
// exactly the greeting line and exits 0.
func expectGreeting(t *testing.T, s *e2e.Stack) {
	t.Helper()
	res := runUDPClient(t, s)
	if res.ExitCode != 0 {
		t.Fatalf("udp-client: %s", res)
	}
	if got := strings.Split(strings.TrimRight(res.Stdout, "\n"), "\n"); !slices.Equal(got, []string{udpGreetingLine}) {
		t.Fatalf("udp-client stdout = %q, want exactly the line %q\nstderr:\n%s", res.Stdout, udpGreetingLine, res.Stderr)
	}
}

// expectNoReply fails t unless the client run reported that no reply came.
func expectNoReply(t *testing.T, res e2e.OneShot) {
	t.Helper()
	if res.ExitCode != 1 || !strings.Contains(res.Stdout+res.Stderr, "no reply") {
		t.Fatalf("udp-client: want exit code 1 and \"no reply\", got %s", res)
	}
}

// randomToken is a fresh shutdown token.
func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func TestUDPResponder_ContainerIsHealthyByRealProbe(t *testing.T) {
	s := e2e.SharedStack(t)

	health := e2e.RequireHealthy(t, s.Service(e2e.UDPResponder).Container())
	// The healthcheck subcommand says so only after a UDP probe came back.
	if len(health.Log) == 0 {
		t.Fatal("no health check results")
	}
	last := health.Log[len(health.Log)-1]
	if last.ExitCode != 0 || !strings.Contains(last.Output, "probe answered") {
		t.Fatalf("last health check = exit %d %q, want exit 0 and \"probe answered\"", last.ExitCode, last.Output)
	}
}

func TestUDPResponder_ClientGetsGreetingOverNetwork(t *testing.T) {
	s := e2e.SharedStack(t)
	expectGreeting(t, s)
}

func TestUDPResponder_AnswersTenThousandProbesWithoutLoss(t *testing.T) {
	s := e2e.SharedStack(t)
	const count = 10000

	// 2000/s is the per-source RATE_LIMIT; the burst of 4000 absorbs jitter.
	rep, res, err := probeRun(t, s, "--count", fmt.Sprint(count), "--rate", "2000", "--timeout", "2s")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report: %+v", rep)
	if rep.Sent != count || rep.Received != count || rep.Lost != 0 || rep.Corrupted != 0 {
		t.Fatalf("sent %d received %d lost %d corrupted %d, want %d, %d, 0, 0\n%s",
			rep.Sent, rep.Received, rep.Lost, rep.Corrupted, count, count, res)
	}
	if rep.Duplicated != 0 || rep.SendErrors != 0 {
		t.Errorf("duplicated = %d, send errors = %d, want 0 and 0", rep.Duplicated, rep.SendErrors)
	}
	if res.ExitCode != 0 {
		t.Errorf("udp-client exit code = %d, want 0 without loss\n%s", res.ExitCode, res)
	}
}

func TestUDPResponder_RateLimitsFloodingSourceNotOthers(t *testing.T) {
	s := e2e.SharedStack(t)
	admin := s.Service(e2e.UDPResponder).AdminAddr()
	const (
		floodCount = 100000
		pacedCount = 500
	)
	limitedBefore := e2e.Scrape(t, admin).Value(udpDropped, droppedFor("rate_limited"))

	// The flood sends 25000/s for 4 s, 12.5 times RATE_LIMIT=2000/s, so
	// it lasts longer than the paced run (2 s) it runs alongside.
	runs := []struct {
		name string
		args []string
		rep  probeReport
		res  e2e.OneShot
		err  error
	}{
		{name: "flood", args: []string{"--count", fmt.Sprint(floodCount), "--rate", "25000", "--timeout", "1s"}},
		{name: "paced", args: []string{"--count", fmt.Sprint(pacedCount), "--rate", "250", "--timeout", "2s"}},
	}
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() {
			runs[i].rep, runs[i].res, runs[i].err = probeRun(t, s, runs[i].args...)
		})
	}
	wg.Wait()
	for _, r := range runs {
		if r.err != nil {
			t.Fatalf("%s: %v", r.name, r.err)
		}
		t.Logf("%s: %+v", r.name, r.rep)
	}
	flood, paced := runs[0].rep, runs[1].rep
	// The point is that they ran at the same time.
	fr, pr := runs[0].res, runs[1].res
	t.Logf("flood ran %s..%s, paced %s..%s", fr.StartedAt.Format(time.StampMilli), fr.FinishedAt.Format(time.StampMilli),
		pr.StartedAt.Format(time.StampMilli), pr.FinishedAt.Format(time.StampMilli))
	if !(fr.StartedAt.Before(pr.FinishedAt) && pr.StartedAt.Before(fr.FinishedAt)) {
		t.Fatal("the flood and the paced run did not overlap")
	}

	if flood.Sent != floodCount {
		t.Errorf("flood sent %d, want %d", flood.Sent, floodCount)
	}
	// At most the burst plus RATE_LIMIT per second gets through: about
	// 12000 of 100000. Half is a generous bound.
	if flood.Received >= flood.Sent/2 {
		t.Errorf("flood: %d of %d answered, want most of them dropped by the rate limit", flood.Received, flood.Sent)
	}
	if paced.Sent != pacedCount || paced.Received*100 < paced.Sent*99 {
		t.Errorf("paced client alongside the flood: %d of %d answered, want >= 99%%\n%s", paced.Received, paced.Sent, runs[1].res)
	}
	limited := e2e.WaitMetric(t, admin, limitedBefore+1, udpDropped, droppedFor("rate_limited"))
	t.Logf("%s{reason=\"rate_limited\"} went from %v to %v", udpDropped, limitedBefore, limited)
	if dropped := float64(flood.Sent - flood.Received); limited-limitedBefore > dropped {
		t.Errorf("rate_limited grew by %v, more than the %v datagrams the flood lost", limited-limitedBefore, dropped)
	}
}

func TestUDPResponder_DoesNotAmplifyOneByteRequest(t *testing.T) {
	s := e2e.SharedStack(t)
	admin := s.Service(e2e.UDPResponder).AdminAddr()
	before := e2e.Scrape(t, admin).Value(udpDropped, droppedFor("amplification"))

	// The 14-byte greeting is larger than the 1-byte request: no reply at
	// all, not even a shorter one.
	res := runUDPClient(t, s, "--message", "x", "--timeout", "1s")
	expectNoReply(t, res)

	after := e2e.WaitMetric(t, admin, before+1, udpDropped, droppedFor("amplification"))
	t.Logf("%s{reason=\"amplification\"} went from %v to %v", udpDropped, before, after)
}

func TestUDPResponder_IgnoresExitWithoutToken(t *testing.T) {
	s := e2e.SharedStack(t)
	udp := s.Service(e2e.UDPResponder)
	before := e2e.Scrape(t, udp.AdminAddr()).Value(udpDropped, droppedFor("exit_ignored"))
	started := e2e.Inspect(t, udp.Container()).State.StartedAt

	// The shared stack has no SHUTDOWN_TOKEN: neither a bare "exit" nor
	// one with a token may stop it.
	if res := runUDPClient(t, s, "--exit", "wrongtoken"); res.ExitCode != 0 {
		t.Errorf("udp-client --exit: %s", res)
	}
	expectNoReply(t, runUDPClient(t, s, "--message", "exit", "--timeout", "1s"))

	after := e2e.WaitMetric(t, udp.AdminAddr(), before+2, udpDropped, droppedFor("exit_ignored"))
	t.Logf("%s{reason=\"exit_ignored\"} went from %v to %v", udpDropped, before, after)

	// Still the same process, still healthy, still answering.
	state := e2e.Inspect(t, udp.Container()).State
	if !state.Running || state.StartedAt != started {
		t.Fatalf("udp-responder state %q started %s, want running since %s", state.Status, state.StartedAt, started)
	}
	err := e2e.Poll(t.Context(), 10*time.Second, 200*time.Millisecond, func() error {
		h := e2e.Inspect(t, udp.Container()).State.Health
		if h == nil || h.Status != container.Healthy {
			return fmt.Errorf("health %+v", h)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	expectGreeting(t, s)
}

// TestUDPResponder_ExitWithTokenStopsCleanly stops the service, so it runs on
// a stack of its own.
func TestUDPResponder_ExitWithTokenStopsCleanly(t *testing.T) {
	token := randomToken()
	s := e2e.NewStack(t, e2e.StackConfig{
		Services: []string{e2e.UDPResponder},
		Env: map[string]string{
			"UDP_SHUTDOWN_TOKEN": token,
			// The clients run on the stack's network, whose subnet Docker
			// picks when the stack starts; the default allows loopback only.
			"UDP_SHUTDOWN_ALLOW": "0.0.0.0/0",
		},
	})
	udp := s.Service(e2e.UDPResponder)

	// A wrong token is still ignored.
	before := e2e.Scrape(t, udp.AdminAddr()).Value(udpDropped, droppedFor("exit_ignored"))
	if res := runUDPClient(t, s, "--exit", "not-"+token); res.ExitCode != 0 {
		t.Fatalf("udp-client --exit <wrong token>: %s", res)
	}
	e2e.WaitMetric(t, udp.AdminAddr(), before+1, udpDropped, droppedFor("exit_ignored"))
	if state := e2e.Inspect(t, udp.Container()).State; !state.Running {
		t.Fatalf("udp-responder is %q after an exit with a wrong token, want running", state.Status)
	}

	exitRun := runUDPClient(t, s, "--exit", token)
	if exitRun.ExitCode != 0 {
		t.Fatalf("udp-client --exit <token>: %s", exitRun)
	}
	const within = 10 * time.Second // SHUTDOWN_TIMEOUT is 5s; UDP has nothing to drain
	state, err := e2e.WaitExited(t.Context(), udp.Container(), within)
	if err != nil {
		t.Fatalf("udp-responder did not stop after exit <token>: %v", err)
	}
	stdout, stderr := e2e.Logs(t, udp.Container())
	if state.ExitCode != 0 {
		t.Fatalf("udp-responder exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", state.ExitCode, e2e.Tail(stdout, 20), e2e.Tail(stderr, 20))
	}
	if finished, err := time.Parse(time.RFC3339Nano, state.FinishedAt); err == nil {
		// Negative when the server was gone before Docker saw the client end.
		t.Logf("udp-responder exited with code 0, %s after the client that sent the exit ended", finished.Sub(exitRun.FinishedAt).Round(time.Millisecond))
	}
	if !strings.Contains(stdout+stderr, "exit received") {
		t.Errorf("logs do not contain \"exit received\"\nstdout:\n%s\nstderr:\n%s", e2e.Tail(stdout, 20), e2e.Tail(stderr, 20))
	}
	// restart: on-failure leaves a clean exit stopped.
	if info := e2e.Inspect(t, udp.Container()); info.RestartCount != 0 || info.State.Running || info.State.Restarting {
		t.Errorf("after exit 0: restart count %d, status %q; want 0 restarts and stopped", info.RestartCount, info.State.Status)
	}
}

func TestUDPResponder_BadModeExitsTwoNamingTheVariable(t *testing.T) {
	e2e.ExpectConfigError(t, e2e.UDPResponder, "MODE", "loud")
}

func TestUDPResponder_RunsAsNonRootWithReadOnlyRootFS(t *testing.T) {
	s := e2e.SharedStack(t)
	e2e.AssertNonRootReadOnly(t, s.Service(e2e.UDPResponder).Container())
}

// udpExchange sends each payload to server from a socket of its own (so
// every reply belongs to one request) and returns the sizes of the replies
// each got within wait.
func udpExchange(t *testing.T, server *net.UDPAddr, payloads [][]byte, wait time.Duration) [][]int {
	t.Helper()
	replies := make([][]int, len(payloads))
	var wg sync.WaitGroup
	for i, p := range payloads {
		sock, err := net.ListenUDP("udp4", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer sock.Close()
		wg.Go(func() {
			if _, err := sock.WriteToUDP(p, server); err != nil {
				t.Errorf("send %d bytes: %v", len(p), err)
				return
			}
			_ = sock.SetReadDeadline(time.Now().Add(wait))
			buf := make([]byte, 65536)
			for {
				n, err := sock.Read(buf)
				if err != nil {
					return
				}
				replies[i] = append(replies[i], n)
			}
		})
	}
	wg.Wait()
	return replies
}

func junk(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	if n > 0 {
		b[0] = 'j' // never the probe magic
	}
	return b
}

// The responder's amplification, measured over a mixed set: junk of every
// size from 1 byte to the largest UDP datagram, the tutorial's greeting,
// probes up to and over MAX_DATAGRAM, things that look like its own replies
// and exit attempts. No request may get more than one reply or a reply
// larger than itself, and all replies together are at most as many bytes as
// all requests.
func TestUDPResponder_NeverAmplifiesMixedSizes(t *testing.T) {
	udp := e2e.SharedStack(t).Service(e2e.UDPResponder)
	const sentTotal, receivedTotal = "netlab_udp_responder_bytes_sent_total", "netlab_udp_responder_bytes_received_total"
	m := e2e.Scrape(t, udp.AdminAddr())
	sentBefore, receivedBefore := m.Value(sentTotal), m.Value(receivedTotal)

	var payloads [][]byte
	for _, n := range []int{1, 2, 7, 13, 14, 15, 35, 36, 37, 64, 100, 512, 1024, 1400, 2047, 2048, 2049, 4096, 9000, 65507} {
		payloads = append(payloads, junk(n))
	}
	for _, n := range []int{36, 64, 1024, 2048, 2049} {
		payloads = append(payloads, e2e.UDPProbe(n, 1, uint64(n)))
	}
	reply := e2e.UDPProbe(64, 1, 7)
	reply[5] = 1 // a probe marked as a reply: never answered (loop)
	payloads = append(payloads, reply,
		[]byte("Hello, server!"), []byte("Hello, server!\n"), []byte("Hello, client!"),
		[]byte("x"), []byte("exit"), []byte("exit not-the-token"))

	replies := udpExchange(t, udpServer(t, udp), payloads, time.Second)
	var reqBytes, replyBytes, answered, inLimitBytes int
	var lines []string
	for i, p := range payloads {
		reqBytes += len(p)
		if len(p) <= maxDatagram {
			inLimitBytes += len(p)
		}
		for _, n := range replies[i] {
			replyBytes += n
			if n > len(p) {
				t.Errorf("a %d-byte request (%q) got a %d-byte reply", len(p), e2e.Abbrev(p), n)
			}
		}
		if len(replies[i]) > 1 {
			t.Errorf("a %d-byte request (%q) got %d replies", len(p), e2e.Abbrev(p), len(replies[i]))
		}
		if len(replies[i]) > 0 {
			answered++
		}
		lines = append(lines, fmt.Sprintf("%d->%v", len(p), replies[i]))
	}
	t.Logf("request size -> reply sizes: %s", strings.Join(lines, " "))
	ratio := float64(replyBytes) / float64(reqBytes)
	// The datagrams over MAX_DATAGRAM weigh most; the ratio over those the
	// server considers at all is the telling one.
	t.Logf("FIGURE amplification udp-responder requests=%d request_bytes=%d replies=%d reply_bytes=%d ratio=%.4f ratio_within_max_datagram=%.4f",
		len(payloads), reqBytes, answered, replyBytes, ratio, float64(replyBytes)/float64(inLimitBytes))
	if ratio > 1.0 {
		t.Errorf("amplification ratio %.4f, want <= 1", ratio)
	}
	// Some requests must be answered, or the test measured nothing: the
	// greeting and the probes up to MAX_DATAGRAM.
	if answered < 5 {
		t.Errorf("only %d requests answered, want at least the greeting and 4 probes", answered)
	}

	// The server's own byte counters agree (they include its healthcheck
	// probes, which are answered at exactly their size).
	m = e2e.Scrape(t, udp.AdminAddr())
	if sent, received := m.Value(sentTotal)-sentBefore, m.Value(receivedTotal)-receivedBefore; sent > received {
		t.Errorf("the server counted %v bytes sent for %v received", sent, received)
	}
}

// Datagrams over MAX_DATAGRAM (2048 in deploy/env/udp-responder.env) get no
// reply and are counted as too_large, exactly once each; one of exactly
// MAX_DATAGRAM bytes is answered.
func TestUDPResponder_RefusesOversizedDatagramsAndCountsThem(t *testing.T) {
	udp := e2e.SharedStack(t).Service(e2e.UDPResponder)
	before := e2e.Scrape(t, udp.AdminAddr()).Value(udpDropped, droppedFor("too_large"))

	payloads := [][]byte{
		e2e.UDPProbe(maxDatagram, 2, 0), // the limit itself: answered
		e2e.UDPProbe(maxDatagram+1, 2, 1),
		junk(maxDatagram + 1),
		junk(9000),
		junk(65507),
	}
	replies := udpExchange(t, udpServer(t, udp), payloads, time.Second)
	if !slices.Equal(replies[0], []int{maxDatagram}) {
		t.Errorf("a %d-byte probe got replies %v, want one of %d bytes", maxDatagram, replies[0], maxDatagram)
	}
	for i, p := range payloads[1:] {
		if len(replies[i+1]) > 0 {
			t.Errorf("a %d-byte datagram got replies %v, want none (over MAX_DATAGRAM)", len(p), replies[i+1])
		}
	}
	want := before + float64(len(payloads)-1)
	got := e2e.WaitMetric(t, udp.AdminAddr(), want, udpDropped, droppedFor("too_large"))
	if got != want {
		t.Errorf("%s{reason=\"too_large\"} went from %v to %v, want +%d", udpDropped, before, got, len(payloads)-1)
	}
}
