package wire_test

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/wire"
)

type sample struct {
	name string
	msg  wire.Message // as Decode returns it: a pointer
}

func id32(seed string) [32]byte { return sha256.Sum256([]byte(seed)) }

// fid is a BLAKE3 file id; shaID a SHA-256 one.
func fid(seed string) content.ID   { return content.NewID(content.BLAKE3, id32(seed)) }
func shaID(seed string) content.ID { return content.NewID(content.SHA256, id32(seed)) }

func id16(seed string) [16]byte {
	var b [16]byte
	h := sha256.Sum256([]byte(seed))
	copy(b[:], h[:])
	return b
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// maxName is MaxNameLen bytes of two-byte characters plus one ASCII byte.
var maxName = strings.Repeat("é", wire.MaxNameLen/2) + "x"

// samples returns one or more valid messages of every type, including the
// edge cases: empty lists, maximum-length and non-ASCII names.
func samples() []sample {
	maxPeers := make([]string, wire.MaxPeers)
	for i := range maxPeers {
		maxPeers[i] = fmt.Sprintf("10.0.%d.%d:8001", i/256, i%256)
	}
	return []sample{
		{"hello", &wire.Hello{NodeID: id16("a"), Nonce: id16("n"), ListenPort: 8001, Addr: "peer-1:8001"}},
		{"hello_no_addr", &wire.Hello{NodeID: id16("a"), Nonce: id16("n")}},
		{"hello_max_addr", &wire.Hello{NodeID: id16("a"), Nonce: id16("n"), ListenPort: 65535, Addr: strings.Repeat("é", (wire.MaxNameLen-7)/2) + "xx:8001"}},
		{"hello_unicode_addr", &wire.Hello{NodeID: id16("b"), ListenPort: 1, Addr: "пир.example:8001"}},
		{"auth", &wire.Auth{MAC: id32("mac")}},
		{"get_catalog", &wire.GetCatalog{}},
		{"catalog_empty", &wire.Catalog{}},
		{"catalog", &wire.Catalog{Files: []wire.CatalogEntry{
			{ID: fid("f1"), Size: 3 << 20, PieceSize: 1 << 20, Offered: true, Name: "file.txt"},
			{ID: fid("f2"), Size: 0, PieceSize: 16 << 10, Name: "ファイル.bin"},
			{ID: fid("f3"), Size: 1<<64 - 1, PieceSize: 4 << 20, Offered: true, Name: maxName},
		}}},
		{"get_manifest", &wire.GetManifest{ID: fid("f1")}},
		{"get_manifest_sha256", &wire.GetManifest{ID: shaID("f1")}},
		{"manifest_empty_file", &wire.Manifest{ID: fid("f0"), PieceSize: 1 << 20, Name: "empty"}},
		{"manifest", &wire.Manifest{ID: fid("f1"), Size: 2<<20 + 1, PieceSize: 1 << 20, Name: "données.txt",
			Pieces: [][32]byte{id32("p0"), id32("p1"), id32("p2")}}},
		{"get_have", &wire.GetHave{ID: fid("f1")}},
		{"have_none", &wire.Have{ID: fid("f0")}},
		{"have_one", &wire.Have{ID: fid("f1"), Pieces: 1, Bits: []byte{0x80}}},
		{"have_byte", &wire.Have{ID: fid("f1"), Pieces: 8, Bits: []byte{0xa5}}},
		{"have_partial_byte", &wire.Have{ID: fid("f1"), Pieces: 13, Bits: []byte{0xff, 0xb8}}},
		{"get_piece", &wire.GetPiece{ID: fid("f1"), Index: 7}},
		{"piece", &wire.Piece{ID: fid("f1"), Index: 2, Data: pattern(100)}},
		{"piece_empty", &wire.Piece{ID: fid("f1"), Index: 0}},
		{"reject", &wire.Reject{Code: wire.RejectNoPiece, Message: "piece 7 not held"}},
		{"reject_no_text", &wire.Reject{Code: wire.RejectBusy}},
		{"reject_max_text", &wire.Reject{Code: wire.RejectBadRequest, Message: strings.Repeat("ü", wire.MaxMessageLen/2)}},
		{"error", &wire.Error{Code: wire.ErrorAuth, Message: "auth failed"}},
		{"error_unknown_code", &wire.Error{Code: 999}},
		{"get_peers", &wire.GetPeers{}},
		{"peers_empty", &wire.Peers{}},
		{"peers", &wire.Peers{Addrs: []string{"10.0.0.2:8001", "[fd00::1]:8001", "peer-3:8001", "пир:8001"}}},
		{"peers_max_count", &wire.Peers{Addrs: maxPeers}},
		{"peers_max_addr", &wire.Peers{Addrs: []string{strings.Repeat("p", wire.MaxNameLen-5) + ":8001", maxName}}},
		{"announce_one", &wire.Announce{ID: fid("f1"), Indexes: []uint32{0}}},
		{"announce", &wire.Announce{ID: fid("f1"), Indexes: []uint32{3, 4, 70000, wire.MaxPieces - 1}}},
		{"announce_max", &wire.Announce{ID: fid("f1"), Indexes: increasing(wire.MaxAnnounce)}},
		{"get_catalog_page_first", &wire.GetCatalogPage{}},
		{"get_catalog_page", &wire.GetCatalogPage{After: maxName}},
		{"catalog_page_empty", &wire.CatalogPage{}},
		{"catalog_page", &wire.CatalogPage{More: true, Files: []wire.CatalogEntry{
			{ID: fid("f1"), Size: 3 << 20, PieceSize: 1 << 20, Offered: true, Name: "a.txt"},
			{ID: fid("f2"), Size: 0, PieceSize: 16 << 10, Name: "ファイル.bin"},
		}}},
		{"get_manifest_page", &wire.GetManifestPage{ID: fid("f1"), First: 65536}},
		{"manifest_page_empty_file", &wire.ManifestPage{ID: fid("f0"), PieceSize: 1 << 20, Name: "empty"}},
		{"manifest_page", &wire.ManifestPage{ID: fid("f1"), Size: 5<<20 + 1, PieceSize: 1 << 20, Name: "données.txt",
			Pieces: 6, First: 4, Hashes: [][32]byte{id32("p4"), id32("p5")}}},
	}
}

func increasing(n int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(3 * i)
	}
	return out
}

// encode returns m's frame or fails the test.
func encode(t testing.TB, m wire.Message) []byte {
	t.Helper()
	b, err := wire.AppendFrame(nil, m)
	if err != nil {
		t.Fatalf("AppendFrame(%T): %v", m, err)
	}
	return b
}
