package share_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/share"
)

func openShareAlg(t *testing.T, dir string, alg content.Alg) *share.Share {
	t.Helper()
	s, err := share.Open(dir, share.Options{PieceSize: ps, Alg: alg, Log: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// The hash algorithm is part of the cache key, like the piece size: a
// share opened with another HASH rehashes; a cache written before there
// was a choice (no alg field) holds SHA-256 manifests.
func TestShare_CacheKeyIncludesHash(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "f.bin", pattern(2*ps+3, 1))
	ids := map[content.Alg]content.ID{}
	for _, alg := range []content.Alg{content.SHA256, content.BLAKE3, content.SHA256} {
		s := openShareAlg(t, dir, alg)
		scan(t, s)
		e, _ := s.LookupName("f.bin")
		if e.ID.Alg() != alg || e.Manifest.Alg != alg || share.HashCount(s) != 1 {
			t.Fatalf("HASH=%s: id %s, manifest %s, hashed %d; want the file rehashed", alg, e.ID, e.Manifest.Alg, share.HashCount(s))
		}
		if old, ok := ids[alg]; ok && old != e.ID {
			t.Fatalf("HASH=%s gave %s, then %s", alg, old, e.ID)
		}
		ids[alg] = e.ID
		s.Close()
	}
	path := filepath.Join(dir, ".netlab", "hashes.json")
	data, err := os.ReadFile(path)
	if err != nil || !bytes.Contains(data, []byte(`"alg":"sha256"`)) {
		t.Fatalf("hashes.json %s (%v): want the algorithm recorded", data, err)
	}
	if err := os.WriteFile(path, bytes.ReplaceAll(data, []byte(`"alg":"sha256",`), nil), 0o600); err != nil {
		t.Fatal(err)
	}
	s := openShareAlg(t, dir, content.SHA256)
	defer s.Close()
	scan(t, s)
	if e, _ := s.LookupName("f.bin"); e.ID != ids[content.SHA256] || share.HashCount(s) != 0 {
		t.Fatalf("a cache without alg: id %s, hashed %d; want the SHA-256 id from the cache", e.ID, share.HashCount(s))
	}
}

// A BLAKE3 download's records are named blake3-<hex> (no colon in a file
// name), and a reopened share resumes it under its id.
func TestPartial_BLAKE3Records(t *testing.T) {
	data := pattern(3*ps+5, 2)
	m, err := content.HashReader(bytes.NewReader(data), int64(len(data)), ps, content.BLAKE3)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := openShareAlg(t, dir, content.SHA256)
	p, err := s.CreatePartial("b3.bin", m)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WritePiece(1, data[ps:2*ps]); err != nil {
		t.Fatal(err)
	}
	if err := p.WritePiece(2, data[:ps]); err == nil {
		t.Fatal("piece 0's bytes verified as piece 2")
	}
	if err := p.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	base := "blake3-" + strings.TrimPrefix(m.ID().String(), "blake3:")
	if _, err := os.Stat(filepath.Join(dir, ".netlab", "partial", base+".manifest")); err != nil {
		t.Fatalf("record of a BLAKE3 download: %v", err)
	}
	s = openShareAlg(t, dir, content.SHA256)
	defer s.Close()
	got := onlyPartial(t, s)
	if got.ID() != m.ID() || got.Manifest().Alg != content.BLAKE3 || !got.Have().Has(1) || got.Have().Has(2) {
		t.Fatalf("resumed %s (%s), have %v", got.ID(), got.Manifest().Alg, got.Have())
	}
}
