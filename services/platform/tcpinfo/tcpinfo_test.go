package tcpinfo_test

import (
	"errors"
	"io"
	"net"
	"testing"

	"github.com/netlab/netlab/services/platform/tcpinfo"
)

// TestRead_Loopback reads a loopback connection after an exchange: no
// retransmission on loopback, a congestion window and a measured RTT.
func TestRead_Loopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(c, c)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, 256<<10)
	go func() { _, _ = c.Write(msg) }()
	if _, err := io.ReadFull(c, make([]byte, len(msg))); err != nil {
		t.Fatal(err)
	}
	info, err := tcpinfo.Read(c.(*net.TCPConn))
	if !tcpinfo.Supported {
		if !errors.Is(err, tcpinfo.ErrUnsupported) {
			t.Fatalf("Read on a system without TCP_INFO: %v, want ErrUnsupported", err)
		}
		t.Skip("no TCP_INFO on this system")
	}
	if err != nil {
		t.Fatal(err)
	}
	if info.Retransmits != 0 || info.Cwnd <= 0 || info.RTT <= 0 || info.DeliveryRate < 0 {
		t.Errorf("loopback reading %+v: want no retransmits, a positive cwnd and rtt", info)
	}
	_ = c.Close()
	if _, err := tcpinfo.Read(c.(*net.TCPConn)); err == nil {
		t.Error("Read of a closed connection succeeded")
	}
}
