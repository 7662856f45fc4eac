package echo_test

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/netlab/netlab/services/tcp-echo/internal/echo/echotest"
)

// BenchmarkServer_Bulk streams 64 KiB writes through one connection and
// reads the echo concurrently: the server's bulk throughput on loopback.
func BenchmarkServer_Bulk(b *testing.B) {
	cfg := echotest.Config()
	cfg.IdleTimeout = time.Hour
	r := start(b, cfg)
	benchmarkBulk(b, r.Server.Addr().String())
}

// BenchmarkBaseline_IOCopy is the same stream through the simplest Go echo
// server (io.Copy, which splices in the kernel): the ceiling to compare with.
func BenchmarkBaseline_IOCopy(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	benchmarkBulk(b, ln.Addr().String())
}

func benchmarkBulk(b *testing.B, addr string) {
	const chunk = 64 << 10
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	payload := make([]byte, chunk)
	done := make(chan error, 1)
	b.SetBytes(chunk)
	b.ResetTimer()
	go func() {
		buf := make([]byte, 256<<10)
		var (
			total int64
			err   error
		)
		want := int64(b.N) * chunk
		for err == nil && total < want {
			var n int
			n, err = c.Read(buf[:min(int64(len(buf)), want-total)])
			total += int64(n)
		}
		done <- err
	}()
	for range b.N {
		if _, err := c.Write(payload); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkServer_PingPong measures one 64-byte request/response round trip
// on one connection: the server's per-message latency cost.
func BenchmarkServer_PingPong(b *testing.B) {
	c := start(b, echotest.Config()).dial(b)
	msg := make([]byte, 64)
	buf := make([]byte, 64)
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
	}
}
