package addrtest_test

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/addrtest"
)

func TestClosedTCP_RefusesADial(t *testing.T) {
	addr := addrtest.ClosedTCP(t)
	if _, err := net.DialTimeout("tcp", addr, 5*time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial %s: %v, want connection refused", addr, err)
	}
}

// On loopback a datagram to a closed port comes back as an ICMP port
// unreachable, which the next read on a connected socket reports.
func TestClosedUDP_NothingAnswers(t *testing.T) {
	addr := addrtest.ClosedUDP(t)
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	if n, err := c.Read(make([]byte, 16)); err == nil {
		t.Errorf("read %d bytes from %s, want nothing", n, addr)
	}
}
