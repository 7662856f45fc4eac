package wire_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/netlab/netlab/services/peer/internal/wire"
)

// withPieceBuffers makes c read piece data into fresh buffers.
func withPieceBuffers(c *wire.Conn) *wire.Conn {
	c.SetPieceBuffers(func(n int) []byte { return make([]byte, n) })
	return c
}

// TestConn_PieceDataTakesWhatHasArrivedInOneRead: once a whole piece has
// arrived, its data is read in one call, not 64 KiB at a time.
func TestConn_PieceDataTakesWhatHasArrivedInOneRead(t *testing.T) {
	want := wire.Piece{ID: fid("2"), Index: 3, Data: pattern(1 << 20)}
	rec := &readRecorder{fakeConn: fakeConn{r: bytes.NewReader(encode(t, want))}}
	c := withPieceBuffers(wire.NewConn(rec, time.Second))
	m, err := c.Receive(0)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := m.(*wire.Piece); !ok || !bytes.Equal(p.Data, want.Data) {
		t.Fatalf("received %v, want the piece", m)
	}
	// The header's read through the read buffer, then the rest at once.
	if n := len(rec.targets); n != 2 {
		t.Fatalf("%d reads for a 1 MiB piece that had all arrived, want 2", n)
	}
}

// TestConn_PieceIntoCallersBufferStalledIsCutOff: a piece read straight
// into the caller's buffer, whose sender stops mid-piece, ends at the
// deadline (the slow but live sender is TestConn_SlowSenderSucceeds).
func TestConn_PieceIntoCallersBufferStalledIsCutOff(t *testing.T) {
	want := &wire.Piece{ID: fid("f"), Index: 1, Data: pattern(1 << 20)}
	stalled, sc := rawPipe(t, 100*time.Millisecond)
	withPieceBuffers(sc)
	go func() {
		frame := encode(t, want)
		_, _ = stalled.Write(frame[:wire.HeaderSize+37+chunk+5]) // then silence
	}()
	assertReceiveTimesOut(t, sc, time.Minute)
}
