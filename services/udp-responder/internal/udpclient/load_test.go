package udpclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/addrtest"
	"github.com/netlab/netlab/services/platform/latency"
	"github.com/netlab/netlab/services/udp-responder/internal/udpclient"
	"github.com/netlab/netlab/services/udp-responder/probe"
)

// startEcho is a plain echo server (what a ReadFromUDP/WriteToUDP loop or
// fortio udp-echo does) that allocates nothing per datagram, so that
// allocation counts, which are per process, see only the client.
func startEcho(tb testing.TB) string {
	return startUDPFrom(tb, nil)
}

// Load servers. Request sequence numbers count from 1 on every socket.
var (
	echoAny = func(b []byte, _ netip.AddrPort, reply func([]byte)) { reply(b) }
	// respondAny is the real responder's behaviour: the reply flag is set.
	respondAny = func(b []byte, _ netip.AddrPort, reply func([]byte)) { respond(b, reply) }
	silentAny  = func([]byte, netip.AddrPort, func([]byte)) {}
	// dropOdd answers every other request of each socket.
	dropOdd = func(b []byte, _ netip.AddrPort, reply func([]byte)) {
		if probe.IsProbe(b) && seqOf(b)%2 == 1 {
			return
		}
		reply(b)
	}
	corruptAll = func(b []byte, _ netip.AddrPort, reply func([]byte)) {
		b[len(b)-1] ^= 0x40
		reply(b)
	}
	foreignAny = func(b []byte, _ netip.AddrPort, reply func([]byte)) { foreignToo(b, reply) }
)

// lateOdd holds the reply to every odd request until the next request of
// the same socket arrives, and sends it just before that one's reply: the
// client has given up on it by then, so it must be ignored as late.
func lateOdd() func([]byte, netip.AddrPort, func([]byte)) {
	held := map[netip.AddrPort][]byte{}
	return func(b []byte, from netip.AddrPort, reply func([]byte)) {
		if seqOf(b)%2 == 1 {
			held[from] = append([]byte(nil), b...)
			return
		}
		if h := held[from]; h != nil {
			reply(h)
			delete(held, from)
		}
		reply(b)
	}
}

func TestClient_Load(t *testing.T) {
	const d = 300 * time.Millisecond
	tests := []struct {
		name     string
		handler  func([]byte, netip.AddrPort, func([]byte))
		opts     udpclient.LoadOptions
		wantLoss float64  // percent, ± lossTol
		lossTol  float64  // percentage points
		wantErrs []string // kinds that must occur; no others may
	}{
		{name: "plain echo", handler: echoAny, opts: udpclient.LoadOptions{Connections: 4}},
		{name: "reply flag set", handler: respondAny, opts: udpclient.LoadOptions{Connections: 4}},
		{name: "one socket", handler: echoAny, opts: udpclient.LoadOptions{}},
		{name: "smallest requests", handler: echoAny, opts: udpclient.LoadOptions{Connections: 2, Size: probe.HeaderSize}},
		{name: "largest requests", handler: echoAny, opts: udpclient.LoadOptions{Connections: 2, Size: probe.MaxSize}},
		// A count, not a duration, and a timeout no scheduling stall
		// reaches: a kept reply read after its timeout would be late.
		{name: "every other dropped", handler: dropOdd, opts: udpclient.LoadOptions{Connections: 4, Count: 40, Timeout: 200 * time.Millisecond},
			wantLoss: 50, lossTol: 5},
		{name: "late replies ignored", handler: lateOdd(), opts: udpclient.LoadOptions{Connections: 4, Timeout: 10 * time.Millisecond},
			wantLoss: 50, lossTol: 5, wantErrs: []string{udpclient.ErrKindLate}},
		{name: "corrupted replies", handler: corruptAll, opts: udpclient.LoadOptions{Connections: 2, Timeout: 10 * time.Millisecond},
			wantLoss: 100, wantErrs: []string{udpclient.ErrKindCorrupt}},
		{name: "foreign datagrams", handler: foreignAny, opts: udpclient.LoadOptions{Connections: 2},
			wantErrs: []string{udpclient.ErrKindForeign}},
		{name: "never answers", handler: silentAny, opts: udpclient.LoadOptions{Connections: 2, Timeout: 10 * time.Millisecond},
			wantLoss: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := startUDPFrom(t, tt.handler)
			opts := tt.opts
			if opts.Count == 0 {
				opts.Duration = d
			}
			res, err := (&udpclient.Client{Addr: addr}).Load(t.Context(), opts)
			if err != nil {
				t.Fatal(err)
			}
			checkLoad(t, res, opts)
			if math.Abs(res.LossPercent-tt.wantLoss) > tt.lossTol {
				t.Errorf("loss %.2f%%, want %g%% ± %g", res.LossPercent, tt.wantLoss, tt.lossTol)
			}
			if tt.wantLoss < 100 && res.Received < 10 {
				t.Errorf("only %d replies", res.Received)
			}
			for _, k := range tt.wantErrs {
				if res.Errors[k] == 0 {
					t.Errorf("no %q errors in %v", k, res.Errors)
				}
			}
			for k := range res.Errors {
				if !slices.Contains(tt.wantErrs, k) {
					t.Errorf("unexpected errors %v", res.Errors)
				}
			}
			if res.Interrupted {
				t.Error("interrupted")
			}
		})
	}
}

// checkLoad checks what every load result must satisfy.
func checkLoad(t *testing.T, res udpclient.LoadResult, opts udpclient.LoadOptions) {
	t.Helper()
	if res.Sent != res.Received+res.Lost+res.Unfinished || res.Unfinished > int64(res.Connections) {
		t.Errorf("unbalanced: %d sent, %d received, %d lost, %d unfinished", res.Sent, res.Received, res.Lost, res.Unfinished)
	}
	wantSize := opts.Size
	if wantSize == 0 {
		wantSize = udpclient.DefaultSize
	}
	if res.Connections != max(opts.Connections, 1) || res.Size != wantSize {
		t.Errorf("sockets %d, size %d", res.Connections, res.Size)
	}
	switch {
	case res.Interrupted:
	case opts.Count > 0 && (res.Sent != int64(opts.Count) || res.Unfinished != 0):
		t.Errorf("%d sent, %d unfinished, want all %d requests finished", res.Sent, res.Unfinished, opts.Count)
	case opts.Count == 0 && res.Duration != opts.Duration:
		t.Errorf("duration %v, want %v", res.Duration, opts.Duration)
	}
	if want := float64(res.Received) / res.Duration.Seconds(); math.Abs(res.RepliesPerSecond-want) > 1e-6*want {
		t.Errorf("%.1f replies/s, want %.1f", res.RepliesPerSecond, want)
	}
	s := res.RTT
	if s.N != res.Received {
		t.Errorf("%d RTT samples for %d replies", s.N, res.Received)
	}
	if s.N > 0 && !(s.Min > 0 && s.Min <= s.P50 && s.P50 <= s.P90 && s.P90 <= s.P99 && s.P99 <= s.Max && s.Avg <= s.Max) {
		t.Errorf("implausible RTTs %+v", s)
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = udpclient.DefaultLoadTimeout
	}
	if s.Max > timeout+50*time.Millisecond {
		t.Errorf("max RTT %v is beyond the %v timeout", s.Max, timeout)
	}
}

// TestClient_Load_Responder runs against the real responder, in process.
func TestClient_Load_Responder(t *testing.T) {
	addr := startResponder(t)
	opts := udpclient.LoadOptions{Connections: 8, Duration: 300 * time.Millisecond}
	res, err := (&udpclient.Client{Addr: addr}).Load(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	checkLoad(t, res, opts)
	if res.Received < 100 || res.Lost != 0 || len(res.Errors) != 0 {
		t.Errorf("%d received, %d lost, errors %v", res.Received, res.Lost, res.Errors)
	}
}

func TestClient_Load_ClosedPort(t *testing.T) {
	opts := udpclient.LoadOptions{Connections: 2, Duration: 200 * time.Millisecond, Timeout: 20 * time.Millisecond}
	res, err := (&udpclient.Client{Addr: addrtest.ClosedUDP(t)}).Load(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	checkLoad(t, res, opts)
	if res.Received != 0 || res.Lost < 2 || res.LossPercent != 100 || res.Errors[udpclient.ErrKindRefused] == 0 {
		t.Errorf("%d received, %d lost (%.0f%%), errors %v", res.Received, res.Lost, res.LossPercent, res.Errors)
	}
}

// TestClient_Load_Interrupted cancels an hour-long run from the server
// once 200 requests have arrived: the run stops at once with its counts.
func TestClient_Load_Interrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var seen atomic.Int64
	addr := startUDPFrom(t, func(b []byte, _ netip.AddrPort, reply func([]byte)) {
		if seen.Add(1) == 200 {
			cancel()
		}
		reply(b)
	})
	opts := udpclient.LoadOptions{Connections: 4, Duration: time.Hour}
	res, err := (&udpclient.Client{Addr: addr}).Load(ctx, opts)
	if !errors.Is(err, context.Canceled) || !res.Interrupted {
		t.Fatalf("error %v, interrupted %v; want context.Canceled", err, res.Interrupted)
	}
	checkLoad(t, res, opts)
	if res.Received < 150 || res.Lost != 0 || res.Duration > time.Minute {
		t.Errorf("%d received, %d lost in %v", res.Received, res.Lost, res.Duration)
	}
}

func TestClient_Load_Errors(t *testing.T) {
	addr := startEcho(t)
	tests := []struct {
		name    string
		addr    string
		opts    udpclient.LoadOptions
		wantErr string
	}{
		{"negative sockets", addr, udpclient.LoadOptions{Connections: -1}, "connections -1 is not between 1 and 1024"},
		{"too many sockets", addr, udpclient.LoadOptions{Connections: 1025}, "connections 1025"},
		{"small", addr, udpclient.LoadOptions{Size: probe.HeaderSize - 1}, "size 35"},
		{"large", addr, udpclient.LoadOptions{Size: probe.MaxSize + 1}, "size 65508"},
		{"short", addr, udpclient.LoadOptions{Duration: 99 * time.Millisecond}, "duration 99ms is not between 100ms and 1h0m0s"},
		{"long", addr, udpclient.LoadOptions{Duration: time.Hour + 1}, "duration 1h0m0.000000001s"},
		{"tiny timeout", addr, udpclient.LoadOptions{Timeout: time.Microsecond}, "timeout 1µs is not between 1ms and 1m0s"},
		{"huge timeout", addr, udpclient.LoadOptions{Timeout: 2 * time.Minute}, "timeout 2m0s"},
		{"unresolvable", "127.0.0.1:notaport", udpclient.LoadOptions{}, "cannot resolve"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := (&udpclient.Client{Addr: tt.addr}).Load(t.Context(), tt.opts); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// dialLoadSocket connects a load socket to a plain echo server.
func dialLoadSocket(tb testing.TB, size int) *udpclient.LoadSocket {
	tb.Helper()
	raddr, err := net.ResolveUDPAddr("udp", startEcho(tb))
	if err != nil {
		tb.Fatal(err)
	}
	conn, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	s, err := udpclient.NewLoadSocket(conn, 7, udpclient.LoadOptions{Size: size, Timeout: 5 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestLoadSocket_RoundTripAllocatesNothing: an answered request allocates
// nothing (the echo server allocates nothing either, and allocations are
// counted for the whole process).
func TestLoadSocket_RoundTripAllocatesNothing(t *testing.T) {
	for _, size := range []int{probe.HeaderSize, udpclient.DefaultSize, 1400} {
		s := dialLoadSocket(t, size)
		s.RoundTrip() // warm up
		if allocs := testing.AllocsPerRun(1000, s.RoundTrip); allocs != 0 {
			t.Errorf("size %d: %g allocations per round trip", size, allocs)
		}
		if sent, received, lost := s.Counts(); sent != 1002 || received != sent || lost != 0 {
			t.Errorf("size %d: %d sent, %d received, %d lost", size, sent, received, lost)
		}
	}
}

func BenchmarkLoadSocket_RoundTrip(b *testing.B) {
	s := dialLoadSocket(b, udpclient.DefaultSize)
	b.ReportAllocs()
	for b.Loop() {
		s.RoundTrip()
	}
	if _, received, lost := s.Counts(); lost != 0 || received == 0 {
		b.Fatalf("%d received, %d lost", received, lost)
	}
}

func TestLoadResult_Write(t *testing.T) {
	res := udpclient.LoadResult{
		Addr: "127.0.0.1:12345", Connections: 50, Size: 64, Timeout: 200 * time.Millisecond, Duration: 10 * time.Second,
		Sent: 512340, Received: 512289, Lost: 1, Unfinished: 50, LossPercent: 100.0 / 512290, RepliesPerSecond: 51228.9,
		RTT:    latency.Stats{N: 512289, Min: 21 * us, Avg: 97 * us, P50: 92 * us, P90: 130 * us, P99: 260*us + 440, P999: 1200 * us, Max: 3100 * us},
		Errors: map[string]int64{udpclient.ErrKindRefused: 1, udpclient.ErrKindLate: 2},
	}
	var text bytes.Buffer
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	want := `--- 127.0.0.1:12345 load statistics (50 sockets, 64-byte requests, 10s) ---
512340 sent, 512289 received, 1 lost (0.00% loss), 50 unfinished
51228.9 replies/s, 26.23 Mbit/s
rtt min/avg/p50/p90/p99/p99.9/max = 21µs/97µs/92µs/130µs/260µs/1.2ms/3.1ms
errors: late 2, refused 1
`
	if text.String() != want {
		t.Errorf("text\n%s\nwant\n%s", text.String(), want)
	}

	none := udpclient.LoadResult{Addr: "x:1", Connections: 1, Size: 64, Duration: 1500 * time.Millisecond, Sent: 3, Lost: 2,
		Unfinished: 1, LossPercent: 100, Interrupted: true}
	text.Reset()
	_ = none.WriteText(&text)
	want = `--- x:1 load statistics (1 sockets, 64-byte requests, 1.5s) ---
3 sent, 0 received, 2 lost (100.00% loss), 1 unfinished (interrupted after 1.5s)
0.0 replies/s, 0 bit/s
`
	if text.String() != want {
		t.Errorf("text\n%s\nwant\n%s", text.String(), want)
	}

	var js bytes.Buffer
	if err := res.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"mode":"load","addr":"127.0.0.1:12345","connections":50,"size":64,"count":0,"period_ns":0,"rate":0,"timeout_seconds":0.2,"duration_seconds":10,` +
		`"sent":512340,"received":512289,"lost":1,"unfinished":50,"loss_percent":0.0002,"replies_per_second":51228.9,"bits_per_second":26229197,` +
		`"latency":{"n":512289,"min_ns":21000,"avg_ns":97000,"p50_ns":92000,"p90_ns":130000,"p99_ns":260440,"p999_ns":1200000,"max_ns":3100000},` +
		`"errors":{"late":2,"refused":1},"interrupted":false}` + "\n"
	if js.String() != wantJSON {
		t.Errorf("JSON\n%s\nwant\n%s", js.String(), wantJSON)
	}
	js.Reset()
	_ = none.WriteJSON(&js)
	var v map[string]any
	if err := json.Unmarshal(js.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if errs, ok := v["errors"].(map[string]any); !ok || len(errs) != 0 || v["interrupted"] != true {
		t.Errorf("JSON %s: want an empty errors object and interrupted", js.String())
	}
}
