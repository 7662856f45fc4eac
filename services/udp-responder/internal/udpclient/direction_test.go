package udpclient_test

import (
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/netlab/netlab/services/platform/clientcli/clitest"
	platformconfig "github.com/netlab/netlab/services/platform/config"
	"github.com/netlab/netlab/services/platform/lifecycle/lifecycletest"
	"github.com/netlab/netlab/services/udp-responder/internal/config"
	"github.com/netlab/netlab/services/udp-responder/internal/responder"
	"github.com/netlab/netlab/services/udp-responder/internal/udpclient"
	"github.com/netlab/netlab/services/udp-responder/probe"
)

// startResponder runs the real responder in process on a loopback port.
func startResponder(tb testing.TB) string {
	tb.Helper()
	cfg := config.Config{
		Shared:     platformconfig.Shared{ShutdownTimeout: time.Second},
		ListenAddr: "127.0.0.1:0", Mode: config.ModeGreet, Greeting: "Hello, client!",
		MaxDatagram: 2048, MaxAmplification: 1, RateLimit: 1e6, RateBurst: 1e6, RateTableSize: 1024,
		Sockets: 2, BatchSize: 32,
	}
	srv, err := responder.New(cfg, zap.NewNop(), prometheus.NewRegistry(), func() {})
	if err != nil {
		tb.Fatal(err)
	}
	lifecycletest.Serve(tb, srv, 5*time.Second)
	return srv.Addr().String()
}

// lossyRelay stands between the clients and target: it forwards each
// datagram, except the v2 probe requests dropReq picks (upstream loss)
// and the replies dropReply picks (downstream loss). Count queries are
// probes too: the hooks see p.Query.
func lossyRelay(tb testing.TB, target string, dropReq, dropReply func(probe.Probe) bool) string {
	tb.Helper()
	front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	raddr, err := net.ResolveUDPAddr("udp", target)
	if err != nil {
		tb.Fatal(err)
	}
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		upstreams = map[netip.AddrPort]*net.UDPConn{}
	)
	drop := func(b []byte, hook func(probe.Probe) bool) bool {
		p, err := probe.Parse(b)
		return err == nil && hook(p)
	}
	// upstream is the relay's socket towards target for one client.
	upstream := func(client netip.AddrPort) *net.UDPConn {
		mu.Lock()
		defer mu.Unlock()
		if c := upstreams[client]; c != nil {
			return c
		}
		c, err := net.DialUDP("udp", nil, raddr)
		if err != nil {
			tb.Error(err)
			return nil
		}
		upstreams[client] = c
		wg.Go(func() {
			buf := make([]byte, 1<<16)
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				if !drop(buf[:n], dropReply) {
					_, _ = front.WriteToUDPAddrPort(buf[:n], client)
				}
			}
		})
		return c
	}
	wg.Go(func() {
		buf := make([]byte, 1<<16)
		for {
			n, client, err := front.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if c := upstream(client); c != nil && !drop(buf[:n], dropReq) {
				_, _ = c.Write(buf[:n])
			}
		}
	})
	tb.Cleanup(func() {
		_ = front.Close()
		mu.Lock()
		for _, c := range upstreams {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return front.LocalAddr().String()
}

func never(probe.Probe) bool { return false }

// The relay drops chosen requests on their way up and chosen replies on
// their way down; the client must count each direction exactly, on two
// sockets sharing one run.
func TestClient_Probe_SplitsLossByDirection(t *testing.T) {
	const count = 300
	upDrop := func(seq uint64) bool { return seq%7 == 3 }
	downDrop := func(seq uint64) bool { return seq%5 == 1 }
	var wantUp, wantDown, wantBoth int64
	for seq := range uint64(count) {
		switch {
		case upDrop(seq):
			wantUp++
		case downDrop(seq):
			wantBoth++ // a reply dropped when its request got through
		}
		if downDrop(seq) {
			wantDown++
		}
	}
	for _, tc := range []struct {
		name           string
		dropReq, dropR func(probe.Probe) bool
		wantUp, wantDn int64
	}{
		{"requests dropped", func(p probe.Probe) bool { return !p.Query && upDrop(p.Seq) }, never, wantUp, 0},
		{"replies dropped", never, func(p probe.Probe) bool { return !p.Query && downDrop(p.Seq) }, 0, wantDown},
		{"both", func(p probe.Probe) bool { return !p.Query && upDrop(p.Seq) },
			func(p probe.Probe) bool { return !p.Query && downDrop(p.Seq) }, wantUp, wantBoth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := lossyRelay(t, startResponder(t), tc.dropReq, tc.dropR)
			c := &udpclient.Client{Addr: addr, Timeout: 300 * time.Millisecond}
			res, err := c.Probe(t.Context(), udpclient.ProbeOptions{Count: count, Rate: 5000, Connections: 2})
			if err != nil {
				t.Fatal(err)
			}
			d := res.Directions
			if d == nil || !d.Exact || d.Queries != 1 {
				t.Fatalf("directions %+v: want an exact split after one query", d)
			}
			if d.UpLost != tc.wantUp || d.DownLost != tc.wantDn || d.ResponderReceived != count-tc.wantUp || res.Lost != tc.wantUp+tc.wantDn {
				t.Errorf("up %d down %d (responder received %d, lost %d); want up %d down %d",
					d.UpLost, d.DownLost, d.ResponderReceived, res.Lost, tc.wantUp, tc.wantDn)
			}
		})
	}
}

// When no count query is answered, the split is a bound from the highest
// count a reply carried, and says so.
func TestClient_Probe_DirectionsWithoutTheFinalCount(t *testing.T) {
	addr := lossyRelay(t, startResponder(t), func(p probe.Probe) bool { return p.Query || p.Seq == 19 }, never)
	// Replies in time however loaded the machine: a late one would count
	// as lost downstream.
	res, err := (&udpclient.Client{Addr: addr, Timeout: 200 * time.Millisecond}).Probe(t.Context(),
		udpclient.ProbeOptions{Count: 20, Rate: 5000})
	if err != nil {
		t.Fatal(err)
	}
	d := res.Directions
	if d == nil || d.Exact || d.Queries != 12 || d.ResponderReceived != 19 || d.UpLost != 1 || d.DownLost != 0 {
		t.Fatalf("directions %+v: want a bound after 12 queries, responder count at least 19", d)
	}
	var text strings.Builder
	_ = res.WriteText(&text)
	if !strings.Contains(text.String(), "upstream at most 1 lost, downstream at least 0: the responder's count did not come back after 12 queries") {
		t.Errorf("text:\n%s", text.String())
	}
}

// On one machine both ends read one clock: one-way delays are at least 0
// and at most the round trip, and the times are the kernel's.
func TestClient_Probe_OneWayDelayOnLoopback(t *testing.T) {
	res, err := (&udpclient.Client{Addr: startResponder(t)}).Probe(t.Context(), udpclient.ProbeOptions{Count: 200, Rate: 2000})
	if err != nil {
		t.Fatal(err)
	}
	up, down, rtt := res.Up, res.Down, res.RTT
	if up.N != 200 || down.N != 200 || up.Negative+down.Negative != 0 || up.Min < 0 || down.Min < 0 {
		t.Fatalf("one-way up %+v down %+v: want 200 delays each, none negative", up, down)
	}
	if up.Max > rtt.Max || down.Max > rtt.Max || up.Avg+down.Avg > rtt.Avg {
		t.Errorf("one-way up %v/%v, down %v/%v (avg/max) against RTT %v/%v: a direction took longer than the round trip",
			up.Avg, up.Max, down.Avg, down.Max, rtt.Avg, rtt.Max)
	}
	if !res.KernelTimestamps || res.Directions == nil || !res.Directions.ResponderKernelTimestamps || res.Directions.UpLost+res.Directions.DownLost != 0 {
		t.Errorf("kernel timestamps client %v, directions %+v", res.KernelTimestamps, res.Directions)
	}
}

// A responder that sends v2 probes back untouched (one that speaks only
// version 1) gives the usual figures and no split; --size below 68 sends
// version 1 probes.
func TestClient_Probe_WithoutVersion2(t *testing.T) {
	for _, tc := range []struct {
		name, addr string
		size       int
		note       string
	}{
		{"version 1 responder", startUDP(t, respond), udpclient.DefaultSize, "note: the responder does not speak probe version 2"},
		{"version 1 probes", startResponder(t), 64, "note: version 1 probes (--size below 68)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := (&udpclient.Client{Addr: tc.addr}).Probe(t.Context(), udpclient.ProbeOptions{Count: 20, Rate: 5000, Size: tc.size})
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			_ = res.WriteText(&text)
			if res.Received != 20 || res.Directions != nil || res.Up.N != 0 || !strings.Contains(text.String(), tc.note) {
				t.Errorf("received %d, directions %+v, %d one-way delays:\n%s", res.Received, res.Directions, res.Up.N, text.String())
			}
		})
	}
}

// --duration in probe mode sends the probes due in it at the rate.
func TestClient_Probe_Duration(t *testing.T) {
	res, err := (&udpclient.Client{Addr: startResponder(t)}).Probe(t.Context(),
		udpclient.ProbeOptions{Duration: 250 * time.Millisecond, Rate: 200})
	if err != nil {
		t.Fatal(err)
	}
	if res.Count != 50 || res.Sent != 50 || res.Received != 50 || res.Period != 250*time.Millisecond {
		t.Errorf("count %d sent %d received %d period %v; want 50 probes over 250ms", res.Count, res.Sent, res.Received, res.Period)
	}
	if res.SendDuration < 240*time.Millisecond {
		t.Errorf("sent for %v: want the 250ms the probes were due over", res.SendDuration)
	}
}

func TestParseBitrate(t *testing.T) {
	for in, want := range map[string]float64{"1000000": 1e6, "500k": 5e5, "500K": 5e5, "10M": 1e7, "1.5G": 1.5e9, "2T": 2e12, "1e6": 1e6, "0.5m": 5e5} {
		if got, err := udpclient.ParseBitrate(in); err != nil || got != want {
			t.Errorf("ParseBitrate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "M", "0", "-1M", "10X", "10 M", "1MB", "NaN", "Inf", "0x10", "1_000", "10Mbit"} {
		if got, err := udpclient.ParseBitrate(in); err == nil {
			t.Errorf("ParseBitrate(%q) = %v, want an error", in, got)
		}
	}
	// 10 Mbit/s of 1250-byte probes is 1000 probes a second.
	if pps := udpclient.PacketsPerSecond(10e6, 1250); pps != 1000 {
		t.Errorf("PacketsPerSecond(10M, 1250) = %v, want 1000", pps)
	}
}

// --bitrate sets the probe rate from the size; every report gives bit/s.
func TestMain_Bitrate(t *testing.T) {
	addr := startResponder(t)
	stdout, _ := clitest.MustRun(t, udpclient.Main, 0, "--addr", addr, "--duration", "200ms", "--bitrate", "108.8k", "--report-interval", "100ms")
	// 108.8 kbit/s of 68-byte probes is 200 a second: 40 in 200ms.
	for _, want := range []string{"40 sent, 40 received", "(asked 108.80 kbit/s)", " kbit/s lost ", "bitrate 108.80 kbit/s sent"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	stdout, _ = clitest.MustRun(t, udpclient.Main, 0, "--addr", addr, "--count", "10", "--report-interval", "20ms", "--json")
	if !strings.Contains(stdout, `"type":"interval"`) || !strings.Contains(stdout, `"bits_per_second":`) {
		t.Errorf("JSON intervals without bits_per_second:\n%s", stdout)
	}
}

// --save writes a record netlab compare reads, for probe and load runs;
// --save - puts it alone on standard output and the report on standard
// error.
func TestMain_Save(t *testing.T) {
	addr := startResponder(t)
	path := filepath.Join(t.TempDir(), "run.json")
	stdout, _ := clitest.MustRun(t, udpclient.Main, 0, "--addr", addr, "--count", "20", "--rate", "2000", "--save", path, "--label", "twenty")
	if !strings.Contains(stdout, "20 sent, 20 received") {
		t.Fatalf("stdout %q", stdout)
	}
	rec := clitest.ReadRecordFile(t, path)
	s := rec.Summary
	if rec.Client != "udp-client" || rec.Label != "twenty" || s.Mode != "probe" || s.Target != addr || s.Ops != 20 || s.Lost != 0 ||
		s.Bytes != 20*udpclient.DefaultSize || rec.Histogram == nil || rec.Histogram.N != 20 || rec.Schedule != nil ||
		!strings.Contains(string(rec.Result), `"directions":{"exact":true`) {
		t.Errorf("record %+v", rec)
	}

	rec, stderr := clitest.RunSaved(t, udpclient.Main, "--addr", addr, "--load", "--duration", "200ms", "--rate", "200", "--save", "-")
	if !strings.Contains(stderr, "schedule rate 200/s asked") || rec.Summary.Mode != "load" || rec.Schedule == nil || rec.Schedule.TargetRate != 200 ||
		rec.Histogram == nil || rec.Histogram.N != rec.Summary.Ops || rec.Summary.Ops < 30 || len(rec.Intervals) == 0 {
		t.Errorf("record from stdout %+v, report %q", rec, stderr)
	}
}

// An open-loop load run keeps its timetable against a fast responder: the
// requests due are the requests sent, and each is answered.
func TestClient_Load_OpenLoop(t *testing.T) {
	res, err := (&udpclient.Client{Addr: startResponder(t)}).Load(t.Context(),
		udpclient.LoadOptions{Rate: 500, Count: 100, Duration: 10 * time.Second, Connections: 2})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Schedule
	if res.Sent != 100 || res.Received != 100 || s.Started != 100 || s.Scheduled != 100 || s.Missed != 0 ||
		res.Latency.Count() != 100 || s.Latency.Max < res.RTT.Max {
		t.Errorf("sent %d received %d, schedule %+v, %d latencies", res.Sent, res.Received, s, res.Latency.Count())
	}
	if res.Duration < 190*time.Millisecond || res.Duration > 2*time.Second {
		t.Errorf("100 requests at 500/s took %v: want about 200ms", res.Duration)
	}
}
