package node

import (
	"math/bits"
	"sync"

	"github.com/netlab/netlab/services/peer/internal/content"
)

// Piece buffers come from pools by power-of-two size class, so a node with
// 1 MiB pieces holds 1 MiB per piece in flight, not the 4 MiB maximum.
const (
	minClass = 14 // 16 KiB, content.MinPieceSize
	maxClass = 22 // 4 MiB, content.MaxPieceSize
)

var pieceBuffers [maxClass - minClass + 1]sync.Pool

func init() {
	for i := range pieceBuffers {
		size := 1 << (minClass + i)
		pieceBuffers[i].New = func() any { b := make([]byte, size); return &b }
	}
}

// classOf is the pool index for a buffer of at least n bytes.
func classOf(n int) int {
	if n <= 1<<minClass {
		return 0
	}
	return min(bits.Len(uint(n-1))-minClass, maxClass-minClass)
}

// getBuffer returns a pooled buffer of length n (n ≤ content.MaxPieceSize).
func getBuffer(n int) *[]byte {
	bp := pieceBuffers[classOf(n)].Get().(*[]byte)
	*bp = (*bp)[:n]
	return bp
}

// putBuffer returns a buffer from getBuffer to its pool.
func putBuffer(bp *[]byte) {
	c := cap(*bp)
	if c < content.MinPieceSize || c&(c-1) != 0 {
		return // not one of ours
	}
	*bp = (*bp)[:c]
	pieceBuffers[classOf(c)].Put(bp)
}
