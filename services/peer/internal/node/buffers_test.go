package node

import "testing"

func TestBuffers_SizedByClass(t *testing.T) {
	for _, tt := range []struct{ n, wantCap int }{
		{1, 16 << 10}, {16 << 10, 16 << 10}, {16<<10 + 1, 32 << 10},
		{1 << 20, 1 << 20}, {1<<20 + 1, 2 << 20}, {4 << 20, 4 << 20},
	} {
		bp := getBuffer(tt.n)
		if len(*bp) != tt.n || cap(*bp) != tt.wantCap {
			t.Errorf("getBuffer(%d): len %d cap %d, want len %d cap %d", tt.n, len(*bp), cap(*bp), tt.n, tt.wantCap)
		}
		putBuffer(bp)
	}
	// A foreign buffer is not pooled.
	odd := make([]byte, 1000)
	putBuffer(&odd)
}
