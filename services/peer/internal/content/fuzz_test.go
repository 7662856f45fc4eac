package content_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/netlab/netlab/services/peer/internal/content"
)

// FuzzParseID: an id parses from 64 hex characters (a SHA-256 id) or
// from an algorithm name, a colon and 64 hex characters; it formats back
// to its canonical text (lower case, bare hex for SHA-256), which parses
// to the same id.
func FuzzParseID(f *testing.F) {
	for _, alg := range []content.Alg{content.SHA256, content.BLAKE3} {
		id := content.Manifest{Alg: alg, PieceSize: content.MinPieceSize}.ID()
		f.Add(id.String())
		f.Add(strings.ToUpper(id.String()))
		f.Add(id.String()[:len(id.String())-1])
		f.Add(id.String() + "0")
	}
	sha := content.Manifest{PieceSize: content.MinPieceSize}.ID().String()
	f.Add("sha256:" + sha)
	f.Add("md5:" + sha)
	f.Add(":" + sha)
	f.Add("blake3:")
	f.Add(strings.Repeat("g", 64))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := content.ParseID(s)
		if err != nil {
			if id != (content.ID{}) {
				t.Fatalf("ParseID(%q) failed but returned %v", s, id)
			}
			return
		}
		if !id.Alg().Valid() {
			t.Fatalf("ParseID(%q) = %v with an unknown algorithm", s, id)
		}
		text := id.String()
		if text != strings.ToLower(text) || !strings.HasSuffix(strings.ToLower(s), text[strings.IndexByte(text, ':')+1:]) {
			t.Fatalf("ParseID(%q) = %v", s, text)
		}
		if (id.Alg() == content.SHA256) == strings.Contains(text, ":") {
			t.Fatalf("ParseID(%q) = %v: only non-SHA-256 ids name their algorithm", s, text)
		}
		if id2, err := content.ParseID(text); err != nil || id2 != id {
			t.Fatalf("ParseID(%q) = %v, %v", text, id2, err)
		}
		if !strings.Contains(text, id.Short()) || len(id.Short()) != 12 {
			t.Fatalf("Short %q of %v", id.Short(), id)
		}
	})
}

// FuzzBitfieldFrom: a peer's bitfield is accepted exactly when it has the
// length for n pieces and no spare bit set; the copy it returns holds the
// same bits, at most n of them, and shares no memory with the input.
func FuzzBitfieldFrom(f *testing.F) {
	f.Add([]byte{}, 0)
	f.Add([]byte{0xff}, 8)
	f.Add([]byte{0xfe}, 7)
	f.Add([]byte{0xff}, 7)
	f.Add([]byte{0x80, 0x00}, 9)
	f.Add([]byte{0x80}, -1)
	f.Add([]byte{0xaa, 0x55, 0xc0}, 18)
	f.Fuzz(func(t *testing.T, bits []byte, n int) {
		in := bytes.Clone(bits)
		b, err := content.BitfieldFrom(bits, n)
		if !bytes.Equal(in, bits) {
			t.Fatal("BitfieldFrom modified its input")
		}
		valid := n >= 0 && len(bits) == (n+7)/8
		for i := n; valid && i < len(bits)*8; i++ {
			valid = bits[i/8]&(0x80>>(i%8)) == 0
		}
		if (err == nil) != valid {
			t.Fatalf("BitfieldFrom(% x, %d) = %v, want valid %v", bits, n, err, valid)
		}
		if err != nil {
			return
		}
		if !bytes.Equal(b, bits) || b.Count() > n {
			t.Fatalf("BitfieldFrom(% x, %d) = % x", bits, n, []byte(b))
		}
		for i := range n {
			if b.Has(i) != (bits[i/8]&(0x80>>(i%8)) != 0) {
				t.Fatalf("bit %d differs", i)
			}
			b.Clear(i)
		}
		if b.Count() != 0 || (len(bits) > 0 && !bytes.Equal(in, bits)) {
			t.Fatal("the bitfield shares memory with its input, or kept a bit beyond n")
		}
		b.Set(len(b) * 8) // out of range: ignored
		b.Set(-1)
		if b.Count() != 0 || b.Has(len(b)*8) || b.Has(-1) {
			t.Fatal("an out-of-range index changed the bitfield")
		}
	})
}
