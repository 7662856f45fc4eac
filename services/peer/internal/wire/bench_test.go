package wire_test

import (
	"testing"
	"time"

	"github.com/netlab/netlab/services/peer/internal/wire"
)

func BenchmarkAppendFramePiece(b *testing.B) {
	p := wire.Piece{ID: fid("f"), Index: 1, Data: pattern(1 << 20)}
	buf := make([]byte, 0, wire.HeaderSize+36+len(p.Data))
	b.SetBytes(int64(len(p.Data)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, err = wire.AppendFrame(buf[:0], &p)
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodePiece: the one allocation is the *Piece boxed in Message;
// the data is not copied.
func BenchmarkDecodePiece(b *testing.B) {
	payload := wire.Piece{ID: fid("f"), Index: 1, Data: pattern(1 << 20)}.AppendPayload(nil)
	b.SetBytes(int64(len(payload) - 36))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := wire.Decode(wire.TypePiece, payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConnPiece sends 1 MiB pieces over loopback TCP.
func BenchmarkConnPiece(b *testing.B) {
	dialed, server := tcpPair(b)
	benchPieces(b, wire.NewConn(dialed, 10*time.Second), wire.NewConn(server, 10*time.Second))
}

// BenchmarkConnSealedPiece is BenchmarkConnPiece with the frames sealed
// (AES-256-GCM), as on a swarm with a secret.
func BenchmarkConnSealedPiece(b *testing.B) {
	dialed, server := tcpPair(b)
	tx, rx := wire.NewConn(dialed, 10*time.Second), wire.NewConn(server, 10*time.Second)
	tx.SetVersion(wire.Version4)
	rx.SetVersion(wire.Version4)
	if err := tx.Encrypt(wire.Keys{Send: testKey(), Receive: otherKey()}, wire.DefaultRekey); err != nil {
		b.Fatal(err)
	}
	if err := rx.Encrypt(wire.Keys{Send: otherKey(), Receive: testKey()}, wire.DefaultRekey); err != nil {
		b.Fatal(err)
	}
	benchPieces(b, tx, rx)
}

// benchPieces sends b.N 1 MiB pieces from tx and receives them on rx.
func benchPieces(b *testing.B, tx, rx *wire.Conn) {
	p := &wire.Piece{ID: fid("f"), Index: 1, Data: pattern(1 << 20)}
	b.SetBytes(int64(len(p.Data)))
	b.ReportAllocs()
	b.ResetTimer()
	pumpPieces(b, rx, func() error { return tx.Send(p) })
}

// pumpPieces calls send b.N times on its own goroutine while rx receives
// b.N frames, as the two ends of a connection run.
func pumpPieces(b *testing.B, rx *wire.Conn, send func() error) {
	errc := make(chan error, 1)
	go func() {
		for range b.N {
			if err := send(); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for range b.N {
		if _, err := rx.Receive(0); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSealPiece is the cost of sealing alone: one 1 MiB piece frame
// encoded and sealed into a reused buffer.
func BenchmarkSealPiece(b *testing.B) {
	m := &memConn{}
	c := sealedConn(b, m, testKey(), otherKey(), wire.DefaultRekey)
	p := &wire.Piece{ID: fid("f"), Index: 1, Data: pattern(1 << 20)}
	b.SetBytes(int64(len(p.Data)))
	b.ReportAllocs()
	for b.Loop() {
		m.w.Reset()
		if err := c.Send(p); err != nil {
			b.Fatal(err)
		}
	}
}
