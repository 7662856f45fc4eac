package wire_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/netlab/netlab/services/peer/internal/wire"
)

// BenchmarkConnPieceIntoBuffer is BenchmarkConnPiece with the receiver
// reading piece data straight into a buffer of its own, as a node does,
// and reports the CPU time (both ends, user and system) per piece beside
// the wall time: on a shared machine the CPU figure is the steadier one.
func BenchmarkConnPieceIntoBuffer(b *testing.B) {
	dialed, server := tcpPair(b)
	rx := wire.NewConn(server, 10*time.Second)
	buf := make([]byte, 1<<20)
	rx.SetPieceBuffers(func(n int) []byte { return buf[:n] })
	before := processCPU(b)
	benchPieces(b, wire.NewConn(dialed, 10*time.Second), rx)
	b.ReportMetric(float64(processCPU(b)-before)/float64(b.N), "cpu-ns/op")
}

// processCPU is the CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
