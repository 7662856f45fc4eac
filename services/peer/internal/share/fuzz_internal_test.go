package share

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/netlab/netlab/services/peer/internal/content"
)

// fuzzManifest is the manifest of size pattern bytes in pieces of pieceSize.
func fuzzManifest(tb testing.TB, size, pieceSize int) content.Manifest {
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	m, err := content.HashReader(bytes.NewReader(data), int64(size), pieceSize, content.SHA256)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// FuzzValidateName: an accepted name is one local path element that stays
// inside the share root (a file of that name is created inside it), and
// its collision variant (suffixName) is accepted too; a refused name gives
// a *NameError carrying it.
func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"file.txt", "a b", "Ünïcödé ✓", "..", ".", ".netlab", "../x", "a/b", `a\b`,
		"a\x00b", "a\nb", " lead", "trail ", "\u00a0nbsp", "x\u0085", "\xff", strings.Repeat("é", 128),
		strings.Repeat("a", 255), strings.Repeat("a", 256), "CON", "a:b", "*?", "~", "-rf"} {
		f.Add(s)
	}
	root, err := os.OpenRoot(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { root.Close() })
	id := fuzzManifest(f, 1, content.MinPieceSize).ID()
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateName(name)
		if err != nil {
			var ne *NameError
			if !errors.As(err, &ne) || ne.Name != name {
				t.Fatalf("ValidateName(%q) = %v; want a *NameError", name, err)
			}
			return
		}
		if !filepath.IsLocal(name) || filepath.Base(name) != name || strings.HasPrefix(name, ".") ||
			strings.ContainsAny(name, "/\\\x00") || !utf8.ValidString(name) || len(name) > maxNameLen {
			t.Fatalf("ValidateName accepted %q", name)
		}
		if dir := filepath.Dir(filepath.Join("/share", name)); dir != "/share" {
			t.Fatalf("%q lands in %s", name, dir)
		}
		f, err := root.Create(name)
		if err != nil {
			t.Fatalf("creating accepted name %q in the root: %v", name, err)
		}
		f.Close()
		if err := root.Remove(name); err != nil {
			t.Fatal(err)
		}
		s := suffixName(name, id)
		if err := ValidateName(s); err != nil || !strings.HasSuffix(s, " ("+id.Short()+")") {
			t.Fatalf("suffixName(%q) = %q: %v", name, s, err)
		}
		if len(name)+len(id.Short())+3 <= maxNameLen && s != name+" ("+id.Short()+")" {
			t.Fatalf("suffixName(%q) = %q shortened a name that fit", name, s)
		}
	})
}

// FuzzDecodeManifest: a .manifest record that decodes is valid (name and
// manifest), and encodes back to a record that decodes to the same.
func FuzzDecodeManifest(f *testing.F) {
	for _, c := range []struct{ size, piece int }{{0, content.MinPieceSize}, {1, content.MinPieceSize}, {3*content.MinPieceSize + 5, content.MinPieceSize}} {
		data, err := encodeManifest("file.txt", fuzzManifest(f, c.size, c.piece))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"name":"a","size":-1,"piece_size":16384,"pieces":[]}`))
	f.Add([]byte(`{"name":"a","size":9223372036854775807,"piece_size":16384,"pieces":[]}`))
	f.Add([]byte(`{"name":"../a","size":0,"piece_size":16384,"pieces":[]}`))
	f.Add([]byte(`{"name":"a","size":1,"piece_size":16384,"pieces":["zz"]}`))
	f.Add([]byte(`null`))
	b3 := fuzzManifest(f, 5, content.MinPieceSize)
	b3.Alg = content.BLAKE3
	if data, err := encodeManifest("b3.bin", b3); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"name":"a","size":0,"piece_size":16384,"alg":"md5","pieces":[]}`))
	f.Add([]byte(`{"name":"a","size":0,"piece_size":16384,"alg":"","pieces":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		name, m, err := decodeManifest(data)
		if err != nil {
			return
		}
		if err := ValidateName(name); err != nil {
			t.Fatalf("decoded an invalid name: %v", err)
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("decoded an invalid manifest: %v", err)
		}
		again, err := encodeManifest(name, m)
		if err != nil {
			t.Fatal(err)
		}
		name2, m2, err := decodeManifest(again)
		if err != nil || name2 != name || !reflect.DeepEqual(m2, m) {
			t.Fatalf("round trip: %q %+v %v; want %q %+v", name2, m2, err, name, m)
		}
	})
}

// FuzzDecodeHave: a .have record that decodes holds exactly the bits of a
// download of n pieces (none beyond n) and is the canonical encoding of them.
func FuzzDecodeHave(f *testing.F) {
	for _, n := range []int{0, 1, 7, 8, 9, 64} {
		b := content.NewBitfield(n)
		for i := 0; i < n; i += 3 {
			b.Set(i)
		}
		f.Add(encodeHave(b), uint16(n))
		bad := encodeHave(b)
		bad[0] ^= 1
		f.Add(bad, uint16(n))
	}
	f.Add([]byte{0x80, 0, 0, 0, 0}, uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, n16 uint16) {
		n := int(n16)
		b, err := decodeHave(data, n)
		if err != nil {
			return
		}
		if len(b) != (n+7)/8 || b.Count() > n {
			t.Fatalf("%d pieces: bitfield of %d bytes with %d bits", n, len(b), b.Count())
		}
		for i := n; i < len(b)*8; i++ {
			if b.Has(i) {
				t.Fatalf("%d pieces: bit %d set", n, i)
			}
		}
		if !bytes.Equal(encodeHave(b), data) {
			t.Fatalf("record % x re-encodes as % x", data, encodeHave(b))
		}
		if len(b) > 0 && &b[0] == &data[0] {
			t.Fatal("the bitfield aliases the record")
		}
	})
}

// FuzzDecodeCache: every record a hash cache file yields has a valid name
// and manifest and the id of that manifest; the offered name is valid or
// empty; and what it yields encodes to a file that decodes to the same.
func FuzzDecodeCache(f *testing.F) {
	recs := map[string]cacheRecord{
		"a.txt": newRecord(1, 42, fuzzManifest(f, 1, content.MinPieceSize), false),
		"b":     newRecord(2*content.MinPieceSize+1, -1, fuzzManifest(f, 2*content.MinPieceSize+1, content.MinPieceSize), true),
		"empty": newRecord(0, 0, fuzzManifest(f, 0, content.MinPieceSize), false),
	}
	data, err := encodeCache("a.txt", recs)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"version":1,"offered":"../x","files":[{"name":"a","size":0,"piece_size":16384,"hashes":""}]}`))
	f.Add([]byte(`{"version":1,"files":[{"name":"a","size":1,"piece_size":16384,"hashes":"AAAA"}]}`))
	f.Add([]byte(`{"version":2,"files":[]}`))
	f.Add([]byte(`{"version":1,"files":[{"name":"a","size":0,"piece_size":16384,"alg":"blake3","hashes":""}]}`))
	f.Add([]byte(`{"version":1,"files":[{"name":"a","size":0,"piece_size":16384,"alg":"crc32","hashes":""}]}`))
	f.Add([]byte(`{"version":1,"files":[{"name":"a"},{"name":"a","size":0,"piece_size":16384}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, offered, err := decodeCache(data, func(string, error) {})
		if err != nil {
			return
		}
		if offered != "" && ValidateName(offered) != nil {
			t.Fatalf("offered %q is not a valid name", offered)
		}
		for name, r := range recs {
			if err := ValidateName(name); err != nil {
				t.Fatal(err)
			}
			if err := r.m.Validate(); err != nil || r.id != r.m.ID() || r.size != r.m.Size {
				t.Fatalf("record %q: %+v, %v", name, r, err)
			}
		}
		again, err := encodeCache(offered, recs)
		if err != nil {
			t.Fatal(err)
		}
		recs2, offered2, err := decodeCache(again, func(name string, err error) { t.Fatalf("dropped %q: %v", name, err) })
		if err != nil || offered2 != offered || !reflect.DeepEqual(recs2, recs) {
			t.Fatalf("round trip: %v, %q (want %q), equal %v", err, offered2, offered, reflect.DeepEqual(recs2, recs))
		}
	})
}
