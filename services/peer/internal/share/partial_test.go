package share_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/share"
)

// source is a file to download: its bytes and manifest.
type source struct {
	data []byte
	m    content.Manifest
}

func newSource(t *testing.T, size int, seed byte, pieceSize int) source {
	t.Helper()
	data := pattern(size, seed)
	m, err := content.HashReader(bytes.NewReader(data), int64(size), pieceSize, content.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return source{data: data, m: m}
}

func (s source) piece(i int) []byte {
	off := s.m.PieceOffset(i)
	return s.data[off : off+int64(s.m.PieceLen(i))]
}

func writePieces(t *testing.T, p *share.Partial, src source, pieces ...int) {
	t.Helper()
	for _, i := range pieces {
		if err := p.WritePiece(i, src.piece(i)); err != nil {
			t.Fatalf("WritePiece(%d): %v", i, err)
		}
	}
}

func recordFile(dir string, id content.ID, ext string) string {
	return filepath.Join(dir, ".netlab", "partial", id.String()+ext)
}

// startPartial opens a share in a fresh directory and starts downloading src
// into it under name.
func startPartial(t *testing.T, name string, src source) (string, *share.Share, *share.Partial) {
	t.Helper()
	dir := t.TempDir()
	s := openShare(t, dir, ps)
	p, err := s.CreatePartial(name, src.m)
	if err != nil {
		t.Fatalf("CreatePartial: %v", err)
	}
	return dir, s, p
}

// assertNoRecords fails unless the share in dir keeps no partial download
// records.
func assertNoRecords(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, ".netlab", "partial"))
	if (err != nil && !errors.Is(err, fs.ErrNotExist)) || len(ents) != 0 {
		t.Fatalf("left in the partial records: %v (%v)", ents, err)
	}
}

func onlyPartial(t *testing.T, s *share.Share) *share.Partial {
	t.Helper()
	ps, err := s.Partials()
	if err != nil {
		t.Fatalf("Partials: %v", err)
	}
	if len(ps) != 1 {
		t.Fatalf("Partials returned %d, want 1", len(ps))
	}
	return ps[0]
}

func TestPartial_DownloadResumeComplete(t *testing.T) {
	dir := t.TempDir()
	src := newSource(t, 5*ps+123, 1, ps) // 6 pieces, short last one
	s := openShare(t, dir, ps)
	scan(t, s)

	p, err := s.CreatePartial("movie.bin", src.m)
	if err != nil {
		t.Fatalf("CreatePartial: %v", err)
	}
	if p.ID() != src.m.ID() || p.Name() != "movie.bin" || p.Missing() != 6 || p.Have().Count() != 0 {
		t.Fatalf("new partial: id %s name %q missing %d", p.ID().Short(), p.Name(), p.Missing())
	}
	if st, err := os.Stat(recordFile(dir, p.ID(), ".part")); err != nil || st.Size() != src.m.Size {
		t.Fatalf("data file not sized up front: %v", err)
	}
	if again, err := s.CreatePartial("other name.bin", src.m); err != nil || again != p {
		t.Fatalf("second CreatePartial = %p, %v; want the same partial", again, err)
	}

	writePieces(t, p, src, 5, 1, 3)

	flipped := bytes.Clone(src.piece(0))
	flipped[0] ^= 0xff
	bad := []struct {
		name   string
		i      int
		data   []byte
		wantIs error
	}{
		{name: "flipped byte", i: 0, data: flipped, wantIs: share.ErrBadPiece},
		{name: "other piece's data", i: 0, data: src.piece(1), wantIs: share.ErrBadPiece},
		{name: "short", i: 0, data: src.piece(0)[:ps-1], wantIs: share.ErrBadPiece},
		{name: "held piece, bad data", i: 1, data: flipped, wantIs: share.ErrBadPiece},
		{name: "out of range", i: 6, data: src.piece(5)},
		{name: "negative", i: -1, data: src.piece(0)},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			err := p.WritePiece(tt.i, tt.data)
			if err == nil || (tt.wantIs != nil && !errors.Is(err, tt.wantIs)) {
				t.Fatalf("WritePiece = %v, want %v", err, tt.wantIs)
			}
		})
	}
	if err := p.WritePiece(1, src.piece(1)); err != nil {
		t.Fatalf("rewriting a held piece: %v", err)
	}

	want := content.NewBitfield(6)
	for _, i := range []int{1, 3, 5} {
		want.Set(i)
	}
	if got := p.Have(); !bytes.Equal(got, want) || p.Missing() != 3 {
		t.Fatalf("have = %08b, missing %d; want %08b, 3", []byte(got), p.Missing(), []byte(want))
	}
	p.Have().Set(0)
	if p.Have().Has(0) {
		t.Fatal("Have returned the internal bitfield")
	}

	// Serving while downloading.
	buf := make([]byte, ps)
	if n, err := p.ReadPiece(5, buf); err != nil || !bytes.Equal(buf[:n], src.piece(5)) {
		t.Fatalf("ReadPiece(5) = %d, %v", n, err)
	}
	if _, err := p.ReadPiece(0, buf); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadPiece of a missing piece = %v, want fs.ErrNotExist", err)
	}
	if _, err := p.ReadPiece(1, buf[:10]); err == nil {
		t.Fatal("ReadPiece into a small buffer succeeded")
	}
	if _, err := p.Complete(); !errors.Is(err, share.ErrIncomplete) {
		t.Fatalf("Complete with missing pieces = %v, want ErrIncomplete", err)
	}

	// Restart: the record brings back the same pieces.
	s.Close()
	if err := p.WritePiece(0, src.piece(0)); err == nil {
		t.Fatal("WritePiece after Close succeeded")
	}
	s = openShare(t, dir, ps)
	scan(t, s)
	if _, ok := s.Partial(src.m.ID()); ok {
		t.Fatal("partial open before Partials was called")
	}
	p = onlyPartial(t, s)
	if got := p.Have(); !bytes.Equal(got, want) || p.Name() != "movie.bin" || p.ID() != src.m.ID() {
		t.Fatalf("resumed: have %08b, name %q", []byte(got), p.Name())
	}
	if got, ok := s.Partial(p.ID()); !ok || got != p {
		t.Fatal("Partial(id) does not return the resumed partial")
	}
	if again, err := s.CreatePartial("movie.bin", src.m); err != nil || again != p {
		t.Fatalf("CreatePartial after resume = %p, %v", again, err)
	}

	writePieces(t, p, src, 4, 0, 2)
	e, err := p.Complete()
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if e.Name != "movie.bin" || e.ID != src.m.ID() {
		t.Fatalf("entry = %+v", e)
	}
	got, err := os.ReadFile(filepath.Join(dir, "movie.bin"))
	if err != nil || sha256.Sum256(got) != sha256.Sum256(src.data) {
		t.Fatalf("completed file differs from the source (%v)", err)
	}
	for _, ext := range []string{".part", ".manifest", ".have"} {
		if _, err := os.Stat(recordFile(dir, e.ID, ext)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s left behind (%v)", ext, err)
		}
	}
	if _, ok := s.Partial(e.ID); ok {
		t.Fatal("completed partial still listed")
	}
	if l, ok := s.Lookup(e.ID); !ok || l.Name != "movie.bin" {
		t.Fatal("completed file not in the catalog")
	}
	if n, err := s.ReadPiece(e.ID, 5, buf); err != nil || !bytes.Equal(buf[:n], src.piece(5)) {
		t.Fatalf("ReadPiece of completed file: %v", err)
	}
	if _, err := p.Complete(); err == nil {
		t.Fatal("second Complete succeeded")
	}
	if _, err := s.CreatePartial("again.bin", src.m); !errors.Is(err, share.ErrAlreadyShared) {
		t.Fatalf("CreatePartial of shared content = %v, want ErrAlreadyShared", err)
	}
	assertNoTemps(t, dir)
}

func TestPartial_CorruptHaveMeansNoPieces(t *testing.T) {
	const pieces = 11 // not a multiple of 8, so there are spare bits
	tests := []struct {
		name    string
		corrupt func(path string, have []byte) error
	}{
		{name: "missing", corrupt: func(path string, _ []byte) error { return os.Remove(path) }},
		{name: "empty", corrupt: func(path string, _ []byte) error { return os.WriteFile(path, nil, 0o644) }},
		{name: "truncated", corrupt: func(path string, h []byte) error { return os.WriteFile(path, h[:len(h)-1], 0o644) }},
		{name: "bad checksum", corrupt: func(path string, h []byte) error {
			h[len(h)-1] ^= 1
			return os.WriteFile(path, h, 0o644)
		}},
		{name: "flipped bit", corrupt: func(path string, h []byte) error {
			h[0] ^= 0x01
			return os.WriteFile(path, h, 0o644)
		}},
		{name: "spare bits set, valid checksum", corrupt: func(path string, h []byte) error {
			bits := bytes.Clone(h[:2])
			bits[1] |= 0x01
			return os.WriteFile(path, withCRC(bits), 0o644)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newSource(t, pieces*ps, 2, ps)
			dir, s, p := startPartial(t, "f.bin", src)
			writePieces(t, p, src, 0, 10)
			s.Close()

			path := recordFile(dir, src.m.ID(), ".have")
			have, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.corrupt(path, have); err != nil {
				t.Fatal(err)
			}

			s = openShare(t, dir, ps)
			p = onlyPartial(t, s)
			wantHeld := 0
			if got := p.Have().Count(); got != wantHeld || p.Missing() != pieces-wantHeld {
				t.Fatalf("resumed with %d pieces, missing %d; want %d", got, p.Missing(), wantHeld)
			}
			// And it can still finish.
			for i := range pieces {
				if err := p.WritePiece(i, src.piece(i)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := p.Complete(); err != nil {
				t.Fatalf("Complete: %v", err)
			}
		})
	}
}

func withCRC(bits []byte) []byte {
	return binary.BigEndian.AppendUint32(bytes.Clone(bits), crc32.Checksum(bits, crc32.MakeTable(crc32.Castagnoli)))
}

func TestPartial_ResumeTrustsRecordWithoutRehashing(t *testing.T) {
	src := newSource(t, 4*ps, 3, ps)
	dir, s, p := startPartial(t, "f.bin", src)
	writePieces(t, p, src, 0, 1, 2)
	s.Close() // checkpoints

	// Overwrite piece 1 on disk behind the record's back: a resume that
	// re-hashed would notice; this one must keep the record's word (the
	// record is only written after the data is fsynced).
	f, err := os.OpenFile(recordFile(dir, src.m.ID(), ".part"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, ps), int64(ps)); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s = openShare(t, dir, ps)
	p = onlyPartial(t, s)
	if have := p.Have(); !have.Has(0) || !have.Has(1) || !have.Has(2) || have.Count() != 3 {
		t.Fatalf("have = %08b, want pieces 0, 1 and 2 as recorded", []byte(have))
	}
}

func TestPartial_CheckpointSavesEveryHeldPiece(t *testing.T) {
	src := newSource(t, 6*ps, 4, ps)
	_, s, p := startPartial(t, "f.bin", src)
	// Written faster than checkpointEvery: not all saved yet.
	writePieces(t, p, src, 0, 1, 2, 3)
	if err := p.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	got, err := share.SavedHave(s, src.m.ID(), 6)
	if err != nil || got.Count() != 4 {
		t.Fatalf("after Checkpoint the record holds %d pieces (%v), want 4", got.Count(), err)
	}
}

func TestPartials_RemovesBadRecords(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(t *testing.T, dir string, id content.ID)
	}{
		{name: "manifest does not hash to id", corrupt: func(t *testing.T, dir string, id content.ID) {
			// Change one hex digit of the first piece hash.
			path := recordFile(dir, id, ".manifest")
			data, _ := os.ReadFile(path)
			i := bytes.Index(data, []byte(`"pieces":["`)) + len(`"pieces":["`)
			if data[i] == '0' {
				data[i] = '1'
			} else {
				data[i] = '0'
			}
			os.WriteFile(path, data, 0o644)
		}},
		{name: "manifest not json", corrupt: func(t *testing.T, dir string, id content.ID) {
			os.WriteFile(recordFile(dir, id, ".manifest"), []byte("{"), 0o644)
		}},
		{name: "manifest with escaping name", corrupt: func(t *testing.T, dir string, id content.ID) {
			path := recordFile(dir, id, ".manifest")
			data, _ := os.ReadFile(path)
			os.WriteFile(path, bytes.Replace(data, []byte(`"f.bin"`), []byte(`"../f.bin"`), 1), 0o644)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newSource(t, 2*ps, 4, ps)
			dir, s, p := startPartial(t, "f.bin", src)
			writePieces(t, p, src, 0)
			s.Close()
			tt.corrupt(t, dir, src.m.ID())
			// Orphans of an interrupted create go too.
			other := content.ID{9}
			os.WriteFile(recordFile(dir, other, ".part"), []byte("x"), 0o644)
			os.WriteFile(recordFile(dir, other, ".have.tmp-abc"), []byte("x"), 0o644)

			s = openShare(t, dir, ps)
			ps, err := s.Partials()
			if err != nil || len(ps) != 0 {
				t.Fatalf("Partials = %d, %v; want none", len(ps), err)
			}
			assertNoRecords(t, dir)
		})
	}
}

func TestPartial_CompleteNameCollision(t *testing.T) {
	tests := []struct {
		label string
		name  string
	}{
		{label: "short", name: "a.bin"},
		// The suffix does not fit: the name is trimmed on a rune boundary.
		{label: "long", name: strings.Repeat("é", 125)},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			dir := t.TempDir()
			existing := []byte("other content")
			writeFile(t, dir, tt.name, existing)
			src := newSource(t, 2*ps+1, 5, ps)
			s := openShare(t, dir, ps)
			scan(t, s)

			p, err := s.CreatePartial(tt.name, src.m)
			if err != nil {
				t.Fatal(err)
			}
			writePieces(t, p, src, 2, 1, 0)
			e, err := p.Complete()
			if err != nil {
				t.Fatalf("Complete: %v", err)
			}
			if !strings.HasSuffix(e.Name, " ("+src.m.ID().Short()+")") || share.ValidateName(e.Name) != nil {
				t.Fatalf("collision name = %q", e.Name)
			}
			if got, _ := os.ReadFile(filepath.Join(dir, tt.name)); !bytes.Equal(got, existing) {
				t.Fatal("existing file was overwritten")
			}
			if got, _ := os.ReadFile(filepath.Join(dir, e.Name)); !bytes.Equal(got, src.data) {
				t.Fatal("downloaded file differs")
			}
			if scan(t, s) {
				t.Fatal("scan after Complete changed the catalog")
			}
			if len(s.Catalog()) != 2 {
				t.Fatalf("catalog = %q", names(s.Catalog()))
			}
		})
	}
}

func TestPartial_CompleteKeepsDownloadedPieceSize(t *testing.T) {
	src := newSource(t, 3*ps, 6, 2*ps) // fetched with a piece size the node does not use
	dir, s, p := startPartial(t, "f.bin", src)
	writePieces(t, p, src, 0, 1)
	if _, err := p.Complete(); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = openShare(t, dir, ps)
	scan(t, s)
	e, ok := s.LookupName("f.bin")
	if !ok || e.ID != src.m.ID() || share.HashCount(s) != 0 {
		t.Fatalf("after reopen: id %s (want %s), hashed %d", e.ID.Short(), src.m.ID().Short(), share.HashCount(s))
	}
}

func TestPartial_EmptyFile(t *testing.T) {
	src := newSource(t, 0, 0, ps)
	dir, _, p := startPartial(t, "empty.txt", src)
	if p.Missing() != 0 {
		t.Fatalf("Missing = %d", p.Missing())
	}
	e, err := p.Complete()
	if err != nil || e.Manifest.Size != 0 {
		t.Fatalf("Complete = %+v, %v", e, err)
	}
	if st, err := os.Stat(filepath.Join(dir, "empty.txt")); err != nil || st.Size() != 0 {
		t.Fatalf("empty file: %v", err)
	}
}

func TestPartial_ConcurrentWrites(t *testing.T) {
	const pieces = 40
	src := newSource(t, pieces*ps-77, 7, ps)
	dir, s, p := startPartial(t, "f.bin", src)
	var wg sync.WaitGroup
	errs := make(chan error, 8*pieces)
	for w := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			buf := make([]byte, ps)
			for _, i := range r.Perm(pieces) {
				if err := p.WritePiece(i, src.piece(i)); err != nil {
					errs <- err
				}
				p.ReadPiece(i, buf)
				p.Have()
				p.Missing()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("WritePiece: %v", err)
	}
	if p.Missing() != 0 {
		t.Fatalf("Missing = %d", p.Missing())
	}
	s.Close()

	// The record saved last holds every piece.
	s = openShare(t, dir, ps)
	p = onlyPartial(t, s)
	if p.Missing() != 0 {
		t.Fatalf("resumed with %d missing", p.Missing())
	}
	if _, err := p.Complete(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "f.bin"))
	if sha256.Sum256(got) != sha256.Sum256(src.data) {
		t.Fatal("completed file differs")
	}
}

func TestPartial_Remove(t *testing.T) {
	src := newSource(t, 2*ps, 8, ps)
	dir, s, p := startPartial(t, "f.bin", src)
	writePieces(t, p, src, 1)
	if err := p.Remove(); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, ok := s.Partial(src.m.ID()); ok {
		t.Fatal("removed partial still listed")
	}
	assertNoRecords(t, dir)
	if err := p.WritePiece(0, src.piece(0)); err == nil {
		t.Fatal("WritePiece after Remove succeeded")
	}
	if _, err := p.Complete(); err == nil {
		t.Fatal("Complete after Remove succeeded")
	}
	if ps, err := s.Partials(); err != nil || len(ps) != 0 {
		t.Fatalf("Partials = %d, %v", len(ps), err)
	}
}

func TestCreatePartial_Rejects(t *testing.T) {
	s := openShare(t, t.TempDir(), ps)
	src := newSource(t, ps, 9, ps)
	tests := []struct {
		name string
		file string
		m    content.Manifest
	}{
		{name: "escaping name", file: "../f.bin", m: src.m},
		{name: "hidden name", file: ".netlab", m: src.m},
		{name: "bad manifest", file: "f.bin", m: content.Manifest{Size: 10, PieceSize: ps}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.CreatePartial(tt.file, tt.m); err == nil {
				t.Fatal("CreatePartial succeeded")
			}
		})
	}
}

func TestPartial_SameContentAlreadyPlaced(t *testing.T) {
	src := newSource(t, 2*ps+5, 10, ps)
	dir, s, p := startPartial(t, "f.bin", src)
	if p.Manifest().ID() != src.m.ID() {
		t.Fatal("Manifest() differs from the one given")
	}
	writePieces(t, p, src, 0, 1, 2)
	// The same bytes arrive under the same name by another route.
	if _, err := s.Put(t.Context(), "f.bin", bytes.NewReader(src.data), 1<<20); err != nil {
		t.Fatal(err)
	}
	e, err := p.Complete()
	if err != nil || e.Name != "f.bin" || e.ID != src.m.ID() {
		t.Fatalf("Complete = %+v, %v; want the existing f.bin", e, err)
	}
	if len(s.Catalog()) != 1 {
		t.Fatalf("catalog = %q", names(s.Catalog()))
	}
	assertNoRecords(t, dir)
}

func TestPartials_DropsRecordOfSharedContent(t *testing.T) {
	src := newSource(t, 2*ps, 11, ps)
	dir, s, p := startPartial(t, "f.bin", src)
	writePieces(t, p, src, 0)
	s.Close()
	// As if the process stopped after placing the file but before removing
	// the record.
	writeFile(t, dir, "f.bin", src.data)

	s = openShare(t, dir, ps)
	scan(t, s)
	if ps, err := s.Partials(); err != nil || len(ps) != 0 {
		t.Fatalf("Partials = %d, %v; want none", len(ps), err)
	}
	assertNoRecords(t, dir)
}

func TestShare_ConcurrentUse(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "seed.bin", pattern(3*ps, 1))
	s := openShare(t, dir, ps)
	scan(t, s)
	seed, _ := s.LookupName("seed.bin")
	const puts = 6
	src := newSource(t, 8*ps+1, 12, ps)
	p, err := s.CreatePartial("download.bin", src.m)
	if err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	wg.Go(func() {
		for range 20 {
			if _, err := s.Scan(t.Context()); err != nil {
				errs <- err
			}
			if _, err := s.Partials(); err != nil {
				errs <- err
			}
		}
	})
	for i := range puts {
		wg.Go(func() {
			name := "put-" + string(rune('a'+i)) + ".bin"
			if _, err := s.Put(t.Context(), name, bytes.NewReader(pattern(ps+i, byte(20+i))), 1<<20); err != nil {
				errs <- err
			}
		})
	}
	for i := range src.m.NumPieces() {
		wg.Go(func() {
			if err := p.WritePiece(i, src.piece(i)); err != nil {
				errs <- err
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			buf := make([]byte, ps)
			for i := range 30 {
				if _, err := s.ReadPiece(seed.ID, i%3, buf); err != nil {
					errs <- err
				}
				s.Catalog()
				s.Lookup(seed.ID)
			}
		})
	}
	wg.Wait()
	if _, err := p.Complete(); err != nil {
		t.Fatal(err)
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	scan(t, s)
	if got := len(s.Catalog()); got != puts+2 {
		t.Fatalf("catalog has %d files, want %d: %q", got, puts+2, names(s.Catalog()))
	}
	assertNoTemps(t, dir)
}
