package content_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/platform/tabletest"
)

// pattern returns n deterministic, non-repeating-looking bytes.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func mustHash(t testing.TB, data []byte, pieceSize int) content.Manifest {
	t.Helper()
	m, err := content.HashReader(bytes.NewReader(data), int64(len(data)), pieceSize)
	if err != nil {
		t.Fatalf("HashReader: %v", err)
	}
	return m
}

func TestManifest_IDMatchesDocumentedLayout(t *testing.T) {
	data := []byte("hello, netlab")
	m := mustHash(t, data, content.MinPieceSize)

	// Computed independently from the documented layout.
	var buf bytes.Buffer
	buf.WriteString("netlab-peer-file-v1\x00")
	binary.Write(&buf, binary.BigEndian, uint64(len(data)))
	binary.Write(&buf, binary.BigEndian, uint32(content.MinPieceSize))
	piece := sha256.Sum256(data)
	buf.Write(piece[:])
	want := content.ID(sha256.Sum256(buf.Bytes()))

	if got := m.ID(); got != want {
		t.Fatalf("ID = %s, want %s", got, want)
	}
	// Pinned so a change to the layout cannot go unnoticed.
	const golden = "0f57ae8e8c3f8e3fc1e6e7815421e0ce15fd5bad8c01790c2f5b9e95aa407875"
	if got := m.ID().String(); got != golden {
		t.Fatalf("ID = %s, want golden %s", got, golden)
	}
	if got := m.ID().Short(); got != golden[:12] {
		t.Fatalf("Short = %s, want %s", got, golden[:12])
	}
}

func TestManifest_IDDependsOnPieceSize(t *testing.T) {
	data := pattern(3 * content.MinPieceSize)
	a := mustHash(t, data, content.MinPieceSize)
	b := mustHash(t, data, 2*content.MinPieceSize)
	c := mustHash(t, data, content.MinPieceSize)
	if a.ID() == b.ID() {
		t.Fatal("same content with different piece sizes has the same id")
	}
	if a.ID() != c.ID() {
		t.Fatal("id is not stable")
	}
}

func TestParseID(t *testing.T) {
	var id content.ID
	for i := range id {
		id[i] = byte(i * 9)
	}
	tests := []struct {
		name    string
		in      string
		want    content.ID
		wantErr string
	}{
		{name: "lower", in: id.String(), want: id},
		{name: "upper", in: strings.ToUpper(id.String()), want: id},
		{name: "empty", in: "", wantErr: "want 64 hex characters"},
		{name: "short", in: id.String()[:63], wantErr: "want 64 hex characters"},
		{name: "long", in: id.String() + "0", wantErr: "want 64 hex characters"},
		{name: "not hex", in: "zz" + id.String()[2:], wantErr: "invalid byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := content.ParseID(tt.in)
			tabletest.Result(t, "ParseID", got, err, tt.want, tt.wantErr)
		})
	}
}

func TestManifest_Validate(t *testing.T) {
	ps := content.MinPieceSize
	ok := content.Manifest{Size: int64(2*ps + 1), PieceSize: ps, Pieces: make([]content.Hash, 3)}
	tests := []struct {
		name    string
		m       content.Manifest
		wantErr string
	}{
		{name: "ok", m: ok},
		{name: "empty file", m: content.Manifest{Size: 0, PieceSize: ps}},
		{name: "exact pieces", m: content.Manifest{Size: int64(2 * ps), PieceSize: ps, Pieces: make([]content.Hash, 2)}},
		{name: "not a power of two", m: content.Manifest{Size: 1, PieceSize: ps + 1, Pieces: make([]content.Hash, 1)}},
		{name: "max piece size", m: content.Manifest{Size: 1, PieceSize: content.MaxPieceSize, Pieces: make([]content.Hash, 1)}},
		{name: "piece size too small", m: content.Manifest{Size: 1, PieceSize: ps - 1, Pieces: make([]content.Hash, 1)}, wantErr: "piece size"},
		{name: "piece size too big", m: content.Manifest{Size: 1, PieceSize: content.MaxPieceSize + 1, Pieces: make([]content.Hash, 1)}, wantErr: "piece size"},
		{name: "zero piece size", m: content.Manifest{Size: 0, PieceSize: 0}, wantErr: "piece size"},
		{name: "negative size", m: content.Manifest{Size: -1, PieceSize: ps}, wantErr: "negative size"},
		{name: "too few hashes", m: content.Manifest{Size: int64(ps + 1), PieceSize: ps, Pieces: make([]content.Hash, 1)}, wantErr: "want 2"},
		{name: "too many hashes", m: content.Manifest{Size: int64(ps), PieceSize: ps, Pieces: make([]content.Hash, 2)}, wantErr: "want 1"},
		{name: "hashes for empty file", m: content.Manifest{Size: 0, PieceSize: ps, Pieces: make([]content.Hash, 1)}, wantErr: "want 0"},
		{name: "too many pieces", m: content.Manifest{Size: int64(content.MaxPieces)*int64(ps) + 1, PieceSize: ps}, wantErr: "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tabletest.Err(t, "Validate", tt.m.Validate(), tt.wantErr)
		})
	}
}

func TestManifest_Verify(t *testing.T) {
	ps := content.MinPieceSize
	data := pattern(2*ps + 100)
	m := mustHash(t, data, ps)
	last := data[2*ps:]
	flipped := bytes.Clone(data[:ps])
	flipped[10] ^= 1

	tests := []struct {
		name string
		i    int
		data []byte
		want bool
	}{
		{name: "first", i: 0, data: data[:ps], want: true},
		{name: "short last", i: 2, data: last, want: true},
		{name: "wrong data", i: 0, data: flipped},
		{name: "other piece", i: 1, data: data[:ps]},
		{name: "too long", i: 2, data: data[2*ps-1:]},
		{name: "too short", i: 0, data: data[:ps-1]},
		{name: "negative index", i: -1, data: data[:ps]},
		{name: "index past end", i: 3, data: last},
		{name: "nil", i: 0, data: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.Verify(tt.i, tt.data); got != tt.want {
				t.Fatalf("Verify(%d) = %v, want %v", tt.i, got, tt.want)
			}
		})
	}
}

func TestManifest_PieceGeometry(t *testing.T) {
	ps := content.MinPieceSize
	m := mustHash(t, pattern(2*ps+5), ps)
	tests := []struct {
		i       int
		wantOff int64
		wantLen int
	}{
		{i: 0, wantOff: 0, wantLen: ps},
		{i: 1, wantOff: int64(ps), wantLen: ps},
		{i: 2, wantOff: int64(2 * ps), wantLen: 5},
		{i: 3, wantOff: int64(3 * ps), wantLen: 0},
		{i: -1, wantOff: -int64(ps), wantLen: 0},
	}
	for _, tt := range tests {
		if got := m.PieceOffset(tt.i); got != tt.wantOff {
			t.Errorf("PieceOffset(%d) = %d, want %d", tt.i, got, tt.wantOff)
		}
		if got := m.PieceLen(tt.i); got != tt.wantLen {
			t.Errorf("PieceLen(%d) = %d, want %d", tt.i, got, tt.wantLen)
		}
	}
	if m.NumPieces() != 3 {
		t.Fatalf("NumPieces = %d, want 3", m.NumPieces())
	}
}

func TestHashReader(t *testing.T) {
	ps := content.MinPieceSize
	tests := []struct {
		name       string
		size       int
		wantPieces int
	}{
		{name: "empty", size: 0, wantPieces: 0},
		{name: "one byte", size: 1, wantPieces: 1},
		{name: "one piece", size: ps, wantPieces: 1},
		{name: "piece plus one", size: ps + 1, wantPieces: 2},
		{name: "several", size: 3*ps + 17, wantPieces: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := pattern(tt.size)
			// OneByteReader proves pieces are assembled from short reads.
			m, err := content.HashReader(iotest.OneByteReader(bytes.NewReader(data)), int64(tt.size), ps)
			if err != nil {
				t.Fatalf("HashReader: %v", err)
			}
			if err := m.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if m.NumPieces() != tt.wantPieces || m.Size != int64(tt.size) || m.PieceSize != ps {
				t.Fatalf("manifest = size %d, piece size %d, %d pieces", m.Size, m.PieceSize, m.NumPieces())
			}
			for i := range m.NumPieces() {
				off := m.PieceOffset(i)
				piece := data[off : off+int64(m.PieceLen(i))]
				if m.Pieces[i] != sha256.Sum256(piece) || !m.Verify(i, piece) {
					t.Fatalf("piece %d hash mismatch", i)
				}
			}
			// The streaming Hasher must agree.
			h, err := content.NewHasher(ps)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(h, iotest.HalfReader(bytes.NewReader(data))); err != nil {
				t.Fatal(err)
			}
			if got := h.Manifest(); got.ID() != m.ID() {
				t.Fatalf("Hasher id %s, HashReader id %s", got.ID(), m.ID())
			}
		})
	}
}

func TestHashReader_Errors(t *testing.T) {
	ps := content.MinPieceSize
	readErr := errors.New("disk on fire")
	tests := []struct {
		name      string
		r         io.Reader
		size      int64
		pieceSize int
		wantIs    error
		wantErr   string
	}{
		{name: "short by one", r: bytes.NewReader(pattern(ps)), size: int64(ps + 1), pieceSize: ps, wantIs: io.ErrUnexpectedEOF},
		{name: "short mid piece", r: bytes.NewReader(pattern(10)), size: int64(ps), pieceSize: ps, wantIs: io.ErrUnexpectedEOF},
		{name: "empty reader", r: strings.NewReader(""), size: 1, pieceSize: ps, wantIs: io.ErrUnexpectedEOF},
		{name: "read error", r: iotest.ErrReader(readErr), size: 1, pieceSize: ps, wantIs: readErr},
		{name: "bad piece size", r: strings.NewReader("x"), size: 1, pieceSize: 1000, wantErr: "piece size"},
		{name: "negative size", r: strings.NewReader(""), size: -1, pieceSize: ps, wantErr: "negative size"},
		{name: "too many pieces", r: strings.NewReader(""), size: 1 << 62, pieceSize: ps, wantErr: "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := content.HashReader(tt.r, tt.size, tt.pieceSize)
			if err == nil {
				t.Fatal("HashReader succeeded")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Fatalf("err = %v, want %v", err, tt.wantIs)
			}
			if tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

func BenchmarkHashPiece(b *testing.B) {
	data := pattern(content.DefaultPieceSize)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		content.HashPiece(data)
	}
}

func BenchmarkManifestVerify(b *testing.B) {
	data := pattern(content.DefaultPieceSize)
	m := mustHash(b, data, content.DefaultPieceSize)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if !m.Verify(0, data) {
			b.Fatal("Verify failed")
		}
	}
}
