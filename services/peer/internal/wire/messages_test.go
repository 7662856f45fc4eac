package wire_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/wire"
)

func TestMessages_RoundTrip(t *testing.T) {
	for _, tc := range samples() {
		t.Run(tc.name, func(t *testing.T) {
			frame := encode(t, tc.msg)
			payload := tc.msg.AppendPayload(nil)
			if !bytes.Equal(frame[wire.HeaderSize:], payload) {
				t.Fatalf("frame payload differs from AppendPayload")
			}
			if frame[0] != tc.msg.Type().Since() || wire.Type(frame[1]) != tc.msg.Type() ||
				int(binary.BigEndian.Uint32(frame[2:])) != len(payload) {
				t.Fatalf("bad header % x for %d-byte payload", frame[:wire.HeaderSize], len(payload))
			}
			got, err := wire.Decode(tc.msg.Type(), payload)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tc.msg) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, tc.msg)
			}
		})
	}
}

func TestAppendFrame_AcceptsValues(t *testing.T) {
	for _, tc := range samples() {
		t.Run(tc.name, func(t *testing.T) {
			value := reflect.ValueOf(tc.msg).Elem().Interface().(wire.Message)
			if got, want := encode(t, value), encode(t, tc.msg); !bytes.Equal(got, want) {
				t.Fatalf("value and pointer encode differently")
			}
		})
	}
}

// TestAppendFrame_GetPieceExample pins the worked example in docs/peer-protocol.md.
func TestAppendFrame_GetPieceExample(t *testing.T) {
	var d content.Hash
	for i := range d {
		d[i] = byte(i)
	}
	got, err := wire.AppendFrameVersion(nil, wire.Version4, wire.GetPiece{ID: content.NewID(content.BLAKE3, d), Index: 5})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hex.DecodeString("040900000025" + "1e" +
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" +
		"00000005")
	if !bytes.Equal(got, want) {
		t.Fatalf("got  %x\nwant %x", got, want)
	}
}

func TestDecode_RejectsEveryPrefix(t *testing.T) {
	for _, tc := range samples() {
		t.Run(tc.name, func(t *testing.T) {
			payload := tc.msg.AppendPayload(nil)
			n := len(payload)
			if tc.msg.Type() == wire.TypePiece {
				n = 37 // the data runs to the end of the payload: longer prefixes are valid pieces
			}
			for i := range n {
				m, err := wire.Decode(tc.msg.Type(), payload[:i:i])
				checkDecodeError(t, tc.msg.Type(), m, err, "")
			}
		})
	}
}

func TestDecode_RejectsTrailingBytes(t *testing.T) {
	for _, tc := range samples() {
		if tc.msg.Type() == wire.TypePiece {
			continue // trailing bytes are data
		}
		t.Run(tc.name, func(t *testing.T) {
			payload := append(tc.msg.AppendPayload(nil), 0)
			m, err := wire.Decode(tc.msg.Type(), payload)
			checkDecodeError(t, tc.msg.Type(), m, err, "trailing bytes")
		})
	}
}

func checkDecodeError(t *testing.T, typ wire.Type, m wire.Message, err error, reason string) {
	t.Helper()
	var de *wire.DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("Decode = %+v, %v; want *DecodeError", m, err)
	}
	if m != nil {
		t.Errorf("Decode returned a message with its error: %+v", m)
	}
	if de.Type != typ {
		t.Errorf("DecodeError.Type = %v, want %v", de.Type, typ)
	}
	if !strings.Contains(de.Reason, reason) {
		t.Errorf("reason %q does not contain %q", de.Reason, reason)
	}
}

// payload builds a payload from parts: []byte, string, uint8, uint16, uint32, uint64.
func payload(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case []byte:
			b = append(b, v...)
		case string:
			b = append(b, v...)
		case uint8:
			b = append(b, v)
		case uint16:
			b = binary.BigEndian.AppendUint16(b, v)
		case uint32:
			b = binary.BigEndian.AppendUint32(b, v)
		case uint64:
			b = binary.BigEndian.AppendUint64(b, v)
		default:
			panic("payload: unsupported part")
		}
	}
	return b
}

// fileID33 is a valid id field (BLAKE3 code, zero digest), hash32 a
// piece hash field.
var (
	fileID33 = slices.Clip(append([]byte{content.CodeBLAKE3}, make([]byte, 32)...))
	hash32   = make([]byte, 32)
)

func TestDecode_RejectsInvalid(t *testing.T) {
	id, h := fileID33, hash32
	entry := func(name string) []byte {
		return payload(id, uint64(1), uint32(16<<10), uint8(1), uint16(len(name)), name)
	}
	long := strings.Repeat("n", wire.MaxNameLen+1)
	tests := []struct {
		name    string
		typ     wire.Type
		payload []byte
		reason  string
	}{
		{"unknown type 0", 0, nil, "unknown message type"},
		{"unknown type 20", 20, nil, "unknown message type"},
		{"hello addr without port", wire.TypeHello, payload(make([]byte, 34), uint8(14), "not an address"), "not host:port"},
		{"hello addr port over 65535", wire.TypeHello, payload(make([]byte, 34), uint8(13), "example:99999"), "not host:port"},
		{"hello addr port 0", wire.TypeHello, payload(make([]byte, 34), uint8(9), "example:0"), "not host:port"},
		{"hello addr no host", wire.TypeHello, payload(make([]byte, 34), uint8(5), ":8001"), "not host:port"},
		{"hello addr open bracket", wire.TypeHello, payload(make([]byte, 34), uint8(4), "[::1"), "not host:port"},
		{"catalog_page names unsorted", wire.TypeCatalogPage, payload(uint8(0), uint32(2), entry("b"), entry("a")), "not strictly increasing"},
		{"catalog_page names repeated", wire.TypeCatalogPage, payload(uint8(1), uint32(2), entry("a"), entry("a")), "not strictly increasing"},
		{"catalog_page over max entries", wire.TypeCatalogPage, payload(uint8(0), uint32(wire.MaxCatalogEntries+1)), "MaxCatalogEntries"},
		{"get_catalog_page after not utf8", wire.TypeGetCatalogPage, payload(uint8(1), "\xff"), "not UTF-8"},
		{"get_catalog_page after cut short", wire.TypeGetCatalogPage, payload(uint8(3), "ab"), "truncated"},
		{"manifest_page beyond count", wire.TypeManifestPage, payload(id, uint64(1), uint32(1), uint16(1), "a", uint32(2), uint32(1), uint32(2), h, h), "beyond the piece count"},
		{"manifest_page no hashes", wire.TypeManifestPage, payload(id, uint64(1), uint32(1), uint16(1), "a", uint32(2), uint32(0), uint32(0)), "no hashes"},
		{"manifest_page over max hashes", wire.TypeManifestPage, payload(id, uint64(1), uint32(1), uint16(1), "a", uint32(wire.MaxPieces), uint32(0), uint32(wire.MaxPageHashes+1)), "MaxPageHashes"},
		{"manifest_page over max pieces", wire.TypeManifestPage, payload(id, uint64(1), uint32(1), uint16(1), "a", uint32(wire.MaxPieces+1), uint32(0), uint32(1), h), "MaxPieces"},
		{"manifest_page count exceeds data", wire.TypeManifestPage, payload(id, uint64(1), uint32(1), uint16(1), "a", uint32(9), uint32(0), uint32(3), h), "count exceeds payload"},
		{"unknown type 255", 255, []byte{1}, "unknown message type"},
		{"hello addr not utf8", wire.TypeHello, payload(make([]byte, 34), uint8(1), "\xff"), "not UTF-8"},
		{"hello addr longer than data", wire.TypeHello, payload(make([]byte, 34), uint8(5), "a:1"), "truncated"},
		{"auth short", wire.TypeAuth, make([]byte, 31), "truncated"},
		{"auth long", wire.TypeAuth, make([]byte, 33), "trailing"},
		{"get_catalog not empty", wire.TypeGetCatalog, []byte{0}, "trailing"},
		{"get_peers not empty", wire.TypeGetPeers, []byte{0}, "trailing"},
		{"catalog count exceeds data", wire.TypeCatalog, payload(uint32(2), entry("a")), "count exceeds payload"},
		{"catalog entry cut short", wire.TypeCatalog, payload(uint32(2), entry("a"), entry("abcdefghijklmnop")[:60]), "truncated"},
		{"catalog huge count", wire.TypeCatalog, payload(uint32(1000), entry("a")), "count exceeds payload"},
		{"catalog over max entries", wire.TypeCatalog, payload(uint32(wire.MaxCatalogEntries + 1)), "MaxCatalogEntries"},
		{"catalog name over limit", wire.TypeCatalog, payload(uint32(1), entry(long)), "over MaxNameLen"},
		{"catalog name empty", wire.TypeCatalog, payload(uint32(2), entry(""), entry("ab")), "empty"},
		{"catalog name not utf8", wire.TypeCatalog, payload(uint32(1), entry("a\xc3")), "not UTF-8"},
		{"catalog name surrogate", wire.TypeCatalog, payload(uint32(1), entry("\xed\xa0\x80")), "not UTF-8"},
		{"manifest name over limit", wire.TypeManifest, payload(id, uint64(1), uint32(1), uint16(len(long)), long, uint32(0)), "over MaxNameLen"},
		{"manifest name not utf8", wire.TypeManifest, payload(id, uint64(1), uint32(1), uint16(1), "\x80", uint32(0)), "not UTF-8"},
		{"manifest count exceeds data", wire.TypeManifest, payload(id, uint64(1), uint32(1), uint16(1), "a", uint32(2), h), "count exceeds payload"},
		{"manifest over max pieces", wire.TypeManifest, payload(id, uint64(1), uint32(1), uint16(1), "a", uint32(wire.MaxPieces+1)), "MaxPieces"},
		{"manifest partial hash", wire.TypeManifest, payload(id, uint64(1), uint32(1), uint16(1), "a", uint32(1), h, uint8(0)), "trailing"},
		{"have spare bits", wire.TypeHave, payload(id, uint32(3), uint8(0xf0)), "spare bits"},
		{"have lowest spare bit", wire.TypeHave, payload(id, uint32(15), uint8(0), uint8(1)), "spare bits"},
		{"have bits short", wire.TypeHave, payload(id, uint32(9), uint8(0)), "count exceeds payload"},
		{"have bits long", wire.TypeHave, payload(id, uint32(8), uint8(0), uint8(0)), "trailing"},
		{"have over max pieces", wire.TypeHave, payload(id, uint32(wire.MaxPieces+1), make([]byte, wire.MaxPieces/8+1)), "MaxPieces"},
		{"get_piece short", wire.TypeGetPiece, payload(id, uint16(0)), "truncated"},
		{"get_piece 32-byte id of version 3", wire.TypeGetPiece, payload(fileID33[:32], uint32(5)), "truncated"},
		{"get_piece unknown algorithm code", wire.TypeGetPiece, payload(uint8(0x13), h, uint32(5)), "unknown hash algorithm code 0x13"},
		{"get_manifest unknown algorithm code", wire.TypeGetManifest, payload(uint8(0), h), "unknown hash algorithm code 0x00"},
		{"get_have unknown algorithm code", wire.TypeGetHave, payload(uint8(0xff), h), "unknown hash algorithm code 0xff"},
		{"get_manifest_page unknown algorithm code", wire.TypeGetManifestPage, payload(uint8(1), h, uint32(0)), "unknown hash algorithm code 0x01"},
		{"piece unknown algorithm code", wire.TypePiece, payload(uint8(0), h, uint32(0), "data"), "unknown hash algorithm code"},
		{"catalog entry unknown algorithm code", wire.TypeCatalog, payload(uint32(1), uint8(0), h, uint64(1), uint32(16<<10), uint8(1), uint16(1), "a"), "unknown hash algorithm code"},
		{"manifest unknown algorithm code", wire.TypeManifest, payload(uint8(0x20), h, uint64(0), uint32(16<<10), uint16(1), "a", uint32(0)), "unknown hash algorithm code 0x20"},
		{"have unknown algorithm code", wire.TypeHave, payload(uint8(0), h, uint32(0)), "unknown hash algorithm code"},
		{"announce unknown algorithm code", wire.TypeAnnounce, payload(uint8(0), h, uint16(1), uint32(1)), "unknown hash algorithm code"},
		{"piece over max payload", wire.TypePiece, make([]byte, wire.MaxPayload+1), "MaxPayload"},
		{"reject text over limit", wire.TypeReject, payload(uint16(1), uint16(wire.MaxMessageLen+1), strings.Repeat("x", wire.MaxMessageLen+1)), "MaxMessageLen"},
		{"error text not utf8", wire.TypeError, payload(uint16(1), uint16(2), "\xc3("), "not UTF-8"},
		{"error text longer than data", wire.TypeError, payload(uint16(1), uint16(9), "short"), "truncated"},
		{"peers over max", wire.TypePeers, payload(uint16(wire.MaxPeers+1), bytes.Repeat([]byte{1, 'a'}, wire.MaxPeers+1)), "MaxPeers"},
		{"peers count exceeds data", wire.TypePeers, payload(uint16(3), uint8(1), "a", uint8(1), "b"), "count exceeds payload"},
		{"peers addr longer than data", wire.TypePeers, payload(uint16(1), uint8(9), "a:1"), "truncated"},
		{"peers addr empty", wire.TypePeers, payload(uint16(2), uint8(0), uint8(3), "a:1"), "empty"},
		{"peers addr not utf8", wire.TypePeers, payload(uint16(1), uint8(2), "\xff\xfe"), "not UTF-8"},
		{"announce no indexes", wire.TypeAnnounce, payload(id, uint16(0)), "count not 1"},
		{"announce over max", wire.TypeAnnounce, payload(id, uint16(wire.MaxAnnounce+1), make([]byte, 4*(wire.MaxAnnounce+1))), "count not 1"},
		{"announce count exceeds data", wire.TypeAnnounce, payload(id, uint16(2), uint32(1)), "count exceeds payload"},
		{"announce index cut short", wire.TypeAnnounce, payload(id, uint16(1), uint16(0)), "count exceeds payload"},
		{"announce index over max pieces", wire.TypeAnnounce, payload(id, uint16(1), uint32(wire.MaxPieces)), "over MaxPieces"},
		{"announce duplicate index", wire.TypeAnnounce, payload(id, uint16(2), uint32(3), uint32(3)), "not strictly increasing"},
		{"announce decreasing", wire.TypeAnnounce, payload(id, uint16(2), uint32(4), uint32(3)), "not strictly increasing"},
		{"announce trailing", wire.TypeAnnounce, payload(id, uint16(1), uint32(4), uint8(0)), "trailing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := wire.Decode(tc.typ, tc.payload)
			checkDecodeError(t, tc.typ, m, err, tc.reason)
		})
	}
}

// TestDecode_CountsDoNotAllocate checks that a large count with no data
// behind it is refused before anything is allocated for it.
func TestDecode_CountsDoNotAllocate(t *testing.T) {
	id := fileID33
	tests := []struct {
		name    string
		typ     wire.Type
		payload []byte
	}{
		{"catalog", wire.TypeCatalog, payload(uint32(wire.MaxCatalogEntries))},
		{"manifest", wire.TypeManifest, payload(id, uint64(1), uint32(1), uint16(1), "a", uint32(wire.MaxPieces))},
		{"have", wire.TypeHave, payload(id, uint32(wire.MaxPieces))},
		{"peers", wire.TypePeers, payload(uint16(wire.MaxPeers))},
		{"announce", wire.TypeAnnounce, payload(id, uint16(wire.MaxAnnounce))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			allocs := testing.AllocsPerRun(100, func() {
				if _, err := wire.Decode(tc.typ, tc.payload); err == nil {
					t.Fatal("Decode accepted a count with no data")
				}
			})
			// The message shell and the error; no slice for the count.
			if allocs > 3 {
				t.Fatalf("Decode allocated %v times", allocs)
			}
		})
	}
}

func TestDecode_Aliasing(t *testing.T) {
	t.Run("piece", func(t *testing.T) {
		p := encode(t, wire.Piece{ID: fid("a"), Index: 1, Data: []byte("abc")})[wire.HeaderSize:]
		m, err := wire.Decode(wire.TypePiece, p)
		if err != nil {
			t.Fatal(err)
		}
		data := m.(*wire.Piece).Data
		if &data[0] != &p[37] {
			t.Fatal("Piece.Data does not alias the payload")
		}
		if cap(data) != len(data) {
			t.Fatalf("Piece.Data has spare capacity %d", cap(data)-len(data))
		}
	})
	t.Run("have", func(t *testing.T) {
		p := encode(t, wire.Have{ID: fid("a"), Pieces: 9, Bits: []byte{1, 0x80}})[wire.HeaderSize:]
		p = append(p, 0xee)[:len(p)] // capacity past the end must not leak into Bits
		m, err := wire.Decode(wire.TypeHave, p)
		if err != nil {
			t.Fatal(err)
		}
		bits := m.(*wire.Have).Bits
		if &bits[0] != &p[37] || cap(bits) != 2 {
			t.Fatal("Have.Bits does not alias exactly its bytes of the payload")
		}
	})
}

func TestAppendFrame_RejectsInvalid(t *testing.T) {
	long := strings.Repeat("n", wire.MaxNameLen+1)
	tooManyFiles := make([]wire.CatalogEntry, wire.MaxCatalogEntries+1)
	for i := range tooManyFiles {
		tooManyFiles[i].Name = "a"
	}
	tests := []struct {
		name string
		msg  wire.Message
		want error
	}{
		{"hello addr too long", wire.Hello{Addr: long}, wire.ErrInvalidMessage},
		{"hello addr not utf8", wire.Hello{Addr: "\xff"}, wire.ErrInvalidMessage},
		{"catalog name empty", wire.Catalog{Files: []wire.CatalogEntry{{}}}, wire.ErrInvalidMessage},
		{"catalog name too long", wire.Catalog{Files: []wire.CatalogEntry{{Name: long}}}, wire.ErrInvalidMessage},
		{"catalog name not utf8", &wire.Catalog{Files: []wire.CatalogEntry{{Name: "\xc3"}}}, wire.ErrInvalidMessage},
		{"catalog too many entries", wire.Catalog{Files: tooManyFiles}, wire.ErrInvalidMessage},
		{"manifest name empty", wire.Manifest{}, wire.ErrInvalidMessage},
		{"manifest too large", wire.Manifest{ID: fid("a"), Name: "a", Pieces: make([][32]byte, wire.MaxPayload/32)}, wire.ErrFrameTooLarge},
		{"have bits short", wire.Have{Pieces: 9, Bits: []byte{0}}, wire.ErrInvalidMessage},
		{"have bits missing", wire.Have{Pieces: 1}, wire.ErrInvalidMessage},
		{"have spare bits", wire.Have{Pieces: 1, Bits: []byte{0x40}}, wire.ErrInvalidMessage},
		{"have too many pieces", wire.Have{Pieces: wire.MaxPieces + 1, Bits: make([]byte, wire.MaxPieces/8+1)}, wire.ErrInvalidMessage},
		{"piece too large", wire.Piece{ID: fid("a"), Data: make([]byte, wire.MaxPayload-36)}, wire.ErrFrameTooLarge},
		{"peers too many", wire.Peers{Addrs: make([]string, wire.MaxPeers+1)}, wire.ErrInvalidMessage},
		{"peers addr empty", wire.Peers{Addrs: []string{""}}, wire.ErrInvalidMessage},
		{"peers addr too long", wire.Peers{Addrs: []string{long}}, wire.ErrInvalidMessage},
		{"announce empty", wire.Announce{}, wire.ErrInvalidMessage},
		{"announce too many", wire.Announce{Indexes: make([]uint32, wire.MaxAnnounce+1)}, wire.ErrInvalidMessage},
		{"announce unsorted", wire.Announce{Indexes: []uint32{2, 1}}, wire.ErrInvalidMessage},
		{"announce index too large", wire.Announce{Indexes: []uint32{wire.MaxPieces}}, wire.ErrInvalidMessage},
		{"foreign type", foreign{}, wire.ErrUnknownType},
		// An id names its hash algorithm; the zero id names none.
		{"get_manifest unknown hash", wire.GetManifest{}, wire.ErrInvalidMessage},
		{"manifest unknown hash", wire.Manifest{Name: "a"}, wire.ErrInvalidMessage},
		{"get_have unknown hash", wire.GetHave{}, wire.ErrInvalidMessage},
		{"have unknown hash", wire.Have{}, wire.ErrInvalidMessage},
		{"get_piece unknown hash", wire.GetPiece{}, wire.ErrInvalidMessage},
		{"piece unknown hash", wire.Piece{Data: []byte("x")}, wire.ErrInvalidMessage},
		{"announce unknown hash", wire.Announce{Indexes: []uint32{1}}, wire.ErrInvalidMessage},
		{"get_manifest_page unknown hash", wire.GetManifestPage{}, wire.ErrInvalidMessage},
		{"manifest_page unknown hash", wire.ManifestPage{Name: "a"}, wire.ErrInvalidMessage},
		{"catalog entry unknown hash", wire.Catalog{Files: []wire.CatalogEntry{{Name: "a"}}}, wire.ErrInvalidMessage},
		{"catalog_page entry unknown hash", wire.CatalogPage{Files: []wire.CatalogEntry{{ID: fid("a"), Name: "a"}, {Name: "b"}}}, wire.ErrInvalidMessage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := wire.AppendFrame(dst, tc.msg)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if string(got) != "keep" {
				t.Fatalf("dst changed to %q", got)
			}
		})
	}
}

type foreign struct{}

func (foreign) Type() wire.Type               { return 200 }
func (foreign) AppendPayload(b []byte) []byte { return b }

func TestAppendFrame_LargestPiece(t *testing.T) {
	frame := encode(t, wire.Piece{ID: fid("a"), Data: make([]byte, wire.MaxPayload-37)})
	if len(frame) != wire.HeaderSize+wire.MaxPayload {
		t.Fatalf("frame is %d bytes", len(frame))
	}
	if _, err := wire.Decode(wire.TypePiece, frame[wire.HeaderSize:]); err != nil {
		t.Fatal(err)
	}
}

func TestText_RepairedOnEncode(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"ascii", "busy", "busy"},
		{"invalid utf8", "a\xffb", "a\uFFFDb"},
		{"cut at limit", strings.Repeat("a", wire.MaxMessageLen+10), strings.Repeat("a", wire.MaxMessageLen)},
		{"cut before a split character", strings.Repeat("a", wire.MaxMessageLen-1) + "é", strings.Repeat("a", wire.MaxMessageLen-1)},
		{"cut multibyte", strings.Repeat("€", 400), strings.Repeat("€", wire.MaxMessageLen/3)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, m := range []wire.Message{wire.Reject{Code: 1, Message: tc.in}, wire.Error{Code: 1, Message: tc.in}} {
				frame := encode(t, m)
				got, err := wire.Decode(m.Type(), frame[wire.HeaderSize:])
				if err != nil {
					t.Fatal(err)
				}
				var text string
				switch g := got.(type) {
				case *wire.Reject:
					text = g.Message
				case *wire.Error:
					text = g.Message
				}
				if text != tc.want {
					t.Fatalf("%s: got %q, want %q", m.Type(), text, tc.want)
				}
			}
		})
	}
}

func TestHave_Has(t *testing.T) {
	h := &wire.Have{Pieces: 10, Bits: []byte{0x81, 0x40}}
	want := map[uint32]bool{0: true, 7: true, 9: true}
	for i := range uint32(12) {
		if got := h.Has(i); got != want[i] {
			t.Errorf("Has(%d) = %v, want %v", i, got, want[i])
		}
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		got  interface{ String() string }
		want string
	}{
		{wire.TypeHello, "hello"},
		{wire.TypeAuth, "auth"},
		{wire.TypeGetCatalog, "get_catalog"},
		{wire.TypeCatalog, "catalog"},
		{wire.TypeGetManifest, "get_manifest"},
		{wire.TypeManifest, "manifest"},
		{wire.TypeGetHave, "get_have"},
		{wire.TypeHave, "have"},
		{wire.TypeGetPiece, "get_piece"},
		{wire.TypePiece, "piece"},
		{wire.TypeReject, "reject"},
		{wire.TypeError, "error"},
		{wire.TypeGetPeers, "get_peers"},
		{wire.TypePeers, "peers"},
		{wire.TypeAnnounce, "announce"},
		{wire.TypeGetCatalogPage, "get_catalog_page"},
		{wire.TypeCatalogPage, "catalog_page"},
		{wire.TypeGetManifestPage, "get_manifest_page"},
		{wire.TypeManifestPage, "manifest_page"},
		{wire.Type(0), "type(0x00)"},
		{wire.Type(0xab), "type(0xab)"},
		{wire.RejectNotFound, "not_found"},
		{wire.RejectNoPiece, "no_piece"},
		{wire.RejectBusy, "busy"},
		{wire.RejectBadRequest, "bad_request"},
		{wire.RejectNotServing, "not_serving"},
		{wire.RejectCode(9), "reject_code(9)"},
		{wire.ErrorProtocol, "protocol"},
		{wire.ErrorVersion, "version"},
		{wire.ErrorAuth, "auth"},
		{wire.ErrorTooLarge, "too_large"},
		{wire.ErrorBusy, "busy"},
		{wire.ErrorShutdown, "shutdown"},
		{wire.ErrorCode(0), "error_code(0)"},
	}
	for _, tc := range tests {
		if got := tc.got.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.got, got, tc.want)
		}
	}
}

func TestAppendFrameVersion_TypesOfEachVersion(t *testing.T) {
	ann := wire.Announce{Indexes: []uint32{1}}
	if _, err := wire.AppendFrameVersion(nil, wire.Version1, ann); !errors.Is(err, wire.ErrUnknownType) {
		t.Fatalf("announce in a version-1 frame: %v, want ErrUnknownType", err)
	}
	if _, err := wire.AppendFrameVersion(nil, wire.Version+1, wire.GetCatalog{}); !errors.Is(err, wire.ErrUnknownType) {
		t.Fatalf("a frame of an unknown version: %v, want ErrUnknownType", err)
	}
	page := wire.GetCatalogPage{}
	if _, err := wire.AppendFrameVersion(nil, wire.Version2, page); !errors.Is(err, wire.ErrUnknownType) {
		t.Fatalf("get_catalog_page in a version-2 frame: %v, want ErrUnknownType", err)
	}
	for _, tc := range samples() {
		v := max(wire.Version2, tc.msg.Type().Since())
		frame, err := wire.AppendFrameVersion(nil, v, tc.msg)
		if err != nil {
			t.Fatalf("%s in a version-%d frame: %v", tc.name, v, err)
		}
		typ, got, p, err := wire.ReadFrameVersion(bytes.NewReader(frame), nil, v)
		if err != nil || got != v || typ != tc.msg.Type() || !bytes.Equal(p, tc.msg.AppendPayload(nil)) {
			t.Fatalf("%s: read back %v, %d, %v", tc.name, typ, got, err)
		}
	}
}

// The worked example of docs/peer-protocol.md: pieces 5 and 9 of the
// SHA-256 file 00 01 … 1f announced.
func TestAppendFrame_AnnounceExample(t *testing.T) {
	var d content.Hash
	for i := range d {
		d[i] = byte(i)
	}
	got, err := wire.AppendFrameVersion(nil, wire.Version4, wire.Announce{ID: content.NewID(content.SHA256, d), Indexes: []uint32{5, 9}})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hex.DecodeString("040f0000002b12000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00020000000500000009")
	if !bytes.Equal(got, want) {
		t.Fatalf("got  %x\nwant %x", got, want)
	}
}

func TestDecodeError_Message(t *testing.T) {
	_, err := wire.Decode(wire.TypeAuth, nil)
	if got, want := err.Error(), "wire: bad auth payload: truncated payload"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
