package responder_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/promset/promsettest"
	"github.com/netlab/netlab/services/udp-responder/probe"
)

// bothIOPaths runs check against a responder on each I/O path (one
// datagram at a time, and batches of 32), with a client socket.
func bothIOPaths(t *testing.T, check func(t *testing.T, c *net.UDPConn)) {
	for _, batch := range []int{1, 32} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			cfg := testConfig()
			cfg.BatchSize = batch
			check(t, start(t, cfg).client(t, "127.0.0.1"))
		})
	}
}

func newProbeV2(tb testing.TB, p probe.Probe, size int) []byte {
	tb.Helper()
	p.V2 = true
	b := make([]byte, size)
	if err := probe.Encode(b, p); err != nil {
		tb.Fatal(err)
	}
	return b
}

// A version 1 client gets exactly what it always got: its probe back, byte
// for byte, with the reply flag set — on both I/O paths.
func TestServer_V1ClientsGetV1Replies(t *testing.T) {
	bothIOPaths(t, func(t *testing.T, c *net.UDPConn) {
		for _, size := range []int{probe.HeaderSize, 64, probe.HeaderSizeV2, 200} {
			req := newProbe(t, uint64(size), size) // the version 1 encoder
			send(t, c, req)
			got := receive(t, c)
			want := bytes.Clone(req)
			want[5] |= probe.FlagReply
			if !bytes.Equal(got, want) {
				t.Fatalf("size %d: reply differs from the request with the reply flag set:\n got % x\nwant % x", size, got, want)
			}
			if p, err := probe.Parse(got); err != nil || p.V2 || p.Responder.Filled {
				t.Fatalf("size %d: reply parses as %+v, %v", size, p, err)
			}
		}
	})
}

// A version 2 run: each reply carries the run's count so far, a receive
// time between the client's send and receive, a send time after it, and
// (on Linux) says the receive time is the kernel's. A count query answers
// the count without adding to it; a query for another run says it is
// unknown.
func TestServer_V2RepliesCarryCountsAndTimes(t *testing.T) {
	bothIOPaths(t, func(t *testing.T, c *net.UDPConn) {
		for seq := range uint64(5) {
			before := time.Now().UnixNano()
			send(t, c, newProbeV2(t, probe.Probe{RunID: 77, Seq: seq, SentUnix: before}, 100))
			got := receive(t, c)
			after := time.Now().UnixNano()
			p, err := probe.Parse(got)
			rs := p.Responder
			if err != nil || !p.Reply || !p.V2 || p.Seq != seq || len(got) != 100 || !rs.Filled || rs.Count != seq+1 {
				t.Fatalf("reply %d: %+v, %v (%d bytes)", seq, p, err, len(got))
			}
			if rs.RecvUnix < before || rs.SendUnix < rs.RecvUnix || rs.SendUnix > after || !rs.KernelRecv || rs.NotCounted || rs.UnknownRun {
				t.Fatalf("reply %d: sent %d, responder %+v, received %d", seq, before, rs, after)
			}
		}
		for i := range 2 {
			send(t, c, newProbeV2(t, probe.Probe{RunID: 77, Seq: 1 << 40, Query: true}, probe.HeaderSizeV2))
			p, err := probe.Parse(receive(t, c))
			if err != nil || !p.Query || !p.Reply || p.Responder.Count != 5 || p.Responder.UnknownRun {
				t.Fatalf("query %d: %+v, %v; want count 5", i, p, err)
			}
		}
		send(t, c, newProbeV2(t, probe.Probe{RunID: 78, Query: true}, probe.HeaderSizeV2))
		if p, err := probe.Parse(receive(t, c)); err != nil || !p.Responder.Filled || !p.Responder.UnknownRun || p.Responder.Count != 0 {
			t.Fatalf("query for an unknown run: %+v, %v", p, err)
		}
	})
}

// A run is its source address and run id: the same id from another
// address is another run.
func TestServer_V2CountsRunsPerSource(t *testing.T) {
	r := start(t, testConfig())
	a, b := r.client(t, "127.0.0.1"), r.client(t, "127.0.0.2")
	for i, c := range []*net.UDPConn{a, a, b} {
		send(t, c, newProbeV2(t, probe.Probe{RunID: 5, Seq: uint64(i)}, probe.HeaderSizeV2))
		p, _ := probe.Parse(receive(t, c))
		if want := []uint64{1, 2, 1}[i]; p.Responder.Count != want {
			t.Fatalf("datagram %d: count %d, want %d", i, p.Responder.Count, want)
		}
	}
}

// A damaged v2 request goes back as it came (reply flag set, section
// empty), so the client sees the damage; it is not counted.
func TestServer_V2DamagedRequestIsEchoedUntouched(t *testing.T) {
	r := start(t, testConfig())
	c := r.client(t, "127.0.0.1")
	req := newProbeV2(t, probe.Probe{RunID: 9, Seq: 1}, 100)
	req[90] ^= 0xff
	send(t, c, req)
	got := receive(t, c)
	want := bytes.Clone(req)
	want[5] |= probe.FlagReply
	if !bytes.Equal(got, want) {
		t.Fatalf("damaged request came back changed:\n got % x\nwant % x", got, want)
	}
	if _, err := probe.Parse(got); !errors.Is(err, probe.ErrChecksum) {
		t.Fatalf("Parse of the reply: %v, want ErrChecksum", err)
	}
	send(t, c, newProbeV2(t, probe.Probe{RunID: 9, Query: true}, probe.HeaderSizeV2))
	if p, _ := probe.Parse(receive(t, c)); !p.Responder.UnknownRun {
		t.Fatalf("the damaged request was counted: %+v", p.Responder)
	}
}

// With the run table full, a new run is answered, not counted, and says
// so; the runs already counted go on.
func TestServer_V2RunTableIsBounded(t *testing.T) {
	cfg := testConfig()
	cfg.ProbeRuns = 16 // one run per shard; runs 3 and 19 share one
	r := start(t, cfg)
	c := r.client(t, "127.0.0.1")
	count := func(id uint64) probe.Responder {
		t.Helper()
		send(t, c, newProbeV2(t, probe.Probe{RunID: id}, probe.HeaderSizeV2))
		p, err := probe.Parse(receive(t, c))
		if err != nil || !p.Responder.Filled {
			t.Fatalf("run %d: %+v, %v", id, p, err)
		}
		return p.Responder
	}
	if got := count(3); got.Count != 1 || got.NotCounted {
		t.Fatalf("first run: %+v", got)
	}
	if got := count(19); got.Count != 0 || !got.NotCounted {
		t.Fatalf("run over the bound: %+v, want not counted", got)
	}
	if got := count(3); got.Count != 2 {
		t.Fatalf("first run after the refusal: %+v, want count 2", got)
	}
	if got := promsettest.Value(t, r.reg, "netlab_udp_responder_probe_runs_refused_total"); got != 1 {
		t.Errorf("probe_runs_refused_total = %v, want 1", got)
	}
	if got := promsettest.Value(t, r.reg, "netlab_udp_responder_probe_runs"); got != 1 {
		t.Errorf("probe_runs = %v, want 1", got)
	}
}
