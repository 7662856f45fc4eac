// Package addrtest gives tests loopback addresses on which nothing
// listens: a TCP dial there is refused, a UDP datagram gets no answer.
package addrtest

import (
	"io"
	"net"
	"testing"
)

// ClosedTCP returns a loopback TCP address that was free a moment ago
// and is closed again.
func ClosedTCP(tb testing.TB) string {
	tb.Helper()
	return closed(tb, "tcp")
}

// ClosedUDP returns a loopback UDP address that was free a moment ago
// and is closed again.
func ClosedUDP(tb testing.TB) string {
	tb.Helper()
	return closed(tb, "udp")
}

// closed binds a free loopback port of network, closes it and returns
// its address.
func closed(tb testing.TB, network string) string {
	tb.Helper()
	var (
		c    io.Closer
		addr net.Addr
		err  error
	)
	if network == "udp" {
		var pc net.PacketConn
		if pc, err = net.ListenPacket(network, "127.0.0.1:0"); err == nil {
			c, addr = pc, pc.LocalAddr()
		}
	} else {
		var ln net.Listener
		if ln, err = net.Listen(network, "127.0.0.1:0"); err == nil {
			c, addr = ln, ln.Addr()
		}
	}
	if err == nil {
		err = c.Close()
	}
	if err != nil {
		tb.Fatal(err)
	}
	return addr.String()
}
