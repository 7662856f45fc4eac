package bench

// The UDP workload: small request/reply over several sockets; and the Go
// and Python echo anchors it compares with.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// UDPRequestReply is 64-byte request/reply with K sockets, one request
// outstanding per socket.
func (c Config) UDPRequestReply(sockets int) Workload {
	w := Workload{
		Name: fmt.Sprintf("udp-rr-%d", sockets), Unit: "replies/s", OpUnit: "reply", Reference: "go", Subject: "netlab",
		About: fmt.Sprintf("udp-client --load: %d sockets, 64 B probes, one outstanding each", sockets),
		Goals: []Goal{{"python", 1.3, Throughput}, {"python", 0.5, ServerCPU}},
	}
	echoReady := func(addr string) func(context.Context) error {
		return func(ctx context.Context) error { return udpEchoReady(ctx, addr) }
	}
	w.Targets = []Target{
		// The per-source limit protects a shared stack; a benchmark from
		// one source would only measure it.
		c.netlabTarget("udp-responder", "RATE_LIMIT=10000000", "RATE_BURST=1000000"),
		c.toolTarget("go", echoReady, func(addr string) []string { return c.serveArgs("udp-echo", addr) }),
	}
	if py, ok := lookTool("python3"); ok {
		script := filepath.Join(c.WorkDir, "udp_echo.py")
		w.Targets = append(w.Targets, c.toolTarget("python", echoReady, func(addr string) []string {
			_ = os.WriteFile(script, []byte(pythonUDPEcho), 0o644)
			return []string{py, script, portOf(addr)}
		}))
	} else {
		w.Targets = append(w.Targets, missing("python", "install python3"))
	}
	if fortio, ok := lookTool("fortio"); ok {
		w.Targets = append(w.Targets, c.toolTarget("fortio", echoReady, func(addr string) []string {
			return []string{fortio, "udp-echo", "-loglevel", "Warning", "-udp-port", addr}
		}))
	} else {
		w.Targets = append(w.Targets, missing("fortio", "make bench-tools: go install fortio.org/fortio@v1.68.2"))
	}
	w.Targets = c.withContainer(w.Targets, "udp-responder", "12345", "RATE_LIMIT=10000000", "RATE_BURST=1000000")
	w.Drive = func(ctx context.Context, addr string) (Sample, error) {
		r, err := c.clientLoad(ctx, "udp-client", addr, sockets)
		if err != nil {
			return Sample{}, err
		}
		return Sample{Rate: r.RPS, Ops: r.Received, P50: r.Latency.P50, P99: r.Latency.P99}, nil
	}
	return w
}

// pythonUDPEcho is the tutorial's UDP server: recvfrom, sendto, in one loop.
const pythonUDPEcho = `import socket, sys
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.bind(("127.0.0.1", int(sys.argv[1])))
    while True:
        data, addr = s.recvfrom(4096)
        s.sendto(data, addr)
`

// udpEchoReady waits until a datagram sent to addr comes back.
func udpEchoReady(ctx context.Context, addr string) error {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 64)
	for ctx.Err() == nil {
		_, _ = c.Write([]byte("ready?"))
		_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := c.Read(buf); err == nil {
			return nil
		}
	}
	return ctx.Err()
}

// serveUDPEcho is the udp-echo anchor: the Go twin of pythonUDPEcho.
func serveUDPEcho(ctx context.Context, addr string) error {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); pc.Close() }()
	buf := make([]byte, 65536)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			continue
		}
		_, _ = pc.WriteTo(buf[:n], from)
	}
}
