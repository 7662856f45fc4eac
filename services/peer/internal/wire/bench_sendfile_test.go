package wire_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/netlab/netlab/services/peer/internal/wire"
)

// BenchmarkSendPieceFile sends 1 MiB pieces of a file with sendfile and
// receives them into a buffer, as two nodes do, with the CPU per piece
// (both ends) beside the wall time.
func BenchmarkSendPieceFile(b *testing.B) {
	path := filepath.Join(b.TempDir(), "piece.bin")
	if err := os.WriteFile(path, pattern(1<<20), 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	dialed, server := tcpPair(b)
	tx, rx := wire.NewConn(dialed, 10*time.Second), wire.NewConn(server, 10*time.Second)
	buf := make([]byte, 1<<20)
	rx.SetPieceBuffers(func(n int) []byte { return buf[:n] })
	b.SetBytes(1 << 20)
	before := processCPU(b)
	b.ResetTimer()
	pumpPieces(b, rx, func() error { return tx.SendPieceFile(fid("f"), 1, f, 0, 1<<20) })
	b.ReportMetric(float64(processCPU(b)-before)/float64(b.N), "cpu-ns/op")
}
