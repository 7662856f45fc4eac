package content_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/zeebo/blake3"

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
	return mustHashAlg(t, data, pieceSize, content.SHA256)
}

func mustHashAlg(t testing.TB, data []byte, pieceSize int, alg content.Alg) content.Manifest {
	t.Helper()
	m, err := content.HashReader(bytes.NewReader(data), int64(len(data)), pieceSize, alg)
	if err != nil {
		t.Fatalf("HashReader: %v", err)
	}
	return m
}

// documentedID is the digest of a one-piece file's id, computed with sum
// from the layout docs/peer-protocol.md gives: the domain string, the
// size and piece size big-endian, then the piece hashes.
func documentedID(data []byte, pieceSize int, sum func([]byte) [32]byte) [32]byte {
	var buf bytes.Buffer
	buf.WriteString("netlab-peer-file-v1\x00")
	binary.Write(&buf, binary.BigEndian, uint64(len(data)))
	binary.Write(&buf, binary.BigEndian, uint32(pieceSize))
	piece := sum(data)
	buf.Write(piece[:])
	return sum(buf.Bytes())
}

func TestManifest_IDMatchesDocumentedLayout(t *testing.T) {
	data := []byte("hello, netlab")
	m := mustHash(t, data, content.MinPieceSize)

	// Computed independently from the documented layout.
	want := content.NewID(content.SHA256, documentedID(data, content.MinPieceSize, sha256.Sum256))

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

func TestManifest_BLAKE3IDMatchesDocumentedLayout(t *testing.T) {
	data := []byte("hello, netlab")
	m := mustHashAlg(t, data, content.MinPieceSize, content.BLAKE3)

	want := content.NewID(content.BLAKE3, documentedID(data, content.MinPieceSize, blake3.Sum256))

	id := m.ID()
	if id != want || id[0] != content.CodeBLAKE3 || id.Alg() != content.BLAKE3 {
		t.Fatalf("ID = %s (code 0x%02x), want %s", id, id[0], want)
	}
	const golden = "blake3:3b2acfea93597735c37b3d70ccb01d69a05192914a1ab5412ecfa38c6e76cdba"
	if got := id.String(); got != golden {
		t.Fatalf("ID = %s, want golden %s", got, golden)
	}
	if got := id.Short(); got != golden[len("blake3:"):][:12] {
		t.Fatalf("Short = %s, want the digest's first 12 hex characters", got)
	}
	// The same bytes under SHA-256 are another file id.
	if sha := mustHash(t, data, content.MinPieceSize).ID(); sha.Digest() == id.Digest() || sha == id {
		t.Fatal("SHA-256 and BLAKE3 ids of the same content agree")
	}
}

// The ids docs/peer-protocol.md gives as examples (File identity).
func TestManifest_DocumentedExamples(t *testing.T) {
	tests := []struct {
		data      string
		pieceSize int
		alg       content.Alg
		wantPiece string
		wantID    string
	}{
		{"abc", content.MinPieceSize, content.SHA256,
			"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
			"5ebced79884bf4eb6a44bad31b7300c98992aaf23f06f3a2a2df217b2bfd2437"},
		{"", content.DefaultPieceSize, content.SHA256, "",
			"4460e514798d7d5b57723b846ba0c07082aa4bf66899cfae7387edb44eba9d1b"},
		{"abc", content.MinPieceSize, content.BLAKE3,
			"6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85",
			"blake3:cde7a046304d112f5d3caa4a31b7e093aa7e0d336818e2028629ea5c5c8f028a"},
		{"", content.DefaultPieceSize, content.BLAKE3, "",
			"blake3:542cc4979005dea4c9c9f30a2ca01955ab5d425356dc4db61555e3d6b39193f2"},
	}
	for _, tt := range tests {
		m := mustHashAlg(t, []byte(tt.data), tt.pieceSize, tt.alg)
		if tt.wantPiece != "" && hex.EncodeToString(m.Pieces[0][:]) != tt.wantPiece {
			t.Errorf("%s piece of %q = %x, want %s", tt.alg, tt.data, m.Pieces[0], tt.wantPiece)
		}
		if got := m.ID().String(); got != tt.wantID {
			t.Errorf("%s id of %q = %s, want %s", tt.alg, tt.data, got, tt.wantID)
		}
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
	var d content.Hash
	for i := range d {
		d[i] = byte(i * 9)
	}
	sha, b3 := content.NewID(content.SHA256, d), content.NewID(content.BLAKE3, d)
	hexd := hex.EncodeToString(d[:])
	tests := []struct {
		name    string
		in      string
		want    content.ID
		wantErr string
	}{
		{name: "bare hex is sha256", in: hexd, want: sha},
		{name: "upper", in: strings.ToUpper(hexd), want: sha},
		{name: "sha256 prefix", in: "sha256:" + hexd, want: sha},
		{name: "blake3", in: "blake3:" + hexd, want: b3},
		{name: "blake3 upper", in: "BLAKE3:" + strings.ToUpper(hexd), want: b3},
		{name: "unknown algorithm", in: "md5:" + hexd, wantErr: `unknown hash algorithm "md5"`},
		{name: "empty algorithm", in: ":" + hexd, wantErr: "unknown hash algorithm"},
		{name: "blake3 short", in: "blake3:" + hexd[:63], wantErr: "want 64 hex characters"},
		{name: "two prefixes", in: "blake3:sha256:" + hexd, wantErr: "want 64 hex characters"},
		{name: "empty", in: "", wantErr: "want 64 hex characters"},
		{name: "short", in: hexd[:63], wantErr: "want 64 hex characters"},
		{name: "long", in: hexd + "0", wantErr: "want 64 hex characters"},
		{name: "not hex", in: "zz" + hexd[2:], wantErr: "invalid byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := content.ParseID(tt.in)
			tabletest.Result(t, "ParseID", got, err, tt.want, tt.wantErr)
		})
	}
}

// A SHA-256 id prints as ids did before there was a choice (bare hex),
// so old ids, file names and records keep working; a BLAKE3 id names its
// algorithm.
func TestID_String(t *testing.T) {
	var d content.Hash
	d[0], d[31] = 0xab, 0xcd
	hexd := hex.EncodeToString(d[:])
	if got := content.NewID(content.SHA256, d).String(); got != hexd {
		t.Errorf("sha256 id = %s, want %s", got, hexd)
	}
	if got := content.NewID(content.BLAKE3, d).String(); got != "blake3:"+hexd {
		t.Errorf("blake3 id = %s, want blake3:%s", got, hexd)
	}
	for _, a := range []content.Alg{content.SHA256, content.BLAKE3} {
		id := content.NewID(a, d)
		if id.Alg() != a || id.Digest() != d || id.Short() != hexd[:12] {
			t.Errorf("%s id: Alg %s, Digest %x, Short %s", a, id.Alg(), id.Digest(), id.Short())
		}
	}
	if (content.ID{}).Alg().Valid() {
		t.Error("the zero id has a valid algorithm")
	}
}

func TestAlgOfCode(t *testing.T) {
	tests := []struct {
		code    byte
		want    content.Alg
		wantErr string
	}{
		{code: content.CodeSHA256, want: content.SHA256},
		{code: content.CodeBLAKE3, want: content.BLAKE3},
		{code: 0, wantErr: "unknown hash algorithm code 0x00"},
		{code: 0x13, wantErr: "unknown hash algorithm code 0x13"},
	}
	for _, tt := range tests {
		got, err := content.AlgOfCode(tt.code)
		tabletest.Result(t, "AlgOfCode", got, err, tt.want, tt.wantErr)
		if err == nil && got.Code() != tt.code {
			t.Errorf("%s.Code() = 0x%02x, want 0x%02x", got, got.Code(), tt.code)
		}
	}
}

func TestParseAlg(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    content.Alg
		wantErr string
	}{
		{in: "sha256", want: content.SHA256},
		{in: "blake3", want: content.BLAKE3},
		{in: "Blake3", want: content.BLAKE3},
		{in: "sha-256", wantErr: `unknown hash algorithm "sha-256" (want sha256 or blake3)`},
		{in: "", wantErr: "unknown hash algorithm"},
	} {
		got, err := content.ParseAlg(tt.in)
		tabletest.Result(t, "ParseAlg", got, err, tt.want, tt.wantErr)
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
		{name: "blake3", m: content.Manifest{Alg: content.BLAKE3, Size: 1, PieceSize: ps, Pieces: make([]content.Hash, 1)}},
		{name: "unknown algorithm", m: content.Manifest{Alg: 7, Size: 1, PieceSize: ps, Pieces: make([]content.Hash, 1)}, wantErr: "unknown hash algorithm 7"},
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

// A piece verifies only under the algorithm its manifest names.
func TestManifest_VerifyAlg(t *testing.T) {
	ps := content.MinPieceSize
	data := pattern(ps + 10)
	b3 := mustHashAlg(t, data, ps, content.BLAKE3)
	if !b3.Verify(0, data[:ps]) || !b3.Verify(1, data[ps:]) {
		t.Fatal("a BLAKE3 manifest does not verify its own pieces")
	}
	if b3.Pieces[0] != blake3.Sum256(data[:ps]) {
		t.Fatal("BLAKE3 manifest piece is not the BLAKE3 of the piece")
	}
	wrong := b3
	wrong.Alg = content.SHA256
	if wrong.Verify(0, data[:ps]) {
		t.Fatal("BLAKE3 piece hashes verified as SHA-256")
	}
	if wrong.ID() == b3.ID() {
		t.Fatal("the id does not depend on the algorithm")
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
			for _, alg := range []content.Alg{content.SHA256, content.BLAKE3} {
				checkHashReader(t, pattern(tt.size), ps, alg, tt.wantPieces)
			}
		})
	}
}

func checkHashReader(t *testing.T, data []byte, ps int, alg content.Alg, wantPieces int) {
	t.Helper()
	// OneByteReader proves pieces are assembled from short reads.
	m, err := content.HashReader(iotest.OneByteReader(bytes.NewReader(data)), int64(len(data)), ps, alg)
	if err != nil {
		t.Fatalf("HashReader: %v", err)
	}
	if err := m.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if m.NumPieces() != wantPieces || m.Size != int64(len(data)) || m.PieceSize != ps || m.Alg != alg {
		t.Fatalf("manifest = %s, size %d, piece size %d, %d pieces", m.Alg, m.Size, m.PieceSize, m.NumPieces())
	}
	for i := range m.NumPieces() {
		off := m.PieceOffset(i)
		piece := data[off : off+int64(m.PieceLen(i))]
		if m.Pieces[i] != alg.Sum(piece) || !m.Verify(i, piece) {
			t.Fatalf("%s piece %d hash mismatch", alg, i)
		}
	}
	if alg == content.SHA256 && m.NumPieces() > 0 && m.Pieces[0] != sha256.Sum256(data[:m.PieceLen(0)]) {
		t.Fatal("SHA256 is not SHA-256")
	}
	// The streaming Hasher must agree.
	h, err := content.NewHasher(ps, alg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(h, iotest.HalfReader(bytes.NewReader(data))); err != nil {
		t.Fatal(err)
	}
	if got := h.Manifest(); got.ID() != m.ID() {
		t.Fatalf("%s: Hasher id %s, HashReader id %s", alg, got.ID(), m.ID())
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
		alg       content.Alg
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
		{name: "unknown algorithm", r: strings.NewReader("x"), size: 1, pieceSize: ps, alg: 9, wantErr: "unknown algorithm 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := content.HashReader(tt.r, tt.size, tt.pieceSize, tt.alg)
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
