package wire

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/netlab/netlab/services/peer/internal/content"
)

// Decode parses payload as a message of type t and returns it as a pointer
// (*Hello, *Catalog, ...). It knows the messages of every version; which
// types a frame may carry is checked with its header (Type.In).
//
// It never panics, checks every count against the bytes actually present
// before allocating (so it allocates at most a small constant plus
// O(len(payload))), and rejects trailing bytes. Errors are *DecodeError.
//
// Piece.Data and Have.Bits alias payload: they are valid only as long as
// payload is, so copy them to keep them past the next Receive or ReadFrame.
// Boxing the result in Message costs one allocation; for a Piece that is
// the only one.
func Decode(t Type, payload []byte) (Message, error) {
	if len(payload) > MaxPayload {
		return nil, &DecodeError{Type: t, Reason: "payload over MaxPayload"}
	}
	d := decoder{b: payload}
	var m Message
	switch t {
	case TypeHello:
		m = d.hello()
	case TypeAuth:
		m = &Auth{MAC: d.bytes32()}
	case TypePake:
		m = &Pake{Element: d.bytes32()}
	case TypeGetCatalog:
		m = &GetCatalog{}
	case TypeCatalog:
		m = d.catalog()
	case TypeGetManifest:
		m = &GetManifest{ID: d.id()}
	case TypeManifest:
		m = d.manifest()
	case TypeGetHave:
		m = &GetHave{ID: d.id()}
	case TypeHave:
		m = d.have()
	case TypeGetPiece:
		m = &GetPiece{ID: d.id(), Index: d.u32()}
	case TypePiece:
		v := &Piece{ID: d.id(), Index: d.u32()}
		if n := len(d.b); n > 0 && d.reason == "" {
			v.Data = d.take(n)
		}
		m = v
	case TypeReject:
		code, msg := d.text()
		m = &Reject{Code: RejectCode(code), Message: msg}
	case TypeError:
		code, msg := d.text()
		m = &Error{Code: ErrorCode(code), Message: msg}
	case TypeGetPeers:
		m = &GetPeers{}
	case TypePeers:
		m = d.peers()
	case TypeAnnounce:
		m = d.announce()
	case TypeSealed:
		return nil, &DecodeError{Type: t, Reason: "sealed frame on a connection in the clear"}
	case TypeGetCatalogPage:
		m = &GetCatalogPage{After: d.after()}
	case TypeCatalogPage:
		m = d.catalogPage()
	case TypeGetManifestPage:
		m = &GetManifestPage{ID: d.id(), First: d.u32()}
	case TypeManifestPage:
		m = d.manifestPage()
	default:
		return nil, &DecodeError{Type: t, Reason: "unknown message type"}
	}
	if d.reason == "" && len(d.b) != 0 {
		d.reason = "trailing bytes"
	}
	if d.reason != "" {
		return nil, &DecodeError{Type: t, Reason: d.reason}
	}
	return m, nil
}

// decoder consumes b from the front. The first failure is kept in reason;
// later reads then return zero values, so the parsers need no error checks
// between fields.
type decoder struct {
	b      []byte
	reason string
}

const truncated = "truncated payload"

func (d *decoder) fail(reason string) {
	if d.reason == "" {
		d.reason = reason
	}
}

// take returns the next n bytes, capacity-limited so an append by the
// caller cannot overwrite the rest of the payload.
func (d *decoder) take(n int) []byte {
	if d.reason != "" {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.fail(truncated)
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) fixed(dst []byte) { copy(dst, d.take(len(dst))) }

// bytes32 reads a 32-byte field: a MAC or a key share. Fields of a
// composite literal are evaluated in order, so a message can be decoded as
// &GetPiece{ID: d.id(), Index: d.u32()}.
func (d *decoder) bytes32() (b [32]byte) {
	d.fixed(b[:])
	return b
}

// id reads a file id: an algorithm code, which must be known, and the
// digest.
func (d *decoder) id() (id content.ID) {
	d.fixed(id[:])
	if d.reason == "" {
		if _, err := content.AlgOfCode(id[0]); err != nil {
			d.fail(err.Error())
		}
	}
	return id
}

func (d *decoder) u8() uint8 {
	if p := d.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) u16() uint16 {
	if p := d.take(2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if p := d.take(4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if p := d.take(8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

// name reads n bytes as a name of 1..MaxNameLen bytes of UTF-8.
func (d *decoder) name(n int, what string) string {
	if d.reason != "" {
		return ""
	}
	if n == 0 {
		d.fail(what + " empty")
		return ""
	}
	if n > MaxNameLen {
		d.fail(what + " over MaxNameLen")
		return ""
	}
	p := d.take(n)
	if d.reason == "" && !utf8.Valid(p) {
		d.fail(what + " not UTF-8")
		return ""
	}
	return string(p)
}

// room fails unless count items of at least min bytes each fit in what is left.
func (d *decoder) room(count uint64, min int) bool {
	if d.reason != "" {
		return false
	}
	if count*uint64(min) > uint64(len(d.b)) {
		d.fail("count exceeds payload")
		return false
	}
	return true
}

func (d *decoder) hello() *Hello {
	v := &Hello{}
	d.fixed(v.NodeID[:])
	d.fixed(v.Nonce[:])
	v.ListenPort = d.u16()
	p := d.take(int(d.u8()))
	if d.reason == "" && len(p) > 0 {
		switch {
		case !utf8.Valid(p):
			d.fail("addr not UTF-8")
		case !validHostPort(string(p)):
			d.fail("addr not host:port")
		default:
			v.Addr = string(p)
		}
	}
	return v
}

func (d *decoder) catalog() *Catalog {
	return &Catalog{Files: d.entries(false)}
}

// entries reads a count and that many catalog entries; sorted wants their
// names strictly increasing.
func (d *decoder) entries(sorted bool) []CatalogEntry {
	n := d.u32()
	if d.reason == "" && n > MaxCatalogEntries {
		d.fail("catalog over MaxCatalogEntries")
	}
	if n == 0 || !d.room(uint64(n), entryFixed+1) {
		return nil
	}
	files := make([]CatalogEntry, n)
	for i := range files {
		e := &files[i]
		e.ID = d.id()
		e.Size = d.u64()
		e.PieceSize = d.u32()
		// Bits other than bit 0 are reserved: ignored, so later versions
		// can use them without breaking older readers.
		e.Offered = d.u8()&1 != 0
		e.Name = d.name(int(d.u16()), "name")
		if d.reason != "" {
			return files
		}
		if sorted && i > 0 && e.Name <= files[i-1].Name {
			d.fail("names not strictly increasing")
			return files
		}
	}
	return files
}

func (d *decoder) after() string {
	p := d.take(int(d.u8()))
	if d.reason == "" && !utf8.Valid(p) {
		d.fail("after not UTF-8")
	}
	return string(p)
}

func (d *decoder) catalogPage() *CatalogPage {
	// Bits 1-7 of the flags are reserved, as in a catalog entry.
	v := &CatalogPage{More: d.u8()&1 != 0}
	v.Files = d.entries(true)
	return v
}

func (d *decoder) manifestPage() *ManifestPage {
	v := &ManifestPage{}
	d.fileHead(&v.ID, &v.Size, &v.PieceSize, &v.Name)
	v.Pieces = d.u32()
	v.First = d.u32()
	n := d.u32()
	if d.reason != "" {
		return v
	}
	if reason := checkPage(v.Pieces, v.First, int(min(n, MaxPageHashes+1))); reason != "" {
		d.fail(reason)
		return v
	}
	v.Hashes = d.hashes(n)
	return v
}

func (d *decoder) manifest() *Manifest {
	v := &Manifest{}
	d.fileHead(&v.ID, &v.Size, &v.PieceSize, &v.Name)
	n := d.u32()
	if d.reason == "" && n > MaxPieces {
		d.fail("manifest over MaxPieces")
	}
	v.Pieces = d.hashes(n)
	return v
}

// fileHead reads the fields a manifest and a manifest page start with.
func (d *decoder) fileHead(id *content.ID, size *uint64, pieceSize *uint32, name *string) {
	*id = d.id()
	*size = d.u64()
	*pieceSize = d.u32()
	*name = d.name(int(d.u16()), "name")
}

// hashes reads n piece hashes, checked against the payload first.
func (d *decoder) hashes(n uint32) [][32]byte {
	if n == 0 || !d.room(uint64(n), 32) {
		return nil
	}
	h := make([][32]byte, n)
	for i := range h {
		d.fixed(h[i][:])
	}
	return h
}

func (d *decoder) have() *Have {
	v := &Have{}
	v.ID = d.id()
	v.Pieces = d.u32()
	if d.reason != "" {
		return v
	}
	if v.Pieces > MaxPieces {
		d.fail("have over MaxPieces")
		return v
	}
	nb := int(v.Pieces+7) / 8
	if nb > len(d.b) {
		d.fail("count exceeds payload")
		return v
	}
	if nb == 0 {
		return v
	}
	v.Bits = d.take(nb)
	if reason := checkBits(v.Pieces, v.Bits); reason != "" {
		d.fail(reason)
	}
	return v
}

func (d *decoder) text() (uint16, string) {
	code := d.u16()
	n := int(d.u16())
	if d.reason == "" && n > MaxMessageLen {
		d.fail("message over MaxMessageLen")
	}
	p := d.take(n)
	if d.reason != "" || n == 0 {
		return code, ""
	}
	if !utf8.Valid(p) {
		d.fail("message not UTF-8")
		return code, ""
	}
	return code, string(p)
}

func (d *decoder) peers() *Peers {
	v := &Peers{}
	n := d.u16()
	if d.reason == "" && n > MaxPeers {
		d.fail("peers over MaxPeers")
	}
	if n == 0 || !d.room(uint64(n), 2) {
		return v
	}
	v.Addrs = make([]string, n)
	for i := range v.Addrs {
		v.Addrs[i] = d.name(int(d.u8()), "addr")
		if d.reason != "" {
			return v
		}
	}
	return v
}

func (d *decoder) announce() *Announce {
	v := &Announce{}
	v.ID = d.id()
	n := d.u16()
	if d.reason == "" && (n == 0 || n > MaxAnnounce) {
		d.fail("announce count not 1 … MaxAnnounce")
	}
	if !d.room(uint64(n), 4) {
		return v
	}
	v.Indexes = make([]uint32, n)
	for k := range v.Indexes {
		v.Indexes[k] = d.u32()
	}
	if d.reason == "" {
		if reason := checkIndexes(v.Indexes); reason != "" {
			d.fail(reason)
		}
	}
	return v
}
