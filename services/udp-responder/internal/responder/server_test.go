package responder_test

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	platformconfig "github.com/netlab/netlab/services/platform/config"
	"github.com/netlab/netlab/services/platform/lifecycle/lifecycletest"
	"github.com/netlab/netlab/services/platform/promset/promsettest"
	"github.com/netlab/netlab/services/udp-responder/internal/config"
	"github.com/netlab/netlab/services/udp-responder/internal/responder"
	"github.com/netlab/netlab/services/udp-responder/probe"
)

// testConfig is a one-socket responder on a free loopback port. With one
// socket, replies to one client come back in the order it sent requests.
func testConfig() config.Config {
	return config.Config{
		Shared:           platformconfig.Shared{ShutdownTimeout: time.Second},
		ListenAddr:       "127.0.0.1:0",
		Mode:             config.ModeGreet,
		Greeting:         "Hello, client!",
		MaxDatagram:      2048,
		MaxAmplification: 1,
		RateLimit:        1e6,
		RateBurst:        1e6,
		RateTableSize:    1024,
		Sockets:          1,
		BatchSize:        32,
	}
}

type running struct {
	srv   *responder.Server
	reg   *prometheus.Registry
	exits atomic.Int32 // how often onExit was called
}

func start(tb testing.TB, cfg config.Config) *running {
	tb.Helper()
	r := &running{reg: prometheus.NewRegistry()}
	srv, err := responder.New(cfg, zap.NewNop(), r.reg, func() { r.exits.Add(1) })
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	r.srv = srv
	lifecycletest.Serve(tb, srv, 5*time.Second)
	return r
}

// client is a UDP socket talking to the server from a chosen local address.
func (r *running) client(tb testing.TB, localIP string) *net.UDPConn {
	tb.Helper()
	laddr := &net.UDPAddr{IP: net.ParseIP(localIP)}
	c, err := net.DialUDP("udp", laddr, r.srv.Addr().(*net.UDPAddr))
	if err != nil {
		tb.Fatalf("dial from %s: %v", localIP, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func (r *running) dropped(tb testing.TB, reason string) float64 {
	tb.Helper()
	return promsettest.Value(tb, r.reg, "netlab_udp_responder_dropped_total", reason)
}

func send(tb testing.TB, c *net.UDPConn, b []byte) {
	tb.Helper()
	if _, err := c.Write(b); err != nil {
		tb.Fatalf("send: %v", err)
	}
}

func receive(tb testing.TB, c *net.UDPConn) []byte {
	tb.Helper()
	buf := make([]byte, 70000)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		tb.Fatalf("receive: %v", err)
	}
	return buf[:n]
}

func newProbe(tb testing.TB, seq uint64, size int) []byte {
	tb.Helper()
	b := make([]byte, size)
	if err := probe.Encode(b, probe.Probe{RunID: 42, Seq: seq, SentUnix: time.Now().UnixNano()}); err != nil {
		tb.Fatal(err)
	}
	return b
}

// expectNoReplyTo sends req and then a probe: on one socket the server
// handles them in order, so if the first thing back is the probe's reply,
// req was not answered. No timing guesswork.
func expectNoReplyTo(tb testing.TB, c *net.UDPConn, req []byte) {
	tb.Helper()
	send(tb, c, req)
	marker := newProbe(tb, 999, 64)
	send(tb, c, marker)
	got := receive(tb, c)
	p, err := probe.Parse(got)
	if err != nil || !p.Reply || p.Seq != 999 {
		tb.Fatalf("request %q was answered with %q", abbrev(req), abbrev(got))
	}
}

func abbrev(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

func TestServer_GreetsLikeTheTutorial(t *testing.T) {
	r := start(t, testConfig())
	c := r.client(t, "127.0.0.1")
	send(t, c, []byte("Hello, server!"))
	if got := receive(t, c); string(got) != "Hello, client!" {
		t.Fatalf("reply %q, want %q", got, "Hello, client!")
	}
}

// Both I/O paths (recvmmsg/sendmmsg batches and one datagram per call)
// answer the same way, oversize datagrams included.
func TestServer_BatchedAndSingleIOAgree(t *testing.T) {
	for _, batch := range []int{1, 2, 32} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			cfg := testConfig()
			cfg.Mode, cfg.MaxDatagram, cfg.BatchSize = config.ModeEcho, 1000, batch
			r := start(t, cfg)
			c := r.client(t, "127.0.0.1")
			// A burst, so batches of more than one datagram really happen.
			const burst = 100
			for i := range burst {
				send(t, c, newProbe(t, uint64(i), 64+i))
			}
			seen := map[uint64]bool{}
			for range burst {
				got := receive(t, c)
				p, err := probe.Parse(got)
				if err != nil || !p.Reply || len(got) != 64+int(p.Seq) {
					t.Fatalf("bad reply (%d bytes): %+v %v", len(got), p, err)
				}
				seen[p.Seq] = true
			}
			if len(seen) != burst {
				t.Fatalf("%d distinct replies to %d probes", len(seen), burst)
			}
			expectNoReplyTo(t, c, bytes.Repeat([]byte("y"), 1001))
			send(t, c, bytes.Repeat([]byte("y"), 1000))
			if got := receive(t, c); len(got) != 1000 {
				t.Fatalf("a datagram of exactly MAX_DATAGRAM got a %d-byte reply", len(got))
			}
		})
	}
}

func TestServer_EchoModeRepliesThePayload(t *testing.T) {
	cfg := testConfig()
	cfg.Mode = config.ModeEcho
	r := start(t, cfg)
	c := r.client(t, "127.0.0.1")
	for _, msg := range []string{"a", "Hello, server!", strings.Repeat("z", 2048)} {
		send(t, c, []byte(msg))
		if got := receive(t, c); string(got) != msg {
			t.Fatalf("echo of %d bytes came back as %d bytes", len(msg), len(got))
		}
	}
}

func TestServer_AnswersProbesInEveryMode(t *testing.T) {
	for _, mode := range []string{config.ModeGreet, config.ModeEcho} {
		t.Run(mode, func(t *testing.T) {
			cfg := testConfig()
			cfg.Mode = mode
			r := start(t, cfg)
			c := r.client(t, "127.0.0.1")
			for _, size := range []int{probe.HeaderSize, 64, 1400} {
				req := newProbe(t, uint64(size), size)
				send(t, c, req)
				got := receive(t, c)
				p, err := probe.Parse(got)
				if err != nil {
					t.Fatalf("size %d: reply is not a valid probe: %v", size, err)
				}
				if !p.Reply || p.Seq != uint64(size) || p.RunID != 42 || len(got) != size {
					t.Fatalf("size %d: reply %+v of %d bytes", size, p, len(got))
				}
			}
		})
	}
}

func TestServer_NeverRepliesMoreThanItReceived(t *testing.T) {
	tests := []struct {
		name          string
		mode          string
		amplification float64
		req           []byte
	}{
		{"1-byte request in greet mode", config.ModeGreet, 1, []byte("x")},
		{"13-byte request in greet mode", config.ModeGreet, 1, []byte("Hello, serve!")},
		{"echo with amplification 0.5", config.ModeEcho, 0.5, []byte("Hello, server!")},
		{"probe with amplification 0.5", config.ModeGreet, 0.5, nil}, // filled below
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Mode, cfg.MaxAmplification = tt.mode, tt.amplification
			r := start(t, cfg)
			c := r.client(t, "127.0.0.1")
			req := tt.req
			if req == nil {
				req = newProbe(t, 1, 64)
			}
			if tt.amplification == 1 {
				// The marker probe is answered only at factor 1.
				expectNoReplyTo(t, c, req)
			} else {
				send(t, c, req)
				_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				if n, err := c.Read(make([]byte, 4096)); err == nil {
					t.Fatalf("got a %d-byte reply to a %d-byte request at amplification %v", n, len(req), tt.amplification)
				}
			}
			if got := r.dropped(t, "amplification"); got != 1 {
				t.Fatalf("dropped{amplification} = %v, want 1", got)
			}
		})
	}
}

func TestServer_IgnoresWhatLooksLikeItsOwnReplies(t *testing.T) {
	r := start(t, testConfig())
	c := r.client(t, "127.0.0.1")
	reply := newProbe(t, 7, 64)
	probe.MarkReply(reply)
	expectNoReplyTo(t, c, []byte("Hello, client!"))
	expectNoReplyTo(t, c, reply)
	if got := r.dropped(t, "loop"); got != 2 {
		t.Fatalf("dropped{loop} = %v, want 2", got)
	}
}

func TestServer_IgnoresDatagramsFromItsOwnPort(t *testing.T) {
	r := start(t, testConfig())
	port := r.srv.Addr().(*net.UDPAddr).Port
	// Another responder on the same port, at another loopback address.
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.0.2"), Port: port})
	if err != nil {
		t.Skipf("cannot bind 127.0.0.2:%d: %v", port, err)
	}
	defer peer.Close()
	if _, err := peer.WriteToUDP([]byte("Hello, server!"), r.srv.Addr().(*net.UDPAddr)); err != nil {
		t.Fatal(err)
	}
	c := r.client(t, "127.0.0.1")
	expectNoReplyTo(t, c, []byte("x")) // also waits until the first datagram was handled
	if got := r.dropped(t, "own_port"); got != 1 {
		t.Fatalf("dropped{own_port} = %v, want 1", got)
	}
}

func TestServer_DropsOversizeDatagrams(t *testing.T) {
	cfg := testConfig()
	cfg.Mode, cfg.MaxDatagram = config.ModeEcho, 100
	r := start(t, cfg)
	c := r.client(t, "127.0.0.1")
	expectNoReplyTo(t, c, bytes.Repeat([]byte("y"), 101))
	send(t, c, bytes.Repeat([]byte("y"), 100))
	if got := receive(t, c); len(got) != 100 {
		t.Fatalf("a datagram of exactly MAX_DATAGRAM got a %d-byte reply", len(got))
	}
	if got := r.dropped(t, "too_large"); got != 1 {
		t.Fatalf("dropped{too_large} = %v, want 1", got)
	}
}

func TestServer_RateLimitsAFloodingSourceOnly(t *testing.T) {
	cfg := testConfig()
	cfg.RateLimit, cfg.RateBurst = 1, 5 // 5 at once, then one a second
	r := start(t, cfg)
	flooder := r.client(t, "127.0.0.1")
	for i := range 50 {
		send(t, flooder, newProbe(t, uint64(i), 64))
	}
	answered := 0
	_ = flooder.SetReadDeadline(time.Now().Add(time.Second))
	for {
		if _, err := flooder.Read(make([]byte, 128)); err != nil {
			break
		}
		answered++
	}
	if answered < 5 || answered > 6 {
		t.Fatalf("flooder got %d of 50 answered, want the burst of 5 (6 with a refill)", answered)
	}
	if got := r.dropped(t, "rate_limited"); got < 44 {
		t.Fatalf("dropped{rate_limited} = %v, want at least 44", got)
	}
	// Another source still has its whole allowance.
	other := r.client(t, "127.0.0.2")
	send(t, other, []byte("Hello, server!"))
	if got := receive(t, other); string(got) != "Hello, client!" {
		t.Fatalf("second source got %q", got)
	}
}

func TestServer_Exit(t *testing.T) {
	const token = "s3cret-token"
	tests := []struct {
		name     string
		token    string // SHUTDOWN_TOKEN
		allow    string // SHUTDOWN_ALLOW
		send     string
		wantExit bool
	}{
		{"disabled by default", "", "127.0.0.0/8", "exit", false},
		{"disabled ignores a token too", "", "127.0.0.0/8", "exit " + token, false},
		{"wrong token", token, "127.0.0.0/8", "exit wrong-token", false},
		{"no token", token, "127.0.0.0/8", "exit", false},
		{"right token from a disallowed source", token, "10.0.0.0/8", "exit " + token, false},
		{"right token from an allowed source", token, "127.0.0.0/8", "exit " + token, true},
		{"right token with a newline", token, "127.0.0.0/8", "exit " + token + "\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			allow, err := config.ParseNetworks(tt.allow)
			if err != nil {
				t.Fatal(err)
			}
			cfg.ShutdownToken, cfg.ShutdownAllow = tt.token, allow
			r := start(t, cfg)
			c := r.client(t, "127.0.0.1")
			expectNoReplyTo(t, c, []byte(tt.send))
			if got := r.exits.Load() == 1; got != tt.wantExit {
				t.Fatalf("exit requested = %v, want %v", got, tt.wantExit)
			}
			reason := "exit_ignored"
			if tt.wantExit {
				reason = "exit_accepted"
			}
			if got := r.dropped(t, reason); got != 1 {
				t.Fatalf("dropped{%s} = %v, want 1", reason, got)
			}
		})
	}
}

func TestServer_SpreadsOverSeveralSockets(t *testing.T) {
	cfg := testConfig()
	cfg.Sockets = 4
	r := start(t, cfg)
	for i := range 20 {
		c := r.client(t, "127.0.0.1")
		send(t, c, newProbe(t, uint64(i), 64))
		if p, err := probe.Parse(receive(t, c)); err != nil || p.Seq != uint64(i) {
			t.Fatalf("client %d: reply %+v, %v", i, p, err)
		}
	}
}

func TestCheckProbe(t *testing.T) {
	r := start(t, testConfig())
	if err := responder.CheckProbe(t.Context(), r.srv.Addr().String(), 2*time.Second); err != nil {
		t.Fatalf("CheckProbe against a running responder: %v", err)
	}
	// A port nobody answers on.
	silent, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	if err := responder.CheckProbe(t.Context(), silent.LocalAddr().String(), 300*time.Millisecond); err == nil {
		t.Fatal("CheckProbe against a silent port: want an error")
	}
}
