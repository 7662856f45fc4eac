package udpclient_test

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"

	"github.com/netlab/netlab/services/udp-responder/probe"
)

const greeting = "Hello, client!"

// startUDP runs handle for every datagram that arrives on 127.0.0.1:0, on
// one goroutine in arrival order; reply sends a datagram back to its source.
// It returns the address. Cleanup closes the socket and waits.
func startUDP(tb testing.TB, handle func(b []byte, reply func([]byte))) string {
	tb.Helper()
	return startUDPFrom(tb, func(b []byte, _ netip.AddrPort, reply func([]byte)) { handle(b, reply) })
}

// startUDPFrom is startUDP with the source of each datagram, for servers
// that keep state per client socket. A nil handle echoes every datagram
// without allocating.
func startUDPFrom(tb testing.TB, handle func(b []byte, from netip.AddrPort, reply func([]byte))) string {
	tb.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	_ = conn.SetReadBuffer(4 << 20)
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 1<<16)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					tb.Errorf("read: %v", err)
				}
				return
			}
			if handle == nil {
				_, _ = conn.WriteToUDPAddrPort(buf[:n], from)
				continue
			}
			handle(buf[:n], from, func(b []byte) { _, _ = conn.WriteToUDPAddrPort(b, from) })
		}
	})
	tb.Cleanup(func() {
		_ = conn.Close()
		wg.Wait()
	})
	return conn.LocalAddr().String()
}

func seqOf(b []byte) uint64 { return binary.BigEndian.Uint64(b[16:24]) }

// respond is what the real server does: probes come back marked as
// replies, anything else gets the greeting.
func respond(b []byte, reply func([]byte)) {
	if probe.IsProbe(b) {
		probe.MarkReply(b)
		reply(b)
		return
	}
	reply([]byte(greeting))
}

// Misbehaving servers.
var (
	silent = func([]byte, func([]byte)) {}

	dropEvery10th = func(b []byte, reply func([]byte)) {
		if probe.IsProbe(b) && seqOf(b)%10 == 9 {
			return
		}
		respond(b, reply)
	}

	// corruptEvery4th flips the last (padding) byte of every 4th probe.
	corruptEvery4th = func(b []byte, reply func([]byte)) {
		if probe.IsProbe(b) && seqOf(b)%4 == 0 {
			b[len(b)-1] ^= 0x40
		}
		respond(b, reply)
	}

	// foreignToo sends a valid reply of another run and a datagram that is
	// no probe before it answers every probe (before: the client stops
	// listening as soon as every probe is answered).
	foreignToo = func(b []byte, reply func([]byte)) {
		other := make([]byte, len(b))
		_ = probe.Encode(other, probe.Probe{RunID: 42, Seq: seqOf(b), Reply: true})
		reply(other)
		reply([]byte("not a probe at all, but long enough"))
		respond(b, reply)
	}
)

// dropsAtRandom reports whether the lossy server drops probe seq: 5 % of
// the sequence numbers, spread by a hash, the same ones every run.
func dropsAtRandom(seq uint64) bool { return (seq*0x9E3779B97F4A7C15)>>32%100 < 5 }

// lossy drops the probes dropsAtRandom picks and answers the others.
func lossy(b []byte, reply func([]byte)) {
	if probe.IsProbe(b) && dropsAtRandom(seqOf(b)) {
		return
	}
	respond(b, reply)
}

// duplicating sends the previous reply again, then answers the probe: every
// reply but the last comes twice. (A copy of the last one could arrive after
// the client, with every probe answered, has stopped listening.)
func duplicating() func([]byte, func([]byte)) {
	var prev []byte
	return func(b []byte, reply func([]byte)) {
		if prev != nil {
			reply(prev)
		}
		respond(b, reply)
		prev = append(prev[:0], b...)
	}
}

// swapping answers probes in pairs, the second first.
func swapping() func([]byte, func([]byte)) {
	var held []byte
	return func(b []byte, reply func([]byte)) {
		if !probe.IsProbe(b) {
			respond(b, reply)
			return
		}
		probe.MarkReply(b)
		if held == nil {
			held = append([]byte(nil), b...)
			return
		}
		reply(b)
		reply(held)
		held = nil
	}
}
