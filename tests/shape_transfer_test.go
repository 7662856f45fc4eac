package tests_test

// netlab shape against whole transfers: TCP under loss (it completes,
// and the retransmits the client counts are the kernel's), a peer-to-peer
// download under a rate cap, and a shape that reverts by itself (--for)
// leaving nothing behind, while only the shaper holds a capability.

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/tests/e2e"
)

// TestShape_TCPUnderLossRetransmits drops p % of the packets tcp-echo
// receives (netlab shape --loss p% --direction ingress) and runs a bulk
// echo from a client in a network namespace of its own: every byte comes
// back, and the client reports retransmits (TCP_INFO's
// tcpi_total_retrans), as many as the namespace's RetransSegs counter
// grew by.
//
// Ingress on the server: its drops are silent, so the client's segments
// are lost on the way and TCP sends them again. (A drop on the sender's
// own egress fails the send locally, and TCP sends that data again as
// new data, not as a retransmission; see tcpecho_instruments_test.go.)
//
// The sizes make a transfer with no drop unlikely: ingress sees the
// segments GRO merged, up to 64 KiB each, so 64 MiB at 1 % is at least
// 1,024 packets that each escape with 0.99 (all of them: 3e-5), and 8 MiB
// at 10 % at least 128 (0.9^128: 1e-6). (8 MiB at 1 % was 128 packets,
// and went through without a drop about one time in four.)
//
// Exact, not within a tolerance, for the reasons the instruments test
// gives: both counters are added to at one place in the kernel, and the
// client's namespace holds no other socket that sends. They could differ
// only if the client's FIN were lost five times in a row within the 5 s
// the client waits for the server's close: p⁵, 1e-10 at 1 % and 1e-5 at
// 10 %.
func TestShape_TCPUnderLossRetransmits(t *testing.T) {
	e2e.RequireShaper(t)
	s := e2e.NewStack(t, e2e.StackConfig{Services: []string{e2e.TCPEcho}})
	s.ResetOnCleanup(t)
	server := s.Service(e2e.TCPEcho).Container()
	ns := startNetnsOwner(t, s.Network)
	pid := e2e.Inspect(t, ns).State.Pid
	// Reading another namespace's counters needs root; the client's own
	// figures are checked either way.
	_, statErr := os.ReadFile(fmt.Sprintf("/proc/%d/net/snmp", pid))

	for _, tc := range []struct {
		loss float64
		size string
	}{{1, "64MiB"}, {10, "8MiB"}} {
		t.Run(fmt.Sprintf("loss %g%%: bulk %s completes with retransmits", tc.loss, tc.size), func(t *testing.T) {
			out := netlabOK(t, s, "shape", "tcp-echo", "--loss", fmt.Sprintf("%g%%", tc.loss), "--direction", "ingress")
			if !strings.Contains(out, fmt.Sprintf("loss %g%% ingress: ", tc.loss)) {
				t.Errorf("output does not name the loss:\n%s", out)
			}
			var before int64
			if statErr == nil {
				before = e2e.TCPStat(t, pid, "RetransSegs")
			}
			start := time.Now()
			res := e2e.RunOneShot(t, e2e.Image(e2e.TCPEcho), e2e.NetnsClientOpts(ns.GetContainerID(), "/tcp-echo-client", nil,
				"--addr", e2e.ContainerAddr(t, server, tcpEchoPort), "--bulk", tc.size, "--timeout", "60s", "--json")...)
			took := time.Since(start)
			if res.ExitCode != 0 {
				t.Fatalf("tcp-echo-client: %s", res)
			}
			var got struct {
				Match  bool    `json:"match"`
				Bytes  int64   `json:"bytes"`
				Echoed int64   `json:"echoed"`
				Mbit   float64 `json:"mbit_per_s"`
				TCP    *struct {
					Retransmits int64
				} `json:"tcp"`
			}
			if err := json.Unmarshal([]byte(strings.TrimSpace(res.Stdout)), &got); err != nil {
				t.Fatalf("client output: %v\n%s", err, res.Stdout)
			}
			if !got.Match || got.Echoed != got.Bytes || got.Bytes == 0 || got.TCP == nil {
				t.Fatalf("bulk %s under %g%% loss: %d of %d bytes echoed, matching %v, TCP figures %v:\n%s",
					tc.size, tc.loss, got.Echoed, got.Bytes, got.Match, got.TCP != nil, res.Stdout)
			}
			if got.TCP.Retransmits == 0 {
				t.Errorf("the client counted no retransmit under %g%% loss", tc.loss)
			}
			kernel := int64(-1)
			if statErr == nil {
				kernel = e2e.TCPStat(t, pid, "RetransSegs") - before
				if got.TCP.Retransmits != kernel {
					t.Errorf("the client reports %d retransmits, its namespace counted %d", got.TCP.Retransmits, kernel)
				}
			} else {
				t.Logf("cannot read the client namespace's counters (%v): checked the client's figures only", statErr)
			}
			// The drop rule's counter, for the record: ingress sees the
			// packets GRO merged, so one drop may cost many segments.
			netlabOK(t, s, "shape", "tcp-echo", "--show")
			t.Logf("FIGURE shape-tcp-loss loss=%g%% bulk=%s match=%v retransmits=%d netns_retranssegs=%d mbit=%.1f took=%s",
				tc.loss, tc.size, got.Match, got.TCP.Retransmits, kernel, got.Mbit, took.Round(100*time.Millisecond))
		})
	}
}

// TestShape_PeerTransferUnderRate caps a peer-to-peer download at
// 20 Mbit/s with netlab shape, first on the sending node's egress, then
// on the receiving node's ingress (through the ifb device), and takes the
// rate from the receiving node's API: size over the download's elapsed
// time, as peerctl reports it.
//
// Tolerance: at most 10 % below the cap, at most 5 % above it. tbf
// counts whole frames, and the Ethernet, IP and TCP headers of a full
// segment (66–78 of 1514 bytes) take about 5 % of the cap; the peer
// protocol's piece frames and requests, and the download's start
// (asking for the first pieces) are in the elapsed time too: all of that
// lowers the figure. Above the cap only the bucket's burst could pass
// (10 ms at the rate, 25 kB, under 0.5 % of an 8 MiB file).
func TestShape_PeerTransferUnderRate(t *testing.T) {
	e2e.RequireShaper(t)
	s := e2e.NewStack(t, e2e.StackConfig{Services: []string{e2e.Peer}, Replicas: map[string]int{e2e.Peer: 2}})
	s.ResetOnCleanup(t)
	nodes := e2e.PeerNodes(t, s.Service(e2e.Peer))
	src, dst := nodes[0], nodes[1] // peer-1 sends, peer-2 receives

	for _, tc := range []struct {
		name, target string
		args         []string
	}{
		{"sender egress", "peer-1", nil},
		{"receiver ingress", "peer-2", []string{"--direction", "ingress"}},
	} {
		t.Run("rate 20mbit on the "+tc.name, func(t *testing.T) {
			src.Use(t)
			dst.Use(t)
			file := strings.ReplaceAll(tc.name, " ", "-") + ".bin"
			data, sum := randomBytes(t, 8<<20)
			id := src.Put(file, data)
			dst.WaitInSwarm(id, 1)

			netlabOK(t, s, "reset") // the earlier subtest's shape
			out := netlabOK(t, s, append([]string{"shape", tc.target, "--rate", "20mbit"}, tc.args...)...)
			if !strings.Contains(out, "rate 20mbit") || !strings.Contains(out, ": tbf") {
				t.Errorf("output does not name the rate and its mechanism (tbf):\n%s", out)
			}
			dst.StartDownload(id)
			d := dst.WaitComplete(id)
			dst.RequireFile(file, sum)
			if d.Elapsed <= 0 || d.Bytes != d.Size {
				t.Fatalf("download: %d of %d bytes in %gs", d.Bytes, d.Size, d.Elapsed)
			}
			mbit := float64(d.Size) * 8 / d.Elapsed / 1e6
			t.Logf("FIGURE shape-peer-rate where=%q cap=20mbit bytes=%d elapsed=%.2fs mbit=%.2f", tc.name, d.Size, d.Elapsed, mbit)
			within(t, "peer download Mbit/s under a 20 Mbit/s cap", mbit, 20*0.90, 20*1.05)
		})
	}
}

// TestShape_ForRevertsAndLeavesNothing applies a shape for a few seconds
// on the shared stack. While it holds, its sidecar is the one container
// with a capability (NET_ADMIN alone, as uid 0) and every service
// container holds none; when the time is up, the shape is gone and so is
// the sidecar: no exited container is left behind.
func TestShape_ForRevertsAndLeavesNothing(t *testing.T) {
	e2e.RequireShaper(t)
	s := e2e.SharedStack(t)
	s.ResetOnCleanup(t)
	const forD = 10 * time.Second

	applied := time.Now()
	out := netlabOK(t, s, "shape", "tcp-echo", "--loss", "1%", "--for", forD.String())
	if !strings.Contains(out, "reverts after "+forD.String()) {
		t.Errorf("output does not say when the shape reverts:\n%s", out)
	}
	if left := e2e.ShaperContainers(t, s.Name); len(left) != 1 {
		t.Fatalf("want the --for sidecar alone, got shaper containers %v", left)
	}
	e2e.AssertOnlyShaperPrivileged(t, s.Name, 1)
	if shown := netlabOK(t, s, "shape", "tcp-echo", "--show"); !strings.Contains(shown, "loss 1% egress: nft numgen") ||
		!strings.Contains(shown, "reverts by itself at ") {
		t.Errorf("--show does not read back the loss and when it reverts:\n%s", shown)
	}
	if time.Since(applied) >= forD {
		t.Fatalf("the checks took %s, longer than --for %s: the sidecar was not seen while it ran", time.Since(applied), forD)
	}

	// Gone within 10 s of its time: the sidecar's reset and Docker's
	// removal of it take about a second.
	err := e2e.Poll(t.Context(), time.Until(applied.Add(forD+10*time.Second)), 200*time.Millisecond, func() error {
		if left := e2e.ShaperContainers(t, s.Name); len(left) > 0 {
			return fmt.Errorf("shaper containers still there: %v", left)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("FIGURE shape-for for=%s gone_after=%s", forD, time.Since(applied).Round(100*time.Millisecond))
	assertNothingLeft(t, s, e2e.TCPEcho)
}
