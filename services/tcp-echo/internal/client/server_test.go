package client_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
)

// startServer runs handle for every connection accepted on 127.0.0.1:0 and
// returns the address. Cleanup closes the listener and every connection and
// waits for the handlers.
func startServer(tb testing.TB, handle func(net.Conn)) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					tb.Errorf("accept: %v", err)
				}
				return
			}
			mu.Lock()
			conns[c] = struct{}{}
			mu.Unlock()
			wg.Go(func() {
				defer func() {
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
					_ = c.Close()
				}()
				handle(c)
			})
		}
	})
	tb.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// echo is the well-behaved server: everything back, then close.
func echo(c net.Conn) { _, _ = io.Copy(c, c) }

// silent reads and discards, never answering, and keeps the connection
// open until ctx ends (even after the client's half-close).
func silent(ctx context.Context) func(net.Conn) {
	return func(c net.Conn) {
		_, _ = io.Copy(io.Discard, c)
		<-ctx.Done()
	}
}

// echoEach echoes with one fixed buffer, so that it allocates nothing per
// message (io.Copy may), handing each read to onRead before it goes back;
// onRead may change the bytes.
func echoEach(c net.Conn, onRead func(b []byte)) {
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			onRead(buf[:n])
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// corruptAt echoes but flips the byte at stream offset off.
func corruptAt(off int64) func(net.Conn) {
	return func(c net.Conn) {
		var pos int64
		echoEach(c, func(b []byte) {
			if off >= pos && off < pos+int64(len(b)) {
				b[off-pos] ^= 0x55
			}
			pos += int64(len(b))
		})
	}
}

// closeAfter echoes the first n bytes, then closes its side (FIN) and
// drains the rest, so that the client sees a clean early EOF.
func closeAfter(n int64) func(net.Conn) {
	return func(c net.Conn) {
		_, _ = io.CopyN(c, c, n)
		_ = c.(*net.TCPConn).CloseWrite()
		_, _ = io.Copy(io.Discard, c)
	}
}

// reply reads want bytes, answers with answer, and closes its side.
func reply(want int, answer string) func(net.Conn) {
	return func(c net.Conn) {
		if _, err := io.ReadFull(c, make([]byte, want)); err != nil {
			return
		}
		_, _ = io.WriteString(c, answer)
		_ = c.(*net.TCPConn).CloseWrite()
		_, _ = io.Copy(io.Discard, c)
	}
}
