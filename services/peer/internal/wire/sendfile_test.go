package wire_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/wire"
)

// pieceFile writes data to a temporary file and opens it.
func pieceFile(t *testing.T, data []byte) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "piece.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t testing.TB) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() {
		client.Close()
		server.Close()
	})
	return client, server
}

func TestConn_SendPieceFileWritesTheSameBytesAsSend(t *testing.T) {
	file := pattern(3*chunk + 5000)
	id := fid("7")
	tests := []struct {
		name      string
		off, size int
	}{
		{"whole file", 0, len(file)},
		{"middle piece", chunk + 17, chunk + 100},
		{"one byte", 9, 1},
		{"empty", 0, 0},
	}
	for _, tc := range tests {
		data := file[tc.off : tc.off+tc.size]
		want := encode(t, &wire.Piece{ID: id, Index: 3, Data: data})

		t.Run(tc.name+"/tcp (sendfile)", func(t *testing.T) {
			f := pieceFile(t, file)
			a, b := tcpPair(t)
			c := wire.NewConn(a, 5*time.Second)
			var throttled int
			c.SetThrottle(func(n int) error { throttled += n; return nil })
			got := make(chan []byte, 1)
			go func() {
				buf := make([]byte, len(want))
				_, err := io.ReadFull(b, buf)
				if err != nil {
					buf = nil
				}
				got <- buf
			}()
			if err := c.SendPieceFile(id, 3, f, int64(tc.off), tc.size); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(<-got, want) {
				t.Fatal("bytes on the socket differ from Send's frame")
			}
			if throttled != tc.size {
				t.Fatalf("throttle total %d, want %d", throttled, tc.size)
			}
		})

		t.Run(tc.name+"/not a socket (copy)", func(t *testing.T) {
			f := pieceFile(t, file)
			fc := &fakeConn{}
			c := wire.NewConn(fc, time.Second)
			if err := c.SendPieceFile(id, 3, f, int64(tc.off), tc.size); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(fc.written(), want) {
				t.Fatal("bytes written differ from Send's frame")
			}
			for i, w := range fc.writes {
				if len(w) > chunk+wire.HeaderSize {
					t.Errorf("write %d is %d bytes, over a chunk", i, len(w))
				}
			}
		})
	}
}

func TestConn_SendPieceFileRefusesAnIDOfNoKnownHash(t *testing.T) {
	fc := &fakeConn{}
	c := wire.NewConn(fc, time.Second)
	if err := c.SendPieceFile(content.ID{}, 0, pieceFile(t, pattern(1000)), 0, 1000); !errors.Is(err, wire.ErrInvalidMessage) {
		t.Fatalf("err = %v, want ErrInvalidMessage", err)
	}
	if len(fc.writes) != 0 {
		t.Fatalf("%d writes for a refused piece", len(fc.writes))
	}
}

func TestConn_SendPieceFileReportsAShortFile(t *testing.T) {
	for _, name := range []string{"tcp", "copy"} {
		t.Run(name, func(t *testing.T) {
			f := pieceFile(t, pattern(1000))
			var nc net.Conn = &fakeConn{}
			if name == "tcp" {
				a, b := tcpPair(t)
				go io.Copy(io.Discard, b)
				nc = a
			}
			c := wire.NewConn(nc, time.Second)
			err := c.SendPieceFile(fid("0"), 0, f, 500, 1000)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
			}
		})
	}
}

func TestConn_SendPieceFileTimesOutOnAStalledReader(t *testing.T) {
	// Nobody reads: once the socket buffers fill, sendfile waits for
	// writability and the per-chunk deadline ends it.
	f := pieceFile(t, make([]byte, wire.MaxPayload-64))
	a, b := tcpPair(t)
	// Small fixed buffers: with autotuning, loopback can take the whole
	// 4 MiB (tcp_rmem reaches 32 MiB on some machines), and nothing stalls.
	if err := a.(*net.TCPConn).SetWriteBuffer(64 << 10); err != nil {
		t.Fatal(err)
	}
	if err := b.(*net.TCPConn).SetReadBuffer(64 << 10); err != nil {
		t.Fatal(err)
	}
	c := wire.NewConn(a, 200*time.Millisecond)
	err := c.SendPieceFile(fid("0"), 0, f, 0, wire.MaxPayload-64)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
}

func TestConn_SendPieceFileRefusesOversizedPieces(t *testing.T) {
	fc := &fakeConn{}
	c := wire.NewConn(fc, time.Second)
	f := pieceFile(t, pattern(10))
	if err := c.SendPieceFile(fid("0"), 0, f, 0, wire.MaxPayload); !errors.Is(err, wire.ErrFrameTooLarge) {
		t.Fatalf("err = %v, want ErrFrameTooLarge", err)
	}
	if len(fc.writes) != 0 {
		t.Fatal("wrote a header for a piece it refused")
	}
}

// TestConn_SendPieceFileToASlowReader: unthrottled, a piece goes out in
// one sendfile call, yet its deadline is renewed as each 64 KiB leaves,
// so a reader slower in total than the timeout but quick with every
// chunk gets the piece; over the copy path too.
func TestConn_SendPieceFileToASlowReader(t *testing.T) {
	const timeout = 300 * time.Millisecond
	data := pattern(1 << 20)
	f := pieceFile(t, data)
	for _, name := range []string{"sendfile", "copy"} {
		t.Run(name, func(t *testing.T) {
			a, b := tcpPair(t)
			// Small buffers, so the sender waits on the reader.
			if err := a.(*net.TCPConn).SetWriteBuffer(32 << 10); err != nil {
				t.Fatal(err)
			}
			if err := b.(*net.TCPConn).SetReadBuffer(32 << 10); err != nil {
				t.Fatal(err)
			}
			var nc net.Conn = a
			if name == "copy" {
				nc = struct{ net.Conn }{a} // hides syscall.Conn: no sendfile
			}
			got := make(chan []byte, 1)
			go func() {
				var all []byte
				buf := make([]byte, 64<<10)
				for {
					n, err := io.ReadFull(b, buf)
					all = append(all, buf[:n]...)
					if err != nil {
						got <- all
						return
					}
					time.Sleep(30 * time.Millisecond)
				}
			}()
			start := time.Now()
			c := wire.NewConn(nc, timeout)
			if err := c.SendPieceFile(fid("f"), 4, f, 0, len(data)); err != nil {
				t.Fatalf("SendPieceFile: %v", err)
			}
			if d := time.Since(start); d < timeout {
				t.Fatalf("send took only %v; the test needs longer than the timeout %v", d, timeout)
			}
			a.Close()
			want := encode(t, &wire.Piece{ID: fid("f"), Index: 4, Data: data})
			if all := <-got; !bytes.Equal(all, want) {
				t.Fatalf("reader got %d bytes, want the %d-byte frame", len(all), len(want))
			}
		})
	}
}
