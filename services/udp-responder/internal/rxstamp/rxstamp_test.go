package rxstamp_test

import (
	"net"
	"testing"
	"time"

	"github.com/netlab/netlab/services/udp-responder/internal/rxstamp"
)

// A datagram read long after it arrived carries the time it arrived.
func TestParse_GivesTheArrivalNotTheRead(t *testing.T) {
	rx, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	raw, err := rx.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := rxstamp.Enable(raw); err != nil {
		t.Skipf("no kernel receive timestamps: %v", err)
	}
	tx, err := net.DialUDP("udp", nil, rx.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	before := time.Now()
	if _, err := tx.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the datagram waits in the socket
	oob := make([]byte, rxstamp.ControlSize)
	_ = rx.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, oobn, _, _, err := rx.ReadMsgUDPAddrPort(make([]byte, 16), oob)
	if err != nil {
		t.Fatal(err)
	}
	read := time.Now()
	ns, ok := rxstamp.Parse(oob[:oobn])
	if !ok {
		t.Fatalf("no timestamp in %d bytes of control messages", oobn)
	}
	at := time.Unix(0, ns)
	if at.Before(before.Add(-time.Millisecond)) || read.Sub(at) < 40*time.Millisecond {
		t.Errorf("stamped %v after the send and %v before the read; want soon after the send", at.Sub(before), read.Sub(at))
	}
}

func TestParse_Garbage(t *testing.T) {
	for _, oob := range [][]byte{nil, {1, 2, 3}, make([]byte, 64), {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 0, 0, 0, 35, 0, 0, 0}} {
		if _, ok := rxstamp.Parse(oob); ok {
			t.Errorf("Parse(% x) found a timestamp", oob)
		}
	}
}
