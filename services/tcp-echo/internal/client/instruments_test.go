package client_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/clientcli/clitest"
	"github.com/netlab/netlab/services/platform/tcpinfo"
	"github.com/netlab/netlab/services/tcp-echo/internal/client"
)

// --parallel: every stream moves the whole size on its own connection,
// and the totals are the streams' sums.
func TestBulk_ParallelFiguresAddUp(t *testing.T) {
	const size, streams = 1 << 20, 4
	c := &client.Client{Addr: startServer(t, echo)}
	res, err := c.Bulk(t.Context(), client.BulkOptions{Size: size, Parallel: streams})
	if err != nil {
		t.Fatal(err)
	}
	var sent, echoed, retr int64
	var longest time.Duration
	for i, st := range res.Streams {
		if !st.Match || st.Echoed != size || st.Sent != size || st.Err != nil || st.Duration <= 0 {
			t.Errorf("stream %d: %+v", i+1, st)
		}
		sent += st.Sent
		echoed += st.Echoed
		longest = max(longest, st.Duration)
		if st.TCP != nil {
			retr += st.TCP.Retransmits
		}
	}
	if len(res.Streams) != streams || res.Parallel != streams || !res.Match || res.Sent != sent || res.Echoed != echoed ||
		echoed != streams*size || res.Duration != longest {
		t.Errorf("result %+v: want %d streams adding up to %d bytes over %v", res, streams, streams*size, longest)
	}
	if tcpinfo.Supported && (res.TCP == nil || res.TCP.Connections != streams || res.TCP.Retransmits != retr) {
		t.Errorf("tcp %+v, want the %d streams' %d retransmits summed", res.TCP, streams, retr)
	}

	var v struct {
		Bytes       int64 `json:"bytes"`
		StreamBytes int64 `json:"stream_bytes"`
		Echoed      int64 `json:"echoed"`
		Parallel    int   `json:"parallel"`
		Streams     []struct {
			Echoed int64 `json:"echoed"`
		} `json:"streams"`
	}
	stdout := clitest.RunObject(t, client.Main, 0, &v, "--addr", c.Addr, "--json", "--bulk", "1MiB", "--parallel", "4")
	if v.Bytes != 4<<20 || v.StreamBytes != 1<<20 || v.Echoed != 4<<20 || v.Parallel != 4 || len(v.Streams) != 4 || v.Streams[3].Echoed != 1<<20 {
		t.Errorf("JSON %s", stdout)
	}
}

// On Linux, load and bulk runs read TCP_INFO: on loopback with one small
// message in flight per connection nothing is retransmitted, and the
// window and RTT are measured. Elsewhere there are no TCP figures.
func TestClient_ReadsTCPInfo(t *testing.T) {
	c := &client.Client{Addr: startServer(t, echo)}
	load, err := c.Load(t.Context(), client.LoadOptions{Connections: 2, Size: 64, Count: 200})
	if err != nil {
		t.Fatal(err)
	}
	bulk, err := c.Bulk(t.Context(), client.BulkOptions{Size: 1 << 20, Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !tcpinfo.Supported {
		if load.TCP != nil || bulk.TCP != nil || bulk.Streams[0].TCP != nil {
			t.Errorf("TCP figures on a system without TCP_INFO: %+v %+v", load.TCP, bulk.TCP)
		}
		t.Skip("no TCP_INFO here")
	}
	if l := load.TCP; l == nil || l.Connections != 2 || l.Retransmits != 0 || l.Cwnd <= 0 || l.RTT <= 0 {
		t.Errorf("load tcp %+v: want 2 connections, no retransmits, a window and an RTT", l)
	}
	// A bulk transfer on a busy machine may see spurious tail-loss probes
	// even on loopback: only the readings are required here.
	for i, st := range bulk.Streams {
		if st.TCP == nil || st.TCP.Cwnd <= 0 || st.TCP.RTT <= 0 || st.TCP.Retransmits < 0 {
			t.Errorf("bulk stream %d tcp %+v", i+1, st.TCP)
		}
	}

	stdout, _ := clitest.MustRun(t, client.Main, 0, "--addr", c.Addr, "--load", "--count", "50", "--connections", "2")
	if !strings.Contains(stdout, "\ntcp retr 0 cwnd ") || !strings.Contains(stdout, " (2 conns: cwnd, rtt mean; retr, rate sum)\n0 errors") {
		t.Errorf("text summary:\n%s", stdout)
	}
}

// The per-interval TCP figures: each interval has the retransmits of that
// interval, and they add up to the run's.
func TestMain_ReportIntervalTCP(t *testing.T) {
	if !tcpinfo.Supported {
		t.Skip("no TCP_INFO here")
	}
	addr := startServer(t, echo)
	for _, args := range [][]string{
		{"--bulk", "32MiB", "--parallel", "3", "--report-interval", "10ms"},
		{"--load", "--connections", "3", "--duration", "300ms", "--report-interval", "50ms"},
	} {
		stdout, _ := clitest.MustRun(t, client.Main, 0, append([]string{"--addr", addr, "--json"}, args...)...)
		r := clitest.ParseReport(t, stdout)
		var summary struct {
			TCP    *clientcli.TCPJSON `json:"tcp"`
			Echoed int64              `json:"echoed"`
		}
		if err := json.Unmarshal(r.Summary, &summary); err != nil || summary.TCP == nil {
			t.Fatalf("%v: summary %s (%v)", args, r.Summary, err)
		}
		var retr int64
		for _, iv := range r.Intervals {
			if iv.TCP == nil || iv.TCP.Connections != 3 || iv.TCP.Cwnd <= 0 || iv.TCP.RTTNs <= 0 {
				t.Fatalf("%v: interval without TCP figures: %+v", args, iv)
			}
			if args[0] == "--bulk" && len(iv.TCP.Conns) != 3 {
				t.Errorf("%v: interval tcp %+v: want each stream's figures", args, iv.TCP)
			}
			retr += iv.TCP.Retransmits
		}
		if len(r.Intervals) < 2 || retr != summary.TCP.Retransmits {
			t.Errorf("%v: %d intervals with %d retransmits, the run %d", args, len(r.Intervals), retr, summary.TCP.Retransmits)
		}
	}
}

// --save records load and bulk runs in the shared format; --save - puts
// the record alone on standard output and the report on standard error.
func TestMain_Save(t *testing.T) {
	addr := startServer(t, echo)
	path := filepath.Join(t.TempDir(), "run.json")
	stdout, _ := clitest.MustRun(t, client.Main, 0, "--addr", addr, "--load", "--count", "40", "--connections", "2",
		"--save", path, "--label", "forty")
	if !strings.Contains(stdout, "\n40 round trips, ") {
		t.Fatalf("stdout %q", stdout)
	}
	rec := clitest.ReadRecordFile(t, path)
	if rec.Client != "tcp-echo-client" || rec.Label != "forty" || rec.Summary.Mode != "load" || rec.Summary.Target != addr ||
		rec.Summary.Ops != 40 || rec.Summary.Bytes != 40*64 || rec.Histogram == nil || rec.Histogram.N != 40 ||
		rec.Schedule != nil || !strings.Contains(string(rec.Result), `"ops":40`) {
		t.Errorf("record %+v", rec)
	}

	rec, stderr := clitest.RunSaved(t, client.Main, "--addr", addr, "--load", "--rate", "400", "--duration", "200ms", "--save", "-")
	if !strings.Contains(stderr, "\nschedule rate 400/s asked") || rec.Schedule == nil || rec.Schedule.TargetRate != 400 ||
		rec.Schedule.Started != rec.Summary.Ops || len(rec.Intervals) == 0 || rec.Summary.Latency.N != rec.Summary.Ops {
		t.Errorf("open-loop record from stdout %+v, report %q", rec, stderr)
	}

	rec, stderr = clitest.RunSaved(t, client.Main, "--addr", addr, "--bulk", "1MiB", "--parallel", "2", "--save", "-", "--json")
	if !strings.Contains(stderr, `"mode":"bulk"`) || rec.Summary.Mode != "bulk" || rec.Summary.Ops != 0 || rec.Summary.Bytes != 2<<20 ||
		rec.Histogram != nil || rec.Summary.BitsPerSecond <= 0 || !strings.Contains(string(rec.Result), `"parallel":2`) {
		t.Errorf("bulk record %+v, report %q", rec, stderr)
	}
}
