package responder_test

import (
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"
)

// BenchmarkServer_Replies measures replies per second: several clients,
// each with its own socket, send a 64-byte probe and wait for its reply.
// -benchmem counts the server's allocations too (the hot path has none).
func BenchmarkServer_Replies(b *testing.B) {
	for _, tc := range []struct{ sockets, batch int }{
		{1, 1}, {1, 32}, {runtime.GOMAXPROCS(0), 1}, {runtime.GOMAXPROCS(0), 32},
	} {
		b.Run(fmt.Sprintf("sockets=%d/batch=%d", tc.sockets, tc.batch), func(b *testing.B) {
			cfg := testConfig()
			cfg.Sockets, cfg.BatchSize = tc.sockets, tc.batch
			r := start(b, cfg)
			benchmarkPingPong(b, r.srv.Addr().(*net.UDPAddr), newProbe(b, 1, 64))
		})
	}
}

// BenchmarkBaseline_ReadFromUDP is the same load against the plain loop
// of the tutorial, in Go: one socket, ReadFromUDP, WriteToUDP, no checks.
func BenchmarkBaseline_ReadFromUDP(b *testing.B) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, addr, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			_, _ = conn.WriteToUDP(buf[:n], addr)
		}
	}()
	benchmarkPingPong(b, conn.LocalAddr().(*net.UDPAddr), newProbe(b, 1, 64))
}

func benchmarkPingPong(b *testing.B, addr *net.UDPAddr, msg []byte) {
	b.ReportAllocs()
	b.SetParallelism(8) // 8 clients per CPU keep the server busy
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.DialUDP("udp", nil, addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		buf := make([]byte, 2048)
		for pb.Next() {
			if _, err := c.Write(msg); err != nil {
				b.Error(err)
				return
			}
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := c.Read(buf); err != nil { // a lost datagram fails the run rather than hanging it
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "replies/s")
}
