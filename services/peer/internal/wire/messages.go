package wire

import (
	"encoding/binary"
	"net"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/netlab/netlab/services/peer/internal/content"
)

// Message is one protocol message. The types in this package implement it
// with value receivers, so both T and *T can be sent.
type Message interface {
	Type() Type
	// AppendPayload appends the encoded payload (not the header) to b. It
	// does not validate; AppendFrame and Conn.Send do.
	AppendPayload(b []byte) []byte
}

// checked is implemented by every message type of this package: check
// reports what Decode would reject, payloadLen sizes the encoding up front
// so an oversized message is refused before anything is copied.
type checked interface {
	check() error
	payloadLen() int
}

// Hello is the first frame each side sends.
type Hello struct {
	NodeID     [16]byte
	Nonce      [16]byte // fresh random per connection; the peer's Auth covers it
	ListenPort uint16   // 0: the node accepts no connections
	Addr       string   // advertised host:port, or "" to mean remote IP + ListenPort; ≤ MaxNameLen bytes
}

// Auth proves knowledge of the shared secret (see docs/peer-protocol.md).
type Auth struct {
	MAC [32]byte
}

// Pake is one side's share of the password-authenticated key exchange
// (version 3 on): a CPace ristretto255 element, see docs/peer-protocol.md.
type Pake struct {
	Element [32]byte
}

// GetCatalog asks for the files the peer has. Empty payload.
type GetCatalog struct{}

// Catalog answers GetCatalog.
type Catalog struct {
	Files []CatalogEntry
}

// CatalogEntry describes one file in a Catalog.
type CatalogEntry struct {
	ID        content.ID
	Size      uint64
	PieceSize uint32
	Offered   bool   // the node has the whole file; false while it is still downloading it
	Name      string // 1..MaxNameLen bytes of UTF-8
}

// GetManifest asks for a file's piece hashes.
type GetManifest struct {
	ID content.ID
}

// Manifest answers GetManifest. The receiver must check that it hashes to
// the id it asked for.
type Manifest struct {
	ID        content.ID
	Size      uint64
	PieceSize uint32
	Name      string // 1..MaxNameLen bytes of UTF-8
	Pieces    [][32]byte
}

// GetHave asks which pieces of a file the peer holds.
type GetHave struct {
	ID content.ID
}

// Have answers GetHave. Bits holds (Pieces+7)/8 bytes; piece i is bit
// 7-i%8 of byte i/8 (most significant bit first); spare bits are zero.
// After Decode, Bits aliases the payload.
type Have struct {
	ID     content.ID
	Pieces uint32
	Bits   []byte
}

// Has reports whether piece i is marked present.
func (h *Have) Has(i uint32) bool {
	return i < h.Pieces && int(i/8) < len(h.Bits) && h.Bits[i/8]&(0x80>>(i%8)) != 0
}

// GetPiece asks for one piece.
type GetPiece struct {
	ID    content.ID
	Index uint32
}

// Piece answers GetPiece. After Decode, Data aliases the payload.
type Piece struct {
	ID    content.ID
	Index uint32
	Data  []byte
}

// Reject answers a Get* request that cannot be served; the connection stays open.
type Reject struct {
	Code    RejectCode
	Message string
}

// Error is fatal: the sender closes the connection after it.
type Error struct {
	Code    ErrorCode
	Message string
}

// GetPeers asks for addresses of other nodes. Empty payload.
type GetPeers struct{}

// Peers answers GetPeers.
type Peers struct {
	Addrs []string // host:port, each 1..MaxNameLen bytes of UTF-8; at most MaxPeers
}

// Announce is sent unasked by the acceptor of a version-2 connection: the
// pieces of a file it verified since the initiator asked for its have
// list (get_have), so the initiator can request them at once.
type Announce struct {
	ID      content.ID
	Indexes []uint32 // 1..MaxAnnounce piece indexes, strictly increasing, each < MaxPieces
}

// GetCatalogPage asks for the next page of the acceptor's catalog: the
// entries whose names sort after After, byte by byte ("" starts at the
// first). Version 3 on.
type GetCatalogPage struct {
	After string // 0..MaxNameLen bytes of UTF-8
}

// CatalogPage answers GetCatalogPage: entries in strictly increasing name
// order, all after the request's After. More says that entries follow the
// last one: ask again with its name.
type CatalogPage struct {
	More  bool
	Files []CatalogEntry
}

// GetManifestPage asks for a file's manifest from piece hash First on.
// Version 3 on.
type GetManifestPage struct {
	ID    content.ID
	First uint32
}

// ManifestPage answers GetManifestPage: the file's size, piece size, name
// and piece count, and the hashes of pieces First, First+1, ... (at most
// MaxPageHashes). The receiver checks the id once it holds every hash.
type ManifestPage struct {
	ID        content.ID
	Size      uint64
	PieceSize uint32
	Name      string // 1..MaxNameLen bytes of UTF-8
	Pieces    uint32 // the file's piece count, 0..MaxPieces
	First     uint32
	Hashes    [][32]byte // at least one unless Pieces is 0; First+len ≤ Pieces
}

func (Hello) Type() Type       { return TypeHello }
func (Auth) Type() Type        { return TypeAuth }
func (Pake) Type() Type        { return TypePake }
func (GetCatalog) Type() Type  { return TypeGetCatalog }
func (Catalog) Type() Type     { return TypeCatalog }
func (GetManifest) Type() Type { return TypeGetManifest }
func (Manifest) Type() Type    { return TypeManifest }
func (GetHave) Type() Type     { return TypeGetHave }
func (Have) Type() Type        { return TypeHave }
func (GetPiece) Type() Type    { return TypeGetPiece }
func (Piece) Type() Type       { return TypePiece }
func (Reject) Type() Type      { return TypeReject }
func (Error) Type() Type       { return TypeError }
func (GetPeers) Type() Type    { return TypeGetPeers }
func (Peers) Type() Type       { return TypePeers }
func (Announce) Type() Type    { return TypeAnnounce }

func (GetCatalogPage) Type() Type  { return TypeGetCatalogPage }
func (CatalogPage) Type() Type     { return TypeCatalogPage }
func (GetManifestPage) Type() Type { return TypeGetManifestPage }
func (ManifestPage) Type() Type    { return TypeManifestPage }

// Fixed parts of the encodings.
const (
	helloFixed    = 16 + 16 + 2 + 1
	idSize        = content.IDSize // algorithm code, then the digest
	entryFixed    = idSize + 8 + 4 + 1 + 2
	manifestFixed = idSize + 8 + 4 + 2 + 4
	haveFixed     = idSize + 4
	pieceFixed    = idSize + 4
	textFixed     = 2 + 2
	announceFixed = idSize + 2
	// manifestPageFixed: the manifest's fixed fields plus first and count.
	manifestPageFixed = manifestFixed + 4 + 4
)

func (m Hello) AppendPayload(b []byte) []byte {
	b = append(b, m.NodeID[:]...)
	b = append(b, m.Nonce[:]...)
	b = binary.BigEndian.AppendUint16(b, m.ListenPort)
	b = append(b, uint8(len(m.Addr)))
	return append(b, m.Addr...)
}

func (m Hello) payloadLen() int { return helloFixed + len(m.Addr) }

func (m Hello) check() error {
	if len(m.Addr) > MaxNameLen || !utf8.ValidString(m.Addr) {
		return invalid(TypeHello, "addr too long or not UTF-8")
	}
	if m.Addr != "" && !validHostPort(m.Addr) {
		return invalid(TypeHello, "addr not host:port")
	}
	return nil
}

// validHostPort reports whether s is host:port with a host and a port
// from 1 to 65535, as a hello's addr must be.
func validHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return false
	}
	n, err := strconv.ParseUint(port, 10, 16)
	return err == nil && n > 0
}

func (m Auth) AppendPayload(b []byte) []byte { return append(b, m.MAC[:]...) }
func (Auth) payloadLen() int                 { return 32 }
func (Auth) check() error                    { return nil }

func (m Pake) AppendPayload(b []byte) []byte { return append(b, m.Element[:]...) }
func (Pake) payloadLen() int                 { return 32 }
func (Pake) check() error                    { return nil }

func (GetCatalog) AppendPayload(b []byte) []byte { return b }
func (GetCatalog) payloadLen() int               { return 0 }
func (GetCatalog) check() error                  { return nil }

func (m Catalog) AppendPayload(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Files)))
	return appendEntries(b, m.Files)
}

func (m Catalog) payloadLen() int { return 4 + EntriesLen(m.Files) }

func (m Catalog) check() error { return checkEntries(TypeCatalog, m.Files, false) }

func appendEntries(b []byte, files []CatalogEntry) []byte {
	for i := range files {
		e := &files[i]
		b = append(b, e.ID[:]...)
		b = binary.BigEndian.AppendUint64(b, e.Size)
		b = binary.BigEndian.AppendUint32(b, e.PieceSize)
		var flags uint8
		if e.Offered {
			flags |= 1
		}
		b = append(b, flags)
		b = binary.BigEndian.AppendUint16(b, uint16(len(e.Name)))
		b = append(b, e.Name...)
	}
	return b
}

// EntryLen is the encoded size of a catalog entry named name.
func EntryLen(name string) int { return entryFixed + len(name) }

// EntriesLen is the encoded size of catalog entries.
func EntriesLen(files []CatalogEntry) int {
	n := 0
	for i := range files {
		n += EntryLen(files[i].Name)
	}
	return n
}

// checkEntries checks a catalog's entries; sorted also wants their names
// strictly increasing, as in a catalog_page.
func checkEntries(t Type, files []CatalogEntry, sorted bool) error {
	if len(files) > MaxCatalogEntries {
		return invalid(t, "too many entries")
	}
	for i := range files {
		if !validName(files[i].Name) {
			return invalid(t, "name empty, too long or not UTF-8")
		}
		if err := checkID(t, files[i].ID); err != nil {
			return err
		}
		if sorted && i > 0 && files[i].Name <= files[i-1].Name {
			return invalid(t, "names not strictly increasing")
		}
	}
	return nil
}

func (m GetCatalogPage) AppendPayload(b []byte) []byte {
	b = append(b, uint8(len(m.After)))
	return append(b, m.After...)
}

func (m GetCatalogPage) payloadLen() int { return 1 + len(m.After) }

func (m GetCatalogPage) check() error {
	if len(m.After) > MaxNameLen || !utf8.ValidString(m.After) {
		return invalid(TypeGetCatalogPage, "after too long or not UTF-8")
	}
	return nil
}

func (m CatalogPage) AppendPayload(b []byte) []byte {
	var flags uint8
	if m.More {
		flags |= 1
	}
	b = append(b, flags)
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Files)))
	return appendEntries(b, m.Files)
}

func (m CatalogPage) payloadLen() int { return 1 + 4 + EntriesLen(m.Files) }

func (m CatalogPage) check() error { return checkEntries(TypeCatalogPage, m.Files, true) }

func (m GetManifestPage) AppendPayload(b []byte) []byte {
	b = append(b, m.ID[:]...)
	return binary.BigEndian.AppendUint32(b, m.First)
}
func (GetManifestPage) payloadLen() int { return 36 }
func (m GetManifestPage) check() error  { return checkID(TypeGetManifestPage, m.ID) }

func (m ManifestPage) AppendPayload(b []byte) []byte {
	b = appendFileHead(b, m.ID, m.Size, m.PieceSize, m.Name)
	b = binary.BigEndian.AppendUint32(b, m.Pieces)
	b = binary.BigEndian.AppendUint32(b, m.First)
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Hashes)))
	return appendHashes(b, m.Hashes)
}

func (m ManifestPage) payloadLen() int { return manifestPageFixed + len(m.Name) + 32*len(m.Hashes) }

func (m ManifestPage) check() error {
	if !validName(m.Name) {
		return invalid(TypeManifestPage, "name empty, too long or not UTF-8")
	}
	if reason := checkPage(m.Pieces, m.First, len(m.Hashes)); reason != "" {
		return invalid(TypeManifestPage, reason)
	}
	return checkID(TypeManifestPage, m.ID)
}

// checkPage returns why a manifest page of count hashes from first is not
// valid for a file of pieces pieces, or "".
func checkPage(pieces, first uint32, count int) string {
	switch {
	case pieces > MaxPieces:
		return "pieces over MaxPieces"
	case count > MaxPageHashes:
		return "hashes over MaxPageHashes"
	case uint64(first)+uint64(count) > uint64(pieces):
		return "hashes beyond the piece count"
	case count == 0 && pieces > 0:
		return "no hashes"
	}
	return ""
}

func (m GetManifest) AppendPayload(b []byte) []byte { return append(b, m.ID[:]...) }
func (GetManifest) payloadLen() int                 { return idSize }
func (m GetManifest) check() error                  { return checkID(TypeGetManifest, m.ID) }

func (m Manifest) AppendPayload(b []byte) []byte {
	b = appendFileHead(b, m.ID, m.Size, m.PieceSize, m.Name)
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Pieces)))
	return appendHashes(b, m.Pieces)
}

// appendFileHead appends the fields a manifest and a manifest page start
// with.
func appendFileHead(b []byte, id content.ID, size uint64, pieceSize uint32, name string) []byte {
	b = append(b, id[:]...)
	b = binary.BigEndian.AppendUint64(b, size)
	b = binary.BigEndian.AppendUint32(b, pieceSize)
	b = binary.BigEndian.AppendUint16(b, uint16(len(name)))
	return append(b, name...)
}

func appendHashes(b []byte, hashes [][32]byte) []byte {
	for i := range hashes {
		b = append(b, hashes[i][:]...)
	}
	return b
}

func (m Manifest) payloadLen() int { return manifestFixed + len(m.Name) + 32*len(m.Pieces) }

func (m Manifest) check() error {
	if !validName(m.Name) {
		return invalid(TypeManifest, "name empty, too long or not UTF-8")
	}
	if len(m.Pieces) > MaxPieces {
		return invalid(TypeManifest, "too many pieces")
	}
	return checkID(TypeManifest, m.ID)
}

func (m GetHave) AppendPayload(b []byte) []byte { return append(b, m.ID[:]...) }
func (GetHave) payloadLen() int                 { return idSize }
func (m GetHave) check() error                  { return checkID(TypeGetHave, m.ID) }

func (m Have) AppendPayload(b []byte) []byte {
	b = append(b, m.ID[:]...)
	b = binary.BigEndian.AppendUint32(b, m.Pieces)
	return append(b, m.Bits...)
}

func (m Have) payloadLen() int { return haveFixed + len(m.Bits) }

func (m Have) check() error {
	if m.Pieces > MaxPieces {
		return invalid(TypeHave, "too many pieces")
	}
	if reason := checkBits(m.Pieces, m.Bits); reason != "" {
		return invalid(TypeHave, reason)
	}
	return checkID(TypeHave, m.ID)
}

func (m GetPiece) AppendPayload(b []byte) []byte {
	b = append(b, m.ID[:]...)
	return binary.BigEndian.AppendUint32(b, m.Index)
}
func (GetPiece) payloadLen() int { return pieceFixed }
func (m GetPiece) check() error  { return checkID(TypeGetPiece, m.ID) }

func (m Piece) AppendPayload(b []byte) []byte {
	b = append(b, m.ID[:]...)
	b = binary.BigEndian.AppendUint32(b, m.Index)
	return append(b, m.Data...)
}
func (m Piece) payloadLen() int { return pieceFixed + len(m.Data) }
func (m Piece) check() error    { return checkID(TypePiece, m.ID) }

// Reject and Error text is diagnostic, so rather than fail a Send over it
// the encoder repairs it: invalid UTF-8 is replaced and the text is cut to
// MaxMessageLen bytes at a character boundary.
func (m Reject) AppendPayload(b []byte) []byte { return appendText(b, uint16(m.Code), m.Message) }
func (m Reject) payloadLen() int               { return textFixed + len(cleanText(m.Message)) }
func (Reject) check() error                    { return nil }

func (m Error) AppendPayload(b []byte) []byte { return appendText(b, uint16(m.Code), m.Message) }
func (m Error) payloadLen() int               { return textFixed + len(cleanText(m.Message)) }
func (Error) check() error                    { return nil }

func (GetPeers) AppendPayload(b []byte) []byte { return b }
func (GetPeers) payloadLen() int               { return 0 }
func (GetPeers) check() error                  { return nil }

func (m Peers) AppendPayload(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Addrs)))
	for _, a := range m.Addrs {
		b = append(b, uint8(len(a)))
		b = append(b, a...)
	}
	return b
}

func (m Peers) payloadLen() int {
	n := 2
	for _, a := range m.Addrs {
		n += 1 + len(a)
	}
	return n
}

func (m Peers) check() error {
	if len(m.Addrs) > MaxPeers {
		return invalid(TypePeers, "too many addresses")
	}
	for _, a := range m.Addrs {
		if !validName(a) {
			return invalid(TypePeers, "addr empty, too long or not UTF-8")
		}
	}
	return nil
}

func (m Announce) AppendPayload(b []byte) []byte {
	b = append(b, m.ID[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Indexes)))
	for _, i := range m.Indexes {
		b = binary.BigEndian.AppendUint32(b, i)
	}
	return b
}

func (m Announce) payloadLen() int { return announceFixed + 4*len(m.Indexes) }

func (m Announce) check() error {
	if reason := checkIndexes(m.Indexes); reason != "" {
		return invalid(TypeAnnounce, reason)
	}
	return checkID(TypeAnnounce, m.ID)
}

// checkIndexes returns why idx is not a valid announce list, or "".
func checkIndexes(idx []uint32) string {
	switch {
	case len(idx) == 0:
		return "no piece indexes"
	case len(idx) > MaxAnnounce:
		return "over MaxAnnounce piece indexes"
	}
	for k, i := range idx {
		if i >= MaxPieces {
			return "piece index over MaxPieces"
		}
		if k > 0 && i <= idx[k-1] {
			return "piece indexes not strictly increasing"
		}
	}
	return ""
}

func appendText(b []byte, code uint16, msg string) []byte {
	msg = cleanText(msg)
	b = binary.BigEndian.AppendUint16(b, code)
	b = binary.BigEndian.AppendUint16(b, uint16(len(msg)))
	return append(b, msg...)
}

func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) > MaxMessageLen {
		i := MaxMessageLen
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i]
	}
	return s
}

func validName(s string) bool {
	return len(s) > 0 && len(s) <= MaxNameLen && utf8.ValidString(s)
}

// checkBits returns why bits is not a valid bitfield of n pieces, or "".
func checkBits(n uint32, bits []byte) string {
	if uint64(len(bits)) != (uint64(n)+7)/8 {
		return "bitfield length does not match piece count"
	}
	if r := n % 8; r != 0 && bits[len(bits)-1]&(0xff>>r) != 0 {
		return "spare bits set"
	}
	return ""
}

// checkID refuses an id whose algorithm code the receiver would not know:
// the decoder fails the frame with the same reason.
func checkID(t Type, id content.ID) error {
	if _, err := content.AlgOfCode(id[0]); err != nil {
		return invalid(t, err.Error())
	}
	return nil
}

func invalid(t Type, reason string) error {
	return &invalidError{t: t, reason: reason}
}

type invalidError struct {
	t      Type
	reason string
}

func (e *invalidError) Error() string {
	return ErrInvalidMessage.Error() + ": " + e.t.String() + ": " + e.reason
}

func (e *invalidError) Unwrap() error { return ErrInvalidMessage }
