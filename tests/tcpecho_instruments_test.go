package tests_test

// tcp-echo-client's TCP figures against the kernel's own count: random
// loss on the client's flow to the server, a bulk transfer, and the
// retransmits the client reports beside the RetransSegs counter of its
// network namespace.

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/netlab/netlab/tests/e2e"
)

// TestTCPEcho_BulkRetransmitsMatchTheKernel drops 3% of the packets the
// client sends to tcp-echo and runs `tcp-echo-client --bulk 16MiB
// --parallel 2` in a network namespace of its own. The retransmits it
// reports (TCP_INFO's tcpi_total_retrans, summed over its streams) must
// equal the namespace's RetransSegs delta.
//
// The drop is in tcp-echo's namespace (INPUT, from the client's address
// only, so the shared stack's other users see no loss), not in the
// client's: a packet dropped on the sender's own OUTPUT path fails the
// send locally, and TCP sends the segment again as new data, never as a
// retransmission (tried: 33 packets dropped, 0 retransmits).
//
// Exact, not within a tolerance: the kernel adds to both counters at the
// same place (__tcp_retransmit_skb), the namespace holds no other socket
// that sends to a lossy path (its owner, an idle tcp-echo server, serves
// nothing; the rule matches only the flow to tcp-echo), and the client
// takes each stream's last reading after the server has closed in reply
// to its FIN, when nothing is left to retransmit. The one way they could
// differ is the client's FIN lost five times in a row (the wait for the
// server's close gives up after 5 s): about 2e-8 at 3% loss.
func TestTCPEcho_BulkRetransmitsMatchTheKernel(t *testing.T) {
	e2e.SkipShort(t)
	e2e.RequireNetTools(t)
	s := e2e.SharedStack(t)
	server := s.Service(e2e.TCPEcho).Container()
	ns := startNetnsOwner(t, s.Network)
	pid := e2e.Inspect(t, ns).State.Pid
	clientIP := e2e.ContainerIP(t, ns)

	rule := []string{"INPUT", "-p", "tcp", "-s", clientIP, "--dport", tcpEchoPort,
		"-m", "statistic", "--mode", "random", "--probability", "0.03", "-j", "DROP"}
	e2e.InNetns(t, server, append([]string{"iptables", "-I"}, rule...)...)
	e2e.UndoInNetns(t, server, append([]string{"iptables", "-D"}, rule...)...)

	before := e2e.TCPStat(t, pid, "RetransSegs")
	res := e2e.RunOneShot(t, e2e.Image(e2e.TCPEcho), e2e.NetnsClientOpts(ns.GetContainerID(), "/tcp-echo-client", nil,
		"--addr", e2e.ContainerAddr(t, server, tcpEchoPort), "--bulk", "16MiB", "--parallel", "2", "--timeout", "30s", "--json")...)
	after := e2e.TCPStat(t, pid, "RetransSegs")
	if res.ExitCode != 0 {
		t.Fatalf("tcp-echo-client: %s", res)
	}
	var out struct {
		Match   bool                         `json:"match"`
		TCP     *struct{ Retransmits int64 } `json:"tcp"`
		Streams []struct {
			TCP *struct{ Retransmits int64 } `json:"tcp"`
		} `json:"streams"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(res.Stdout)), &out); err != nil {
		t.Fatalf("client output: %v\n%s", err, res.Stdout)
	}
	if !out.Match || out.TCP == nil || len(out.Streams) != 2 || out.Streams[0].TCP == nil || out.Streams[1].TCP == nil {
		t.Fatalf("client result without a verified echo or TCP figures: %s", res.Stdout)
	}
	dropped := e2e.InputDrops(t, server, clientIP)
	kernel := after - before
	t.Logf("FIGURE retransmits tcp-echo loss=0.03 bytes=%d dropped_packets=%d client=%d streams=%d+%d netns_retranssegs=%d",
		2*16<<20, dropped, out.TCP.Retransmits, out.Streams[0].TCP.Retransmits, out.Streams[1].TCP.Retransmits, kernel)
	if dropped == 0 || kernel == 0 {
		t.Fatal("no retransmission in the client's namespace: the loss rule did not apply")
	}
	if sum := out.Streams[0].TCP.Retransmits + out.Streams[1].TCP.Retransmits; out.TCP.Retransmits != kernel || sum != kernel {
		t.Errorf("client reports %d retransmits (streams sum %d), the kernel counted %d in its namespace", out.TCP.Retransmits, sum, kernel)
	}
}

// startNetnsOwner runs an idle tcp-echo server on the network: a network
// namespace that outlives the one-shot client containers run inside it,
// so its counters can be read before and after them. Removed when t ends.
func startNetnsOwner(t *testing.T, networkName string) *testcontainers.DockerContainer {
	t.Helper()
	ctr, err := testcontainers.Run(t.Context(), e2e.Image(e2e.TCPEcho),
		testcontainers.WithLabels(map[string]string{e2e.ProjectLabel: "netlab"}),
		network.WithNetworkName(nil, networkName),
		testcontainers.WithWaitStrategy(wait.ForLog(`"msg":"ready"`)),
	)
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		t.Fatalf("start the client's network namespace: %v", err)
	}
	return ctr
}
