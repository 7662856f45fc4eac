package content_test

import (
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/zeebo/blake3"
)

// BenchmarkPieceHash: the cost of hashing one piece, the work a node does
// for every piece it shares or verifies, with SHA-256 (SHA-NI where the
// CPU has it) and BLAKE3 (AVX-512/AVX2 assembly), at the piece sizes a
// node accepts. docs/benchmarks.md (peer, hash) records the figures.
func BenchmarkPieceHash(b *testing.B) {
	algs := []struct {
		name string
		sum  func([]byte) [32]byte
	}{
		{"sha256", sha256.Sum256},
		{"blake3", blake3.Sum256},
	}
	for _, size := range []int{16 << 10, 32 << 10, 256 << 10, 1 << 20, 4 << 20} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i*7 + i/251)
		}
		for _, a := range algs {
			b.Run(fmt.Sprintf("size=%dKiB/alg=%s", size>>10, a.name), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					_ = a.sum(data)
				}
			})
		}
	}
}
