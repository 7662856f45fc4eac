package tests_test

// udp-responder's faults on the real compose stack: a crash, random loss,
// SIGTERM under load. Probes go from the test process (or a client
// container) straight to the container's address on the compose network.

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/tests/e2e"
)

// TestUDPResponder_Faults runs udp-responder's faults on a stack of its
// own: a crash, random loss injected with iptables, then SIGTERM under load
// (which stops it). Its subtests run in order.
func TestUDPResponder_Faults(t *testing.T) {
	s := e2e.NewStack(t, e2e.StackConfig{Services: []string{e2e.UDPResponder}})

	// restart: on-failure: a crash (exit 137) is a failure.
	runCrashRecovers(t, s.Service(e2e.UDPResponder), func(t *testing.T) { expectGreeting(t, s) })

	t.Run("client reports the loss injected with iptables statistic", func(t *testing.T) {
		e2e.RequireNetTools(t)
		testUDPLossMeasured(t, s)
	})

	t.Run("SIGTERM under load leaves no received datagram unanswered", func(t *testing.T) {
		testUDPSIGTERMUnderLoad(t, s.Service(e2e.UDPResponder))
	})
}

// testUDPLossMeasured drops each request on its way into the responder
// with probability p (iptables statistic, in the container's network
// namespace; replies pass) and checks that udp-client's reported loss is
// the rule's drop count exactly, and within 4 binomial standard deviations
// of p*N.
func testUDPLossMeasured(t *testing.T, s *e2e.Stack) {
	const (
		count = 2000
		p     = 0.2
	)
	udp := s.Service(e2e.UDPResponder)
	ctr := udp.Container()
	// Only datagrams arriving on eth0: the healthcheck's probe comes over
	// loopback and must not fail because of the test.
	rule := []string{"INPUT", "-i", "eth0", "-p", "udp", "--dport", fmt.Sprint(udpPort),
		"-m", "statistic", "--mode", "random", "--probability", fmt.Sprint(p), "-j", "DROP"}
	e2e.InNetns(t, ctr, append([]string{"iptables", "-A"}, rule...)...)
	e2e.UndoInNetns(t, ctr, append([]string{"iptables", "-D"}, rule...)...)

	// 1000/s is half the per-source RATE_LIMIT: no drop is the limiter's.
	rep, res, err := probeRun(t, s, "--count", fmt.Sprint(count), "--rate", "1000", "--timeout", "2s")
	if err != nil {
		t.Fatal(err)
	}
	drops := e2e.InputDrops(t, ctr, "statistic")
	mean := p * count
	sigma := math.Sqrt(count * p * (1 - p))
	t.Logf("FIGURE loss udp-responder injected=%.2f sent=%d received=%d lost=%d loss=%.4f rule_drops=%d expected=%.0f sigma=%.1f",
		p, rep.Sent, rep.Received, rep.Lost, float64(rep.Lost)/float64(rep.Sent), drops, mean, sigma)
	if rep.Sent != count || rep.Corrupted != 0 || rep.Duplicated != 0 {
		t.Fatalf("sent %d corrupted %d duplicated %d, want %d, 0, 0\n%s", rep.Sent, rep.Corrupted, rep.Duplicated, count, res)
	}
	// Every datagram the rule dropped is one the client counts lost, and
	// no other was lost — but for the count queries it sent at the end,
	// all of which the rule dropped except the one answered.
	if q := rep.countQueries(); rep.Lost+max(q-1, 0) != drops {
		t.Errorf("client lost %d probes (and sent %d count queries), the iptables rule dropped %d: the client's loss count is wrong", rep.Lost, q, drops)
	}
	if d := float64(rep.Lost) - mean; d > 4*sigma || d < -4*sigma {
		t.Errorf("lost %d of %d, want %.0f ± %.0f (4 sigma of a binomial with p=%.2f)", rep.Lost, count, mean, 4*sigma, p)
	}
}

// testUDPSIGTERMUnderLoad sends numbered probes from the host at 1000/s,
// sends SIGTERM after 1.5 s and keeps sending until the server has exited.
//
// What udp-responder promises: a datagram it has read is answered, even
// when shutdown starts; what it has not read when its sockets close is
// gone (UDP has nothing to drain). From outside, with one client socket
// (one source address, so the kernel hands every probe to the same server
// socket, in order):
//   - answered: the reply came back, byte for byte the probe with the reply
//     flag set;
//   - unread: no reply, and no later probe was answered either: it arrived
//     after the server stopped reading;
//   - lost: no reply although a later probe was answered, so the server read
//     it and dropped the reply; must be 0.
//
// Every probe sent before the signal must be answered: the signal takes
// milliseconds to arrive, the server reads within microseconds.
func testUDPSIGTERMUnderLoad(t *testing.T, udp *e2e.Service) {
	sock, err := net.ListenUDP("udp4", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	var runID [8]byte
	_, _ = rand.Read(runID[:])
	load := &probeLoad{sock: sock, server: udpServer(t, udp), runID: binary.BigEndian.Uint64(runID[:]), replies: map[uint64]int{}}

	recvDone := make(chan struct{})
	go func() { defer close(recvDone); load.receive() }()
	sigAt := loadUntilSIGTERM(t, udp, loadPlan{warmup: 1500 * time.Millisecond, untilExit: true}, load.send)
	// Replies sent before the exit are on the host by now; a moment for
	// the receiver to read them.
	_ = sock.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	<-recvDone

	c := load.count(sigAt)
	t.Logf("FIGURE sigterm udp-responder sent=%d answered=%d clean_close=0 lost=%d sent_after=%d answered_after=%d unread=%d",
		c.sent, c.answered, len(c.lost), c.sentAfter, c.answeredAfter, c.unread)
	if len(load.bad) > 0 {
		t.Errorf("%d bad replies, e.g. %s", len(load.bad), load.bad[0])
	}
	if c.dup > 0 {
		t.Errorf("%d probes answered more than once", c.dup)
	}
	if len(c.lost) > 0 {
		t.Errorf("%d probes read by the server got no reply (later ones did): %v", len(c.lost), c.lost[:min(len(c.lost), 20)])
	}
	if c.sent == 0 || c.answered != c.sent {
		t.Errorf("probes sent before the signal: %d, answered: %d", c.sent, c.answered)
	}
}

// probeLoad is the load of testUDPSIGTERMUnderLoad: numbered probes from
// one socket, and the replies they got.
type probeLoad struct {
	sock   *net.UDPConn
	server *net.UDPAddr
	runID  uint64

	mu      sync.Mutex
	sentAt  []time.Time // by sequence number
	replies map[uint64]int
	bad     []string
}

// probeSize is the size of every probe of the load.
const probeSize = 64

// send sends a probe every millisecond (half the per-source RATE_LIMIT)
// until stop.
func (l *probeLoad) send(stop <-chan struct{}) {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for seq := uint64(0); ; seq++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if _, err := l.sock.WriteToUDP(e2e.UDPProbe(probeSize, l.runID, seq), l.server); err != nil {
			return
		}
		l.mu.Lock()
		l.sentAt = append(l.sentAt, time.Now())
		l.mu.Unlock()
	}
}

// receive reads replies until the socket's read deadline or close.
func (l *probeLoad) receive() {
	buf := make([]byte, 2048)
	for {
		n, err := l.sock.Read(buf)
		if err != nil {
			return
		}
		b := buf[:n]
		l.mu.Lock()
		if seq, ok := e2e.ProbeReply(b, probeSize, l.runID); ok {
			l.replies[seq]++
		} else {
			l.bad = append(l.bad, fmt.Sprintf("unexpected reply of %d bytes: %x", n, e2e.Abbrev(b)))
		}
		l.mu.Unlock()
	}
}

// probeCounts is what became of the probes, split at the signal.
type probeCounts struct {
	sent, answered, sentAfter, answeredAfter, unread, dup int
	lost                                                  []int // sequence numbers
}

func (l *probeLoad) count(sigAt time.Time) probeCounts {
	l.mu.Lock()
	defer l.mu.Unlock()
	last := -1
	for seq := range l.sentAt {
		if l.replies[uint64(seq)] > 0 {
			last = seq
		}
	}
	var c probeCounts
	for seq, at := range l.sentAt {
		before := at.Before(sigAt)
		n := l.replies[uint64(seq)]
		if before {
			c.sent++
		} else {
			c.sentAfter++
		}
		switch {
		case n > 0 && before:
			c.answered++
		case n > 0:
			c.answeredAfter++
		case seq < last:
			c.lost = append(c.lost, seq)
		default:
			c.unread++
		}
		if n > 1 {
			c.dup++
		}
	}
	return c
}
