package share_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/share"
)

const ps = content.MinPieceSize

// pattern returns n bytes that differ with seed, so files have distinct ids.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31+i/ps) ^ seed
	}
	return b
}

func openShare(t *testing.T, dir string, pieceSize int) *share.Share {
	t.Helper()
	s, err := share.Open(dir, share.Options{PieceSize: pieceSize, Log: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func scan(t *testing.T, s *share.Share) bool {
	t.Helper()
	changed, err := s.Scan(t.Context())
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return changed
}

func writeFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// shareFile opens a scanned share over a fresh directory that holds one file,
// name, and returns the file's catalog entry.
func shareFile(t *testing.T, name string, data []byte) (string, *share.Share, share.Entry) {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, name, data)
	s := openShare(t, dir, ps)
	scan(t, s)
	e, ok := s.LookupName(name)
	if !ok {
		t.Fatalf("%s not in the catalog after Scan", name)
	}
	return dir, s, e
}

func idOf(t *testing.T, data []byte, pieceSize int) content.ID {
	t.Helper()
	m, err := content.HashReader(bytes.NewReader(data), int64(len(data)), pieceSize, content.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return m.ID()
}

func names(entries []share.Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Name
	}
	return out
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"ok.txt", true},
		{"Ünïcödé 文件 🎉.pdf", true},
		{"with space inside.txt", true},
		{"a..b", true},
		{strings.Repeat("x", 255), true},
		{"../x", false},
		{"/etc/passwd", false},
		{"a/b", false},
		{`a\b`, false},
		{"..", false},
		{".", false},
		{".netlab", false},
		{".hidden", false},
		{"", false},
		{"x\x00", false},
		{"tab\there", false},
		{"new\nline", false},
		{"del\x7f", false},
		{"c1\u0085", false},
		{strings.Repeat("x", 256), false},
		{"bad\xffutf8", false},
		{" lead", false},
		{"trail ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := share.ValidateName(tt.name)
			if tt.ok {
				if err != nil {
					t.Fatalf("ValidateName(%q) = %v", tt.name, err)
				}
				return
			}
			var ne *share.NameError
			if !errors.As(err, &ne) {
				t.Fatalf("ValidateName(%q) = %v, want *NameError", tt.name, err)
			}
			if ne.Name != tt.name || ne.Reason == "" || !strings.HasPrefix(err.Error(), "invalid file name ") {
				t.Fatalf("NameError = %+v, %q", ne, err)
			}
		})
	}
}

func TestShare_StaysInsideRoot(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("do not share"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "inside.txt", []byte("shared"))
	links := map[string]string{
		"absolute-escape": outside, // absolute, outside
		"relative-escape": filepath.Join("..", filepath.Base(filepath.Dir(outside)), "secret"),
		"inside-link":     "inside.txt", // inside, still a symlink
		"dangling":        "nowhere",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "subdir"), "nested.txt", []byte("nested"))
	writeFile(t, dir, ".hidden", []byte("hidden"))
	writeFile(t, dir, "bad\nname", []byte("bad"))

	s := openShare(t, dir, ps)
	scan(t, s)
	if got := names(s.Catalog()); len(got) != 1 || got[0] != "inside.txt" {
		t.Fatalf("catalog = %q, want only inside.txt", got)
	}

	tests := []struct {
		name     string
		wantName bool // refused by ValidateName
	}{
		{name: "../../etc/passwd", wantName: true},
		{name: "/etc/passwd", wantName: true},
		{name: "subdir/nested.txt", wantName: true},
		{name: ".netlab", wantName: true},
		{name: "absolute-escape"},
		{name: "relative-escape"},
		{name: "inside-link"},
		{name: "dangling"},
		{name: "subdir"},
		{name: "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := s.OpenFile(tt.name)
			if err == nil {
				f.Close()
				t.Fatalf("OpenFile(%q) succeeded", tt.name)
			}
			var ne *share.NameError
			if errors.As(err, &ne) != tt.wantName {
				t.Fatalf("OpenFile(%q) = %v, NameError %v", tt.name, err, tt.wantName)
			}
		})
	}

	f, err := s.OpenFile("inside.txt")
	if err != nil {
		t.Fatalf("OpenFile(inside.txt): %v", err)
	}
	f.Close()
}

func TestShare_ScanReusesCacheAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{
		"a.bin": pattern(3*ps+7, 1),
		"b.bin": pattern(ps, 2),
		"empty": nil,
	}
	for name, data := range files {
		writeFile(t, dir, name, data)
	}

	s := openShare(t, dir, ps)
	if !scan(t, s) {
		t.Fatal("first scan reported no change")
	}
	if got := share.HashCount(s); got != int64(len(files)) {
		t.Fatalf("hashed %d files, want %d", got, len(files))
	}
	for name, data := range files {
		e, ok := s.LookupName(name)
		if !ok || e.ID != idOf(t, data, ps) || e.Manifest.Size != int64(len(data)) {
			t.Fatalf("LookupName(%q) = %+v, %v", name, e, ok)
		}
	}
	if scan(t, s) {
		t.Fatal("rescan of unchanged files reported a change")
	}
	before := s.Catalog()
	s.Close()

	s = openShare(t, dir, ps)
	if !scan(t, s) {
		t.Fatal("first scan after reopen reported no change")
	}
	if got := share.HashCount(s); got != 0 {
		t.Fatalf("reopened share hashed %d files, want 0", got)
	}
	after := s.Catalog()
	if len(after) != len(before) {
		t.Fatalf("catalog has %d entries, want %d", len(after), len(before))
	}
	for i := range after {
		if after[i].Name != before[i].Name || after[i].ID != before[i].ID || !after[i].ModTime.Equal(before[i].ModTime) {
			t.Fatalf("entry %d = %+v, want %+v", i, after[i], before[i])
		}
	}
}

func TestShare_CacheKeyIsNameSizeMtimePieceSize(t *testing.T) {
	dir := t.TempDir()
	orig := pattern(2*ps, 1)
	writeFile(t, dir, "f.bin", orig)
	s := openShare(t, dir, ps)
	scan(t, s)
	e, _ := s.LookupName("f.bin")
	s.Close()

	// Same size and mtime: the cache wins, by design, without reading the file.
	writeFile(t, dir, "f.bin", pattern(2*ps, 9))
	if err := os.Chtimes(filepath.Join(dir, "f.bin"), e.ModTime, e.ModTime); err != nil {
		t.Fatal(err)
	}
	s = openShare(t, dir, ps)
	scan(t, s)
	if got, _ := s.LookupName("f.bin"); got.ID != e.ID || share.HashCount(s) != 0 {
		t.Fatalf("same size and mtime: id %s, hashed %d; want cached id %s", got.ID.Short(), share.HashCount(s), e.ID.Short())
	}
	s.Close()

	// Another piece size: rehashed, and the id changes with it.
	s = openShare(t, dir, 2*ps)
	scan(t, s)
	if got, _ := s.LookupName("f.bin"); got.ID == e.ID || share.HashCount(s) != 1 {
		t.Fatalf("new piece size: id %s, hashed %d; want a new id", got.ID.Short(), share.HashCount(s))
	}
}

func TestShare_ScanSeesChanges(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "keep.bin", pattern(ps, 1))
	writeFile(t, dir, "edit.bin", pattern(ps+1, 2))
	writeFile(t, dir, "gone.bin", pattern(10, 3))
	s := openShare(t, dir, ps)
	scan(t, s)
	old, _ := s.LookupName("edit.bin")
	oldGone, _ := s.LookupName("gone.bin")

	edited := pattern(ps+1, 4)
	writeFile(t, dir, "edit.bin", edited)
	// Timestamps can be coarser than the test; make the edit visible.
	later := old.ModTime.Add(time.Second)
	if err := os.Chtimes(filepath.Join(dir, "edit.bin"), later, later); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "gone.bin")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "new.bin", pattern(5, 5))

	hashed := share.HashCount(s)
	if !scan(t, s) {
		t.Fatal("scan reported no change")
	}
	if got := share.HashCount(s) - hashed; got != 2 {
		t.Fatalf("hashed %d files, want 2 (edit.bin, new.bin)", got)
	}
	if got := names(s.Catalog()); strings.Join(got, ",") != "edit.bin,keep.bin,new.bin" {
		t.Fatalf("catalog = %q", got)
	}
	e, _ := s.LookupName("edit.bin")
	if e.ID != idOf(t, edited, ps) || e.ID == old.ID {
		t.Fatalf("edit.bin id = %s, want the new content's", e.ID.Short())
	}
	if _, ok := s.Lookup(oldGone.ID); ok {
		t.Fatal("removed file still found by id")
	}
	if _, ok := s.Lookup(old.ID); ok {
		t.Fatal("old content of edited file still found by id")
	}
}

func TestShare_DuplicateContentSharesID(t *testing.T) {
	dir := t.TempDir()
	data := pattern(ps+3, 7)
	writeFile(t, dir, "one.bin", data)
	writeFile(t, dir, "two.bin", data)
	s := openShare(t, dir, ps)
	scan(t, s)
	a, _ := s.LookupName("one.bin")
	b, _ := s.LookupName("two.bin")
	if a.ID != b.ID {
		t.Fatal("identical files have different ids")
	}
	e, ok := s.Lookup(a.ID)
	if !ok || (e.Name != "one.bin" && e.Name != "two.bin") {
		t.Fatalf("Lookup = %+v, %v", e, ok)
	}
}

func TestShare_CorruptCacheIgnored(t *testing.T) {
	tests := []struct {
		name       string
		corrupt    func(t *testing.T, data []byte) []byte
		wantHashed int64
	}{
		{name: "garbage", corrupt: func(*testing.T, []byte) []byte { return []byte("\x00not json{") }, wantHashed: 2},
		{name: "truncated", corrupt: func(_ *testing.T, d []byte) []byte { return d[:len(d)/2] }, wantHashed: 2},
		{name: "empty", corrupt: func(*testing.T, []byte) []byte { return nil }, wantHashed: 2},
		{name: "unknown version", corrupt: func(t *testing.T, d []byte) []byte {
			return editCache(t, d, func(m map[string]any) { m["version"] = 99 })
		}, wantHashed: 2},
		{name: "one bad entry", corrupt: func(t *testing.T, d []byte) []byte {
			return editCache(t, d, func(m map[string]any) {
				m["files"].([]any)[0].(map[string]any)["hashes"] = "AAAA"
			})
		}, wantHashed: 1},
		{name: "escaping name", corrupt: func(t *testing.T, d []byte) []byte {
			return editCache(t, d, func(m map[string]any) {
				m["files"].([]any)[0].(map[string]any)["name"] = "../a.bin"
			})
		}, wantHashed: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "a.bin", pattern(2*ps, 1))
			writeFile(t, dir, "b.bin", pattern(ps/2, 2))
			s := openShare(t, dir, ps)
			scan(t, s)
			want := s.Catalog()
			s.Close()

			path := filepath.Join(dir, ".netlab", "hashes.json")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tt.corrupt(t, data), 0o644); err != nil {
				t.Fatal(err)
			}

			s = openShare(t, dir, ps)
			scan(t, s)
			if got := share.HashCount(s); got != tt.wantHashed {
				t.Fatalf("hashed %d files, want %d", got, tt.wantHashed)
			}
			got := s.Catalog()
			if len(got) != len(want) || got[0].ID != want[0].ID || got[1].ID != want[1].ID {
				t.Fatalf("catalog = %+v, want %+v", got, want)
			}
			s.Close()

			// The scan repaired the cache.
			s = openShare(t, dir, ps)
			scan(t, s)
			if got := share.HashCount(s); got != 0 {
				t.Fatalf("after repair hashed %d files, want 0", got)
			}
		})
	}
}

func editCache(t *testing.T, data []byte, edit func(map[string]any)) []byte {
	t.Helper()
	// UseNumber: nanosecond mtimes do not survive a float64.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestShare_ScanHonorsCancel(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.bin", pattern(4*ps, 1))
	s := openShare(t, dir, ps)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Scan(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Scan = %v, want context.Canceled", err)
	}
	if len(s.Catalog()) != 0 {
		t.Fatal("cancelled scan changed the catalog")
	}
}

func TestShare_Put(t *testing.T) {
	const limit = 3 * ps
	tests := []struct {
		name     string
		file     string
		data     []byte
		ctx      func(context.Context) context.Context
		wantIs   error
		wantName bool
	}{
		{name: "ok", file: "new.bin", data: pattern(2*ps+9, 1)},
		{name: "empty", file: "empty.bin", data: nil},
		{name: "exactly the limit", file: "full.bin", data: pattern(limit, 2)},
		{name: "one byte over", file: "big.bin", data: pattern(limit+1, 3), wantIs: share.ErrTooLarge},
		{name: "existing name", file: "taken.bin", data: pattern(10, 4), wantIs: fs.ErrExist},
		{name: "escaping name", file: "../x", data: pattern(10, 5), wantName: true},
		{name: "hidden name", file: ".netlab", data: pattern(10, 5), wantName: true},
		{name: "cancelled", file: "c.bin", data: pattern(ps, 6), wantIs: context.Canceled,
			ctx: func(ctx context.Context) context.Context {
				ctx, cancel := context.WithCancel(ctx)
				cancel()
				return ctx
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			taken := []byte("original")
			writeFile(t, dir, "taken.bin", taken)
			s := openShare(t, dir, ps)
			scan(t, s)
			ctx := t.Context()
			if tt.ctx != nil {
				ctx = tt.ctx(ctx)
			}

			e, err := s.Put(ctx, tt.file, bytes.NewReader(tt.data), limit)
			if tt.wantIs != nil || tt.wantName {
				var ne *share.NameError
				if tt.wantName && !errors.As(err, &ne) {
					t.Fatalf("Put = %v, want *NameError", err)
				}
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Fatalf("Put = %v, want %v", err, tt.wantIs)
				}
				if tt.file != "taken.bin" && tt.file != ".netlab" {
					if _, err := os.Lstat(filepath.Join(dir, tt.file)); !errors.Is(err, fs.ErrNotExist) {
						t.Fatalf("failed Put left %q behind (%v)", tt.file, err)
					}
				}
				if got, _ := os.ReadFile(filepath.Join(dir, "taken.bin")); !bytes.Equal(got, taken) {
					t.Fatal("existing file was modified")
				}
				assertNoTemps(t, dir)
				return
			}
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			if e.Name != tt.file || e.ID != idOf(t, tt.data, ps) {
				t.Fatalf("entry = %+v", e)
			}
			got, err := os.ReadFile(filepath.Join(dir, tt.file))
			if err != nil || !bytes.Equal(got, tt.data) {
				t.Fatalf("stored file differs (%v)", err)
			}
			if l, ok := s.Lookup(e.ID); !ok || l.Name != tt.file {
				t.Fatalf("Lookup = %+v, %v", l, ok)
			}
			assertNoTemps(t, dir)

			// The next scan agrees and needs no hashing.
			hashed := share.HashCount(s)
			if scan(t, s) || share.HashCount(s) != hashed {
				t.Fatal("scan after Put rehashed or changed the catalog")
			}
			if _, err := s.Put(t.Context(), tt.file, bytes.NewReader(nil), limit); !errors.Is(err, fs.ErrExist) {
				t.Fatalf("second Put = %v, want fs.ErrExist", err)
			}
		})
	}
}

func assertNoTemps(t *testing.T, dir string) {
	t.Helper()
	for _, sub := range []string{".netlab", ".netlab/partial"} {
		ents, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if strings.Contains(e.Name(), ".tmp-") {
				t.Fatalf("temp file left: %s/%s", sub, e.Name())
			}
		}
	}
}

func TestShare_OfferPersists(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.txt", []byte("a"))
	writeFile(t, dir, "b.txt", []byte("b"))
	s := openShare(t, dir, ps)
	scan(t, s)

	if err := s.Offer("missing.txt"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Offer(missing) = %v, want fs.ErrNotExist", err)
	}
	if err := s.Offer("../a.txt"); err == nil {
		t.Fatal("Offer(../a.txt) succeeded")
	}
	offered := func(s *share.Share) []string {
		var out []string
		for _, e := range s.Catalog() {
			if e.Offered {
				out = append(out, e.Name)
			}
		}
		return out
	}
	if err := s.Offer("a.txt"); err != nil {
		t.Fatal(err)
	}
	if err := s.Offer("b.txt"); err != nil {
		t.Fatal(err)
	}
	if got := offered(s); len(got) != 1 || got[0] != "b.txt" {
		t.Fatalf("offered = %q, want [b.txt]", got)
	}
	s.Close()

	s = openShare(t, dir, ps)
	scan(t, s)
	if got := offered(s); len(got) != 1 || got[0] != "b.txt" {
		t.Fatalf("after reopen offered = %q, want [b.txt]", got)
	}
	if e, _ := s.LookupName("b.txt"); !e.Offered {
		t.Fatal("LookupName does not report Offered")
	}
	if e, _ := s.Lookup(idOf(t, []byte("b"), ps)); !e.Offered {
		t.Fatal("Lookup does not report Offered")
	}
}

func TestShare_ReadPiece(t *testing.T) {
	data := pattern(2*ps+100, 1)
	dir, s, e := shareFile(t, "f.bin", data)
	buf := make([]byte, ps)

	for i := range e.Manifest.NumPieces() {
		n, err := s.ReadPiece(e.ID, i, buf)
		if err != nil {
			t.Fatalf("ReadPiece(%d): %v", i, err)
		}
		off := e.Manifest.PieceOffset(i)
		if !bytes.Equal(buf[:n], data[off:off+int64(e.Manifest.PieceLen(i))]) || !e.Manifest.Verify(i, buf[:n]) {
			t.Fatalf("piece %d differs", i)
		}
	}

	tests := []struct {
		name   string
		id     content.ID
		i      int
		buf    []byte
		wantIs error
	}{
		{name: "unknown id", id: content.ID{1}, i: 0, buf: buf, wantIs: fs.ErrNotExist},
		{name: "negative", id: e.ID, i: -1, buf: buf},
		{name: "past end", id: e.ID, i: 3, buf: buf},
		{name: "small buffer", id: e.ID, i: 0, buf: buf[:ps-1]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.ReadPiece(tt.id, tt.i, tt.buf)
			if err == nil || (tt.wantIs != nil && !errors.Is(err, tt.wantIs)) {
				t.Fatalf("ReadPiece = %v, want error %v", err, tt.wantIs)
			}
		})
	}

	// Concurrent readers while the file is replaced and rescanned.
	edited := pattern(2*ps+100, 2)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			b := make([]byte, ps)
			for i := range 50 {
				s.ReadPiece(e.ID, i%3, b)
			}
		})
	}
	writeFile(t, dir, "f.bin", edited)
	later := e.ModTime.Add(time.Second)
	if err := os.Chtimes(filepath.Join(dir, "f.bin"), later, later); err != nil {
		t.Fatal(err)
	}
	scan(t, s)
	wg.Wait()

	if _, err := s.ReadPiece(e.ID, 0, buf); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadPiece of replaced content = %v, want fs.ErrNotExist", err)
	}
	ne, _ := s.LookupName("f.bin")
	if n, err := s.ReadPiece(ne.ID, 2, buf); err != nil || !bytes.Equal(buf[:n], edited[2*ps:]) {
		t.Fatalf("ReadPiece of new content: %v", err)
	}
}

func TestShare_OpenPieceSpansThePieceAndKeepsTheFileOpen(t *testing.T) {
	data := pattern(2*ps+100, 3)
	dir, s, e := shareFile(t, "f.bin", data)

	for i := range e.Manifest.NumPieces() {
		sec, err := s.OpenPiece(e.ID, i)
		if err != nil {
			t.Fatalf("OpenPiece(%d): %v", i, err)
		}
		got := make([]byte, sec.Size)
		if _, err := sec.File.ReadAt(got, sec.Offset); err != nil {
			t.Fatal(err)
		}
		if !e.Manifest.Verify(i, got) {
			t.Fatalf("piece %d: the section does not hold the piece", i)
		}
		sec.Release()
	}
	for _, i := range []int{-1, 3} {
		if _, err := s.OpenPiece(e.ID, i); err == nil {
			t.Fatalf("OpenPiece(%d) of a 3-piece file succeeded", i)
		}
	}
	if _, err := s.OpenPiece(content.ID{1}, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("OpenPiece of an unknown id = %v, want fs.ErrNotExist", err)
	}

	// A section in use survives the file being replaced and rescanned:
	// its descriptor is closed only on Release.
	sec, err := s.OpenPiece(e.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "f.bin", pattern(2*ps+100, 4))
	later := e.ModTime.Add(time.Second)
	if err := os.Chtimes(filepath.Join(dir, "f.bin"), later, later); err != nil {
		t.Fatal(err)
	}
	scan(t, s)
	if _, err := s.ReadPiece(e.ID, 0, make([]byte, ps)); err == nil {
		t.Fatal("old content still readable after the rescan")
	}
	if _, err := sec.File.ReadAt(make([]byte, 1), 0); err != nil {
		t.Fatalf("section's file closed while in use: %v", err)
	}
	sec.Release()
}

func TestShare_FreeBytes(t *testing.T) {
	s := openShare(t, t.TempDir(), ps)
	n, err := s.FreeBytes()
	if err != nil || n <= 0 {
		t.Fatalf("FreeBytes = %d, %v", n, err)
	}
}

func TestOpen_Errors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
		opts share.Options
	}{
		{name: "missing dir", dir: filepath.Join(t.TempDir(), "nope")},
		{name: "not a dir", dir: file},
		{name: "piece size too small", dir: t.TempDir(), opts: share.Options{PieceSize: 1000}},
		{name: "piece size too big", dir: t.TempDir(), opts: share.Options{PieceSize: content.MaxPieceSize + 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := share.Open(tt.dir, tt.opts)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
		})
	}
}

func TestOpen_RemovesLeftoverTemps(t *testing.T) {
	dir := t.TempDir()
	s := openShare(t, dir, ps)
	s.Close()
	leftover := filepath.Join(dir, ".netlab", "upload.tmp-crashed")
	if err := os.WriteFile(leftover, []byte("half an upload"), 0o644); err != nil {
		t.Fatal(err)
	}
	openShare(t, dir, ps)
	if _, err := os.Stat(leftover); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("leftover temp file still there (%v)", err)
	}
}

func TestScan_WaitsForFilesToSettle(t *testing.T) {
	dir := t.TempDir()
	s, err := share.Open(dir, share.Options{PieceSize: content.MinPieceSize, Log: zaptest.NewLogger(t), Settle: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	path := filepath.Join(dir, "growing.bin")
	if err := os.WriteFile(path, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	scan(t, s)
	if len(s.Catalog()) != 0 {
		t.Fatalf("a file modified just now was shared: %v", s.Catalog())
	}
	// Unmodified for longer than Settle: shared.
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	scan(t, s)
	if len(s.Catalog()) != 1 {
		t.Fatalf("a settled file was not shared: %v", s.Catalog())
	}
}
