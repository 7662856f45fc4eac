package tests_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
)

const (
	// udpServerAddr is where a client container on the stack's network
	// reaches udp-responder (the compose udp-client service's
	// UDP_SERVER_ADDR). UDP is checked from inside the network, never through
	// a host-mapped UDP port.
	udpServerAddr = "udp-responder:12345"
	// udpClient is the client binary in the udp-responder image.
	udpClient = "/udp-client"
	// udpDropped counts datagrams that got no reply, by reason.
	udpDropped = "netlab_udp_responder_dropped_total"
	// udpGreetingLine is what the tutorial client prints.
	udpGreetingLine = "Received: Hello, client!"
	// metricWait bounds how long a counter may take to show an event.
	metricWait = 10 * time.Second
)

// droppedFor is the label selector of one drop reason.
func droppedFor(reason string) string { return `reason="` + reason + `"` }

// udpClientOpts runs /udp-client from the udp-responder image on network
// with args, hardened like the compose udp-client service.
func udpClientOpts(networkName string, args ...string) []testcontainers.ContainerCustomizer {
	return []testcontainers.ContainerCustomizer{
		testcontainers.WithEntrypoint(udpClient),
		testcontainers.WithCmd(args...),
		testcontainers.WithEnv(map[string]string{"UDP_SERVER_ADDR": udpServerAddr}),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.ReadonlyRootfs = true
			hc.CapDrop = []string{"ALL"}
			hc.SecurityOpt = []string{"no-new-privileges:true"}
		}),
		network.WithNetworkName(nil, networkName),
	}
}

// runUDPClient runs the client to completion on the stack's network.
func runUDPClient(t *testing.T, s *stack, args ...string) oneShot {
	t.Helper()
	return runOneShot(t, udpResponderImage, udpClientOpts(s.network, args...)...)
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
	Jitter string `json:"jitter"`
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
func probeRun(t *testing.T, s *stack, args ...string) (probeReport, oneShot, error) {
	t.Helper()
	res, err := startOneShot(t, udpResponderImage, udpClientOpts(s.network, append(args, "--json")...)...)
	if err != nil {
		return probeReport{}, res, err
	}
	rep, err := parseProbeReport(res.stdout)
	if err != nil {
		return probeReport{}, res, fmt.Errorf("%w\n%s", err, res)
	}
	return rep, res, nil
}

// udpMetric returns the current value of an udp-responder counter.
func udpMetric(t *testing.T, s *stack, metric string, labels ...string) float64 {
	t.Helper()
	v, err := scrapeMetric(t.Context(), s.udpAdminAddr, metric, labels...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// waitMetricAtLeast polls until the counter reaches want and returns it.
func waitMetricAtLeast(t *testing.T, s *stack, want float64, metric string, labels ...string) float64 {
	t.Helper()
	var v float64
	err := poll(t.Context(), metricWait, 100*time.Millisecond, func() error {
		var err error
		if v, err = scrapeMetric(t.Context(), s.udpAdminAddr, metric, labels...); err != nil {
			return err
		}
		if v < want {
			return fmt.Errorf("%s%v = %v, want >= %v", metric, labels, v, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// expectGreeting runs the tutorial client and fails t unless it prints
// exactly the greeting line and exits 0.
func expectGreeting(t *testing.T, s *stack) {
	t.Helper()
	res := runUDPClient(t, s)
	if res.exitCode != 0 {
		t.Fatalf("udp-client: %s", res)
	}
	if got := strings.Split(strings.TrimRight(res.stdout, "\n"), "\n"); !slices.Equal(got, []string{udpGreetingLine}) {
		t.Fatalf("udp-client stdout = %q, want exactly the line %q\nstderr:\n%s", res.stdout, udpGreetingLine, res.stderr)
	}
}

// expectNoReply fails t unless the client run reported that no reply came.
func expectNoReply(t *testing.T, res oneShot) {
	t.Helper()
	if res.exitCode != 1 || !strings.Contains(res.stdout+res.stderr, "no reply") {
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
	s := sharedStack(t)

	health := inspect(t, s.udpResponder).State.Health
	if health == nil {
		t.Fatal("udp-responder has no health check (expected one from docker-compose.yml)")
	}
	if health.Status != container.Healthy {
		t.Fatalf("health status = %q, want %q (last results: %+v)", health.Status, container.Healthy, health.Log)
	}
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
	s := sharedStack(t)
	expectGreeting(t, s)
}

func TestUDPResponder_AnswersTenThousandProbesWithoutLoss(t *testing.T) {
	s := sharedStack(t)
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
	if res.exitCode != 0 {
		t.Errorf("udp-client exit code = %d, want 0 without loss\n%s", res.exitCode, res)
	}
}

func TestUDPResponder_RateLimitsFloodingSourceNotOthers(t *testing.T) {
	s := sharedStack(t)
	const (
		floodCount = 100000
		pacedCount = 500
	)
	limitedBefore := udpMetric(t, s, udpDropped, droppedFor("rate_limited"))

	// The flood sends 25000/s for 4 s, 12.5 times RATE_LIMIT=2000/s, so
	// it lasts longer than the paced run (2 s) it runs alongside.
	runs := []struct {
		name string
		args []string
		rep  probeReport
		res  oneShot
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
	t.Logf("flood ran %s..%s, paced %s..%s", fr.startedAt.Format(time.StampMilli), fr.finishedAt.Format(time.StampMilli),
		pr.startedAt.Format(time.StampMilli), pr.finishedAt.Format(time.StampMilli))
	if !(fr.startedAt.Before(pr.finishedAt) && pr.startedAt.Before(fr.finishedAt)) {
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
	limited := waitMetricAtLeast(t, s, limitedBefore+1, udpDropped, droppedFor("rate_limited"))
	t.Logf("%s{reason=\"rate_limited\"} went from %v to %v", udpDropped, limitedBefore, limited)
	if dropped := float64(flood.Sent - flood.Received); limited-limitedBefore > dropped {
		t.Errorf("rate_limited grew by %v, more than the %v datagrams the flood lost", limited-limitedBefore, dropped)
	}
}

func TestUDPResponder_DoesNotAmplifyOneByteRequest(t *testing.T) {
	s := sharedStack(t)
	before := udpMetric(t, s, udpDropped, droppedFor("amplification"))

	// The 14-byte greeting is larger than the 1-byte request: no reply at
	// all, not even a shorter one.
	res := runUDPClient(t, s, "--message", "x", "--timeout", "1s")
	expectNoReply(t, res)

	after := waitMetricAtLeast(t, s, before+1, udpDropped, droppedFor("amplification"))
	t.Logf("%s{reason=\"amplification\"} went from %v to %v", udpDropped, before, after)
}

func TestUDPResponder_IgnoresExitWithoutToken(t *testing.T) {
	s := sharedStack(t)
	ctx := t.Context()
	before := udpMetric(t, s, udpDropped, droppedFor("exit_ignored"))
	started := inspect(t, s.udpResponder).State.StartedAt

	// The shared stack has no SHUTDOWN_TOKEN: neither a bare "exit" nor
	// one with a token may stop it.
	if res := runUDPClient(t, s, "--exit", "wrongtoken"); res.exitCode != 0 {
		t.Errorf("udp-client --exit: %s", res)
	}
	expectNoReply(t, runUDPClient(t, s, "--message", "exit", "--timeout", "1s"))

	after := waitMetricAtLeast(t, s, before+2, udpDropped, droppedFor("exit_ignored"))
	t.Logf("%s{reason=\"exit_ignored\"} went from %v to %v", udpDropped, before, after)

	// Still the same process, still healthy, still answering.
	state := inspect(t, s.udpResponder).State
	if !state.Running || state.StartedAt != started {
		t.Fatalf("udp-responder state %q started %s, want running since %s", state.Status, state.StartedAt, started)
	}
	err := poll(ctx, 10*time.Second, 200*time.Millisecond, func() error {
		h := inspect(t, s.udpResponder).State.Health
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
	s := newStack(t, stackConfig{
		services: []string{udpResponderService},
		env: map[string]string{
			"UDP_SHUTDOWN_TOKEN": token,
			// The clients run on the stack's network, whose subnet Docker
			// picks when the stack starts; the default allows loopback only.
			"UDP_SHUTDOWN_ALLOW": "0.0.0.0/0",
		},
	})
	ctx := t.Context()

	// A wrong token is still ignored.
	before := udpMetric(t, s, udpDropped, droppedFor("exit_ignored"))
	if res := runUDPClient(t, s, "--exit", "not-"+token); res.exitCode != 0 {
		t.Fatalf("udp-client --exit <wrong token>: %s", res)
	}
	waitMetricAtLeast(t, s, before+1, udpDropped, droppedFor("exit_ignored"))
	if state := inspect(t, s.udpResponder).State; !state.Running {
		t.Fatalf("udp-responder is %q after an exit with a wrong token, want running", state.Status)
	}

	exitRun := runUDPClient(t, s, "--exit", token)
	if exitRun.exitCode != 0 {
		t.Fatalf("udp-client --exit <token>: %s", exitRun)
	}
	const within = 10 * time.Second // SHUTDOWN_TIMEOUT is 5s; UDP has nothing to drain
	state, err := waitExited(ctx, s.udpResponder, within)
	if err != nil {
		t.Fatalf("udp-responder did not stop after exit <token>: %v", err)
	}
	stdout, stderr := containerLogs(t, s.udpResponder.GetContainerID())
	if state.ExitCode != 0 {
		t.Fatalf("udp-responder exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", state.ExitCode, tail(stdout, 20), tail(stderr, 20))
	}
	if finished, err := time.Parse(time.RFC3339Nano, state.FinishedAt); err == nil {
		// Negative when the server was gone before Docker saw the client end.
		t.Logf("udp-responder exited with code 0, %s after the client that sent the exit ended", finished.Sub(exitRun.finishedAt).Round(time.Millisecond))
	}
	if !strings.Contains(stdout+stderr, "exit received") {
		t.Errorf("logs do not contain \"exit received\"\nstdout:\n%s\nstderr:\n%s", tail(stdout, 20), tail(stderr, 20))
	}
	// restart: on-failure leaves a clean exit stopped.
	if info := inspect(t, s.udpResponder); info.RestartCount != 0 || info.State.Running || info.State.Restarting {
		t.Errorf("after exit 0: restart count %d, status %q; want 0 restarts and stopped", info.RestartCount, info.State.Status)
	}
}

func TestUDPResponder_BadModeExitsTwoNamingTheVariable(t *testing.T) {
	skipShort(t)

	res := runOneShot(t, udpResponderImage, testcontainers.WithEnv(map[string]string{"MODE": "loud"}))
	if res.exitCode != 2 {
		t.Errorf("exit code = %d, want 2", res.exitCode)
	}
	if !strings.Contains(res.stderr, "MODE") {
		t.Errorf("stderr does not name MODE\n%s", res)
	}
}

func TestUDPResponder_RunsAsNonRootWithReadOnlyRootFS(t *testing.T) {
	s := sharedStack(t)
	assertNonRootReadOnly(t, s.udpResponder)
}
