package e2e

import (
	"bytes"
	"fmt"
)

// FirstDiff returns the index of the first byte where got and want differ
// (including a length difference), or -1 if they are equal.
func FirstDiff(got, want []byte) int {
	if bytes.Equal(got, want) {
		return -1
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return i
		}
	}
	return min(len(got), len(want))
}

// Abbrev shortens long payloads in failure messages.
func Abbrev(b []byte) []byte {
	const limit = 64
	if len(b) <= limit {
		return b
	}
	return append(append([]byte(nil), b[:limit]...), fmt.Sprintf("...(%d bytes)", len(b))...)
}
