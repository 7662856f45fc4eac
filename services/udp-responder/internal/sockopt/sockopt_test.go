//go:build unix

package sockopt_test

import (
	"net"
	"syscall"
	"testing"

	"github.com/netlab/netlab/services/udp-responder/internal/sockopt"
)

func rawConn(t *testing.T) syscall.RawConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestSetInt(t *testing.T) {
	raw := rawConn(t)
	for _, want := range []int{1, 0} {
		if err := sockopt.SetInt(raw, syscall.SOL_SOCKET, syscall.SO_BROADCAST, want); err != nil {
			t.Fatal(err)
		}
		var got int
		var gerr error
		if err := raw.Control(func(fd uintptr) { got, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_BROADCAST) }); err != nil || gerr != nil {
			t.Fatal(err, gerr)
		}
		if (got != 0) != (want != 0) {
			t.Errorf("SO_BROADCAST reads %d after setting %d", got, want)
		}
	}
}

func TestSetInt_Errors(t *testing.T) {
	raw := rawConn(t)
	if err := sockopt.SetInt(raw, syscall.SOL_SOCKET, -1, 1); err == nil {
		t.Error("an unknown option was set")
	}
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	closed, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	if err := sockopt.SetInt(closed, syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1); err == nil {
		t.Error("an option was set on a closed socket")
	}
}
