package udpclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/addrtest"
	"github.com/netlab/netlab/services/platform/latency"
	"github.com/netlab/netlab/services/platform/tabletest"
	"github.com/netlab/netlab/services/udp-responder/internal/udpclient"
	"github.com/netlab/netlab/services/udp-responder/probe"
)

const shortTimeout = 50 * time.Millisecond

func TestClient_Send(t *testing.T) {
	echo := startUDP(t, respond)
	silentAddr := startUDP(t, silent)
	// secondTry ignores the first datagram.
	var seen atomic.Int64
	secondTry := startUDP(t, func(b []byte, reply func([]byte)) {
		if seen.Add(1) > 1 {
			respond(b, reply)
		}
	})
	tests := []struct {
		name      string
		addr      string
		msg       string
		tries     int
		wantReply string
		wantTries int
		wantErr   string
	}{
		{name: "hello", addr: echo, msg: udpclient.DefaultMessage, wantReply: greeting, wantTries: 1},
		{name: "second try", addr: secondTry, msg: udpclient.DefaultMessage, wantReply: greeting, wantTries: 2},
		{name: "no reply", addr: silentAddr, msg: "Hello, server!", tries: 3,
			wantErr: "no reply from " + silentAddr + " after 3 tries (50ms each)", wantTries: 3},
		{name: "no reply one try", addr: silentAddr, msg: "Hello, server!", tries: 1,
			wantErr: "no reply from " + silentAddr + " after 1 try (50ms each)", wantTries: 1},
		{name: "empty message", addr: echo, msg: "", wantErr: "message is empty"},
		{name: "huge message", addr: echo, msg: strings.Repeat("x", probe.MaxSize+1), wantErr: "more than the limit"},
		{name: "unknown port", addr: "127.0.0.1:notaport", msg: "x", wantErr: "cannot resolve 127.0.0.1:notaport: lookup udp/notaport: unknown port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A reply that is coming gets time no scheduling stall uses
			// up; a missing one costs the short timeout its message names.
			timeout := shortTimeout
			if tt.wantReply != "" {
				timeout = 10 * shortTimeout
			}
			c := &udpclient.Client{Addr: tt.addr, Timeout: timeout, Tries: tt.tries}
			res, err := c.Send(t.Context(), []byte(tt.msg))
			tabletest.Err(t, "Send", err, tt.wantErr)
			if string(res.Received) != tt.wantReply || res.Tries != tt.wantTries {
				t.Errorf("reply %q after %d tries, want %q after %d", res.Received, res.Tries, tt.wantReply, tt.wantTries)
			}
			if err == nil && res.RTT <= 0 {
				t.Errorf("RTT %v", res.RTT)
			}
		})
	}
}

func TestClient_Send_ClosedPort(t *testing.T) {
	addr := addrtest.ClosedUDP(t)
	c := &udpclient.Client{Addr: addr, Timeout: shortTimeout, Tries: 2}
	_, err := c.Send(t.Context(), []byte("Hello, server!"))
	var nr *udpclient.NoReplyError
	if !errors.As(err, &nr) || nr.Tries != 2 {
		t.Fatalf("error %v, want a NoReplyError after 2 tries", err)
	}
	// Loopback reports the closed port with an ICMP port unreachable.
	if !nr.Refused || !strings.HasSuffix(err.Error(), ": connection refused (nothing listening on that port?)") {
		t.Errorf("error %q, want it to say connection refused", err)
	}
}

func TestClient_Send_Canceled(t *testing.T) {
	addr := startUDP(t, silent)
	ctx, cancel := context.WithCancel(t.Context())
	c := &udpclient.Client{Addr: addr, Timeout: time.Minute}
	done := make(chan error, 1)
	go func() {
		_, err := c.Send(ctx, []byte("Hello, server!"))
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

func TestClient_Exit(t *testing.T) {
	got := make(chan string, 1)
	addr := startUDP(t, func(b []byte, _ func([]byte)) { got <- string(b) })
	c := &udpclient.Client{Addr: addr}
	if err := c.Exit(t.Context(), "s3cr3t-token"); err != nil {
		t.Fatal(err)
	}
	if msg := <-got; msg != "exit s3cr3t-token" {
		t.Errorf("server got %q", msg)
	}
}

// lossyStats is what a run of count probes against lossy must give.
func lossyStats(count int) udpclient.Stats {
	var lost int64
	for seq := range uint64(count) {
		if dropsAtRandom(seq) {
			lost++
		}
	}
	return udpclient.Stats{Sent: int64(count), Received: int64(count) - lost, Lost: lost,
		LossPercent: 100 * float64(lost) / float64(count)}
}

func TestClient_Probe(t *testing.T) {
	const n = 200
	tests := []struct {
		name    string
		handler func([]byte, func([]byte))
		opts    udpclient.ProbeOptions
		want    udpclient.Stats // RTT and Jitter: only whether there are any
	}{
		{name: "clean", handler: respond,
			opts: udpclient.ProbeOptions{Count: n, Rate: 5000},
			want: udpclient.Stats{Sent: n, Received: n}},
		{name: "clean four sockets", handler: respond,
			opts: udpclient.ProbeOptions{Count: 2 * n, Rate: 10000, Connections: 4},
			want: udpclient.Stats{Sent: 2 * n, Received: 2 * n}},
		{name: "big probes", handler: respond,
			opts: udpclient.ProbeOptions{Count: 20, Rate: 1000, Size: probe.MaxSize},
			want: udpclient.Stats{Sent: 20, Received: 20}},
		{name: "smallest probes", handler: respond,
			opts: udpclient.ProbeOptions{Count: 20, Rate: 5000, Size: probe.HeaderSize},
			want: udpclient.Stats{Sent: 20, Received: 20}},
		{name: "every 10th dropped", handler: dropEvery10th,
			opts: udpclient.ProbeOptions{Count: n, Rate: 5000},
			want: udpclient.Stats{Sent: n, Received: n - n/10, Lost: n / 10, LossPercent: 10}},
		{name: "every 10th dropped on three sockets", handler: dropEvery10th,
			opts: udpclient.ProbeOptions{Count: n, Rate: 5000, Connections: 3},
			want: udpclient.Stats{Sent: n, Received: n - n/10, Lost: n / 10, LossPercent: 10}},
		{name: "5% random loss is not reordering", handler: lossy,
			opts: udpclient.ProbeOptions{Count: 10 * n, Rate: 20000},
			want: lossyStats(10 * n)},
		{name: "duplicated", handler: duplicating(),
			opts: udpclient.ProbeOptions{Count: n, Rate: 5000},
			want: udpclient.Stats{Sent: n, Received: n, Duplicated: n - 1}},
		{name: "pairs swapped", handler: swapping(),
			opts: udpclient.ProbeOptions{Count: n, Rate: 5000},
			want: udpclient.Stats{Sent: n, Received: n, Reordered: n / 2, ReorderExtentMax: 1}},
		{name: "every 4th corrupted", handler: corruptEvery4th,
			opts: udpclient.ProbeOptions{Count: n, Rate: 5000},
			want: udpclient.Stats{Sent: n, Received: n - n/4, Lost: n / 4, LossPercent: 25, Corrupted: n / 4}},
		{name: "foreign datagrams", handler: foreignToo,
			opts: udpclient.ProbeOptions{Count: n, Rate: 5000},
			want: udpclient.Stats{Sent: n, Received: n, Foreign: 2 * n}},
		{name: "never answers", handler: silent,
			opts: udpclient.ProbeOptions{Count: 20},
			want: udpclient.Stats{Sent: 20, Lost: 20, LossPercent: 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startUDP(t, tt.handler)
			c := &udpclient.Client{Addr: addr, Timeout: 500 * time.Millisecond}
			res, err := c.Probe(t.Context(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := res.Stats
			if (got.RTT.N > 0) != (tt.want.Received > 0) || got.RTT.N != got.Received {
				t.Errorf("%d RTT samples for %d received", got.RTT.N, got.Received)
			}
			if got.RTT.N > 0 && !(got.RTT.Min > 0 && got.RTT.Min <= got.RTT.P50 && got.RTT.P50 <= got.RTT.P90 &&
				got.RTT.P90 <= got.RTT.P99 && got.RTT.P99 <= got.RTT.Max && got.RTT.Avg <= got.RTT.Max) {
				t.Errorf("implausible RTTs %+v", got.RTT)
			}
			if got.Jitter < 0 || got.Jitter > got.RTT.Max {
				t.Errorf("jitter %v with max RTT %v", got.Jitter, got.RTT.Max)
			}
			got.RTT, got.Jitter = latency.Stats{}, 0
			if got != tt.want {
				t.Errorf("stats\n got %+v\nwant %+v", got, tt.want)
			}
			if res.Interrupted || res.SendErrors != 0 || res.LastErr != nil || res.Unreachable != 0 {
				t.Errorf("interrupted %v, %d send errors, %d unreachable, last error %v",
					res.Interrupted, res.SendErrors, res.Unreachable, res.LastErr)
			}
			if res.Count != tt.opts.Count || res.RunID == 0 {
				t.Errorf("count %d run id %x", res.Count, res.RunID)
			}
		})
	}
}

// TestClient_Probe_Unpaced sends as fast as possible; the kernel may drop
// some datagrams when the socket buffers fill, so only the books must
// balance.
func TestClient_Probe_Unpaced(t *testing.T) {
	addr := startUDP(t, respond)
	c := &udpclient.Client{Addr: addr, Timeout: 500 * time.Millisecond}
	res, err := c.Probe(t.Context(), udpclient.ProbeOptions{Count: 2000, Connections: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 2000 || res.Received < 1 || res.Received+res.Lost != res.Sent || res.Duplicated+res.Corrupted+res.Foreign != 0 {
		t.Errorf("unbalanced stats %+v", res.Stats)
	}
}

func TestClient_Probe_ClosedPort(t *testing.T) {
	c := &udpclient.Client{Addr: addrtest.ClosedUDP(t), Timeout: shortTimeout}
	res, err := c.Probe(t.Context(), udpclient.ProbeOptions{Count: 10, Rate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 10 || res.Received != 0 || res.LossPercent != 100 || res.Unreachable == 0 {
		t.Errorf("stats %+v, %d unreachable", res.Stats, res.Unreachable)
	}
}

// TestClient_Probe_Interrupted cancels the run from the server once 50
// probes have arrived: sending stops, the replies on their way are still
// counted.
func TestClient_Probe_Interrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var seen, progress atomic.Int64
	addr := startUDP(t, func(b []byte, reply func([]byte)) {
		// Interrupt once 50 probes and one progress report are in, so a
		// loaded machine that delays the progress ticker cannot make the
		// run end before it reports.
		if seen.Add(1) >= 50 && progress.Load() > 0 {
			cancel()
		}
		respond(b, reply)
	})
	c := &udpclient.Client{Addr: addr, Timeout: 5 * time.Second}
	res, err := c.Probe(ctx, udpclient.ProbeOptions{
		Count: udpclient.MaxCount, Rate: 2000,
		Progress:         func(udpclient.Progress) { progress.Add(1) },
		ProgressInterval: time.Millisecond,
	})
	if !errors.Is(err, context.Canceled) || !res.Interrupted {
		t.Fatalf("error %v, interrupted %v; want context.Canceled", err, res.Interrupted)
	}
	if res.Sent < 50 || res.Sent > udpclient.MaxCount/2 || res.Received != res.Sent {
		t.Errorf("stats %+v", res.Stats)
	}
	// Every probe was answered, so the 5s wait ended early.
	if res.Duration > 4*time.Second {
		t.Errorf("run took %v", res.Duration)
	}
	if progress.Load() == 0 {
		t.Error("no progress reports")
	}
}

func TestClient_Probe_Errors(t *testing.T) {
	addr := startUDP(t, respond)
	tests := []struct {
		name    string
		addr    string
		opts    udpclient.ProbeOptions
		wantErr string
	}{
		{"count zero", addr, udpclient.ProbeOptions{}, "count 0 is not between 1 and 10000000"},
		{"count over", addr, udpclient.ProbeOptions{Count: udpclient.MaxCount + 1}, "count 10000001"},
		{"negative rate", addr, udpclient.ProbeOptions{Count: 1, Rate: -1}, "rate -1"},
		{"small", addr, udpclient.ProbeOptions{Count: 1, Size: probe.HeaderSize - 1}, "size 35"},
		{"large", addr, udpclient.ProbeOptions{Count: 1, Size: probe.MaxSize + 1}, "size 65508"},
		{"concurrency", addr, udpclient.ProbeOptions{Count: 1, Connections: udpclient.MaxConnections + 1}, "connections 257"},
		{"unresolvable", "127.0.0.1:notaport", udpclient.ProbeOptions{Count: 1}, "cannot resolve"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &udpclient.Client{Addr: tt.addr}
			if _, err := c.Probe(t.Context(), tt.opts); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestClient_Probe_ConcurrencyCutToCount(t *testing.T) {
	addr := startUDP(t, respond)
	c := &udpclient.Client{Addr: addr, Timeout: time.Second}
	res, err := c.Probe(t.Context(), udpclient.ProbeOptions{Count: 3, Connections: 8, Rate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if res.Connections != 3 || res.Received != 3 {
		t.Errorf("concurrency %d, received %d", res.Connections, res.Received)
	}
}

func TestResult_Write(t *testing.T) {
	res := udpclient.Result{
		Addr: "udp-responder:12345", RunID: 0xabc, Count: 1000, Size: 68, Connections: 1, Rate: 1000, Bitrate: 544e3, V2: true,
		Stats: udpclient.Stats{
			Sent: 1000, Received: 998, Lost: 2, LossPercent: 0.2,
			RTT:    latency.Stats{N: 998, Min: 101 * us, Avg: 180 * us, P50: 170 * us, P90: 230 * us, P99: 410 * us, P999: 1100 * us, Max: 1200 * us},
			Up:     udpclient.OneWay{Stats: latency.Stats{N: 998, Min: 40 * us, Avg: 81 * us, P50: 80 * us, P90: 101 * us, P99: 190 * us, P999: 510 * us, Max: 560 * us}},
			Down:   udpclient.OneWay{Stats: latency.Stats{N: 998, Min: 48 * us, Avg: 86 * us, P50: 84 * us, P90: 110 * us, P99: 200 * us, P999: 520 * us, Max: 600 * us}},
			Jitter: 21*us + 400,
		},
		Directions: &udpclient.Directions{ResponderReceived: 1000, Exact: true, Queries: 1, DownLost: 2, DownLossPercent: 0.2,
			ResponderKernelTimestamps: true},
		KernelTimestamps: true,
		Duration:         1500 * time.Millisecond, SendDuration: time.Second,
	}
	var text bytes.Buffer
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	want := `--- udp-responder:12345 probe statistics ---
1000 sent, 998 received, 2 lost (0.20% loss), 0 reordered, 0 duplicated, 0 corrupted
upstream 0 lost (0.00%), downstream 2 lost (0.20%): the responder received 1000
rtt min/avg/p50/p90/p99/p99.9/max = 101µs/180µs/170µs/230µs/410µs/1.1ms/1.2ms
up   min/avg/p50/p90/p99/p99.9/max = 40µs/81µs/80µs/101µs/190µs/510µs/560µs
down min/avg/p50/p90/p99/p99.9/max = 48µs/86µs/84µs/110µs/200µs/520µs/600µs
jitter (RFC 3550) = 21µs
bitrate 544.00 kbit/s sent, 542.91 kbit/s received (asked 544.00 kbit/s)
`
	if text.String() != want {
		t.Errorf("text\n%s\nwant\n%s", text.String(), want)
	}

	bad := udpclient.Result{Addr: "x:1", Count: 10, Size: 68, V2: true, Stats: udpclient.Stats{Sent: 4, Lost: 4, LossPercent: 100, Foreign: 2},
		Directions: &udpclient.Directions{Queries: 0, UpLost: 4}, Unreachable: 3, Interrupted: true}
	text.Reset()
	_ = bad.WriteText(&text)
	want = `--- x:1 probe statistics ---
4 sent, 0 received, 4 lost (100.00% loss), 0 reordered, 0 duplicated, 0 corrupted (interrupted after 4 of 10)
2 foreign, 3 port unreachable
upstream at most 4 lost, downstream at least 0: the responder's count did not come back after 0 queries; the highest a reply carried was 0
bitrate 0 bit/s sent, 0 bit/s received
`
	if text.String() != want {
		t.Errorf("text\n%s\nwant\n%s", text.String(), want)
	}

	swapped := udpclient.Result{Addr: "x:1", Count: 4, Size: 64, Stats: udpclient.Stats{Sent: 4, Received: 4, Reordered: 2, ReorderExtentMax: 3},
		SendDuration: time.Second}
	text.Reset()
	_ = swapped.WriteText(&text)
	want = `--- x:1 probe statistics ---
4 sent, 4 received, 0 lost (0.00% loss), 2 reordered (max extent 3), 0 duplicated, 0 corrupted
bitrate 2.05 kbit/s sent, 2.05 kbit/s received
note: version 1 probes (--size below 68): no per-direction loss or one-way delay
note: no kernel receive timestamps on the client: arrival times are read times
`
	if text.String() != want {
		t.Errorf("text\n%s\nwant\n%s", text.String(), want)
	}

	var js bytes.Buffer
	if err := res.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(js.Bytes(), &v); err != nil || bytes.Count(js.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("not one JSON object (%v): %s", err, js.String())
	}
	for key, want := range map[string]any{
		"mode": "probe", "run_id": "0000000000000abc", "probe_version": 2.0, "sent": 1000.0, "received": 998.0, "lost": 2.0,
		"loss_percent": 0.2, "reordered": 0.0, "reorder_extent_max": 0.0, "duplicated": 0.0, "corrupted": 0.0,
		"connections": 1.0, "jitter_ns": 21400.0, "jitter": "21µs", "bitrate": 544e3,
		"sent_bits_per_second": 544e3, "received_bits_per_second": 542912.0, "kernel_timestamps": true,
		"duration_ns": 1.5e9, "duration": "1.5s", "send_duration_ns": 1e9,
	} {
		if v[key] != want {
			t.Errorf("%s = %v, want %v", key, v[key], want)
		}
	}
	dir, _ := v["directions"].(map[string]any)
	for key, want := range map[string]any{
		"exact": true, "responder_received": 1000.0, "upstream_lost": 0.0, "downstream_lost": 2.0, "downstream_loss_percent": 0.2,
		"count_queries": 1.0, "clock_suspect": false, "responder_kernel_timestamps": true,
	} {
		if dir[key] != want {
			t.Errorf("directions.%s = %v, want %v (%s)", key, dir[key], want, js.String())
		}
	}
	if up, _ := dir["one_way_up"].(map[string]any); up["min_ns"] != 40000.0 {
		t.Errorf("one_way_up %v", dir["one_way_up"])
	}
	js.Reset()
	_ = swapped.WriteJSON(&js)
	if !strings.Contains(js.String(), `"probe_version":1,`) || !strings.Contains(js.String(), `"directions":null`) {
		t.Errorf("version 1 run: %s", js.String())
	}
}

func TestReply_Write(t *testing.T) {
	tests := []struct {
		received string
		want     string
	}{
		{"Hello, client!", "Received: Hello, client!\n"},
		{"héllo wörld", "Received: héllo wörld\n"},
		{"two\nlines", "Received: \"two\\nlines\"\n"},
		{"\xff\x00", "Received: \"\\xff\\x00\"\n"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := (udpclient.Reply{Received: []byte(tt.received)}).WriteText(&b); err != nil || b.String() != tt.want {
			t.Errorf("WriteText(%q) = %q, %v; want %q", tt.received, b.String(), err, tt.want)
		}
	}
	var b bytes.Buffer
	r := udpclient.Reply{Addr: "a:1", Sent: []byte("Hello, server!"), Received: []byte(greeting), Tries: 2, RTT: 1234567}
	_ = r.WriteJSON(&b)
	want := `{"mode":"message","addr":"a:1","sent":"Hello, server!","received":"Hello, client!","bytes_sent":14,"bytes_received":14,"tries":2,"rtt_ns":1234567,"rtt":"1.235ms"}` + "\n"
	if b.String() != want {
		t.Errorf("WriteJSON = %s, want %s", b.String(), want)
	}
}
