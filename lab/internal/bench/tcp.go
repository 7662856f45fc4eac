package bench

// The TCP workloads: bulk echo, small request/response, and iperf3's
// loopback ceiling; and the tcp-copy anchor they compare with.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"

	"github.com/netlab/netlab/lab/internal/proc"
)

// tcpEchoTargets are netlab's tcp-echo and the echo servers it competes with.
func (c Config) tcpEchoTargets() []Target {
	ts := []Target{
		c.netlabTarget("tcp-echo", "MAX_CONNS=20000"),
		c.toolTarget("go-copy", nil, func(addr string) []string { return c.serveArgs("tcp-copy", addr) }),
	}
	if fortio, ok := lookTool("fortio"); ok {
		ts = append(ts, c.toolTarget("fortio", nil, func(addr string) []string {
			return []string{fortio, "tcp-echo", "-loglevel", "Warning", "-tcp-port", addr}
		}))
	} else {
		ts = append(ts, missing("fortio", "make bench-tools: go install fortio.org/fortio@v1.68.2"))
	}
	if socat, ok := lookTool("socat"); ok {
		ts = append(ts, c.toolTarget("socat", nil, func(addr string) []string {
			return []string{socat, "TCP-LISTEN:" + portOf(addr) + ",bind=127.0.0.1,reuseaddr,fork,backlog=1024", "PIPE"}
		}))
	} else {
		ts = append(ts, missing("socat", "make bench-tools: apt-get install socat"))
	}
	return c.withContainer(ts, "tcp-echo", "65432", "MAX_CONNS=20000")
}

// TCPBulk streams a large payload over one connection and checks the echo.
func (c Config) TCPBulk() Workload {
	size := "1GiB"
	return Workload{
		Name: "tcp-bulk", Unit: "MB/s", OpUnit: "MB", Reference: "go-copy", Subject: "netlab",
		About:   "tcp-echo-client --bulk " + size + ": one connection, echo verified",
		Goals:   []Goal{{"go-copy", 1.0, Throughput}, {"fortio", 2.4, Throughput}},
		Targets: c.tcpEchoTargets(),
		Drive: func(ctx context.Context, addr string) (Sample, error) {
			var r struct {
				Bytes int64   `json:"bytes"`
				MBps  float64 `json:"mb_per_s"`
				Match bool    `json:"match"`
			}
			if err := runJSON(ctx, &r, filepath.Join(c.Bin, "tcp-echo-client"), "--addr", addr, "--bulk", size, "--json", "--timeout", "30s"); err != nil {
				return Sample{}, err
			}
			if !r.Match {
				return Sample{}, fmt.Errorf("echo did not match")
			}
			return Sample{Rate: r.MBps, Ops: float64(r.Bytes) / 1e6}, nil
		},
	}
}

// TCPRequestResponse is 64-byte request/response over conns connections.
func (c Config) TCPRequestResponse(conns int) Workload {
	return Workload{
		Name: fmt.Sprintf("tcp-rr-%d", conns), Unit: "ops/s", OpUnit: "op", Reference: "go-copy", Subject: "netlab",
		About:   fmt.Sprintf("tcp-echo-client --load: %d connections, 64 B request/response, one outstanding each", conns),
		Goals:   []Goal{{"go-copy", 1.0, Throughput}, {"go-copy", 1.0, ServerCPU}, {"fortio", 1.0, TailLatency}},
		Targets: c.tcpEchoTargets(),
		Drive: func(ctx context.Context, addr string) (Sample, error) {
			r, err := c.clientLoad(ctx, "tcp-echo-client", addr, conns)
			if err != nil {
				return Sample{}, err
			}
			return Sample{Rate: r.OpsPerSec, Ops: r.Ops, P50: r.Latency.P50, P99: r.Latency.P99}, nil
		},
	}
}

// LoopbackCeiling is iperf3's one-stream TCP throughput on loopback: what
// this machine can move at all, the ceiling for the bulk rows.
func (c Config) LoopbackCeiling() Workload {
	w := Workload{
		Name: "loopback-ceiling", Unit: "MB/s", OpUnit: "MB", Reference: "iperf3",
		About: fmt.Sprintf("iperf3 -c -t %s, one TCP stream: the loopback ceiling for the bulk rows", c.Duration),
	}
	iperf, ok := lookTool("iperf3")
	if !ok {
		w.Targets = []Target{missing("iperf3", "make bench-tools: apt-get install iperf3")}
		return w
	}
	// iperf3 takes any connection as a test: wait for its socket, not
	// for a connection.
	listening := func(addr string) func(context.Context) error {
		p, _ := strconv.Atoi(portOf(addr))
		return proc.WaitListening(p)
	}
	w.Targets = []Target{c.toolTarget("iperf3", listening, func(addr string) []string {
		return []string{iperf, "-s", "-B", "127.0.0.1", "-p", portOf(addr)}
	})}
	w.Drive = func(ctx context.Context, addr string) (Sample, error) {
		var r struct {
			End struct {
				Received struct {
					Bytes float64 `json:"bytes"`
					BPS   float64 `json:"bits_per_second"`
				} `json:"sum_received"`
			} `json:"end"`
		}
		secs := strconv.Itoa(max(1, int(c.Duration.Seconds())))
		if err := runJSON(ctx, &r, iperf, "-c", "127.0.0.1", "-p", portOf(addr), "-t", secs, "-J"); err != nil {
			return Sample{}, err
		}
		return Sample{Rate: r.End.Received.BPS / 8 / 1e6, Ops: r.End.Received.Bytes / 1e6}, nil
	}
	return w
}

// serveTCPCopy is the tcp-copy anchor: io.Copy on each connection.
func serveTCPCopy(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go func() {
			defer c.Close()
			_, _ = io.Copy(c, c)
		}()
	}
}
