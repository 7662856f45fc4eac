// Package wire: framing and messages of the netlab peer protocol (docs/peer-protocol.md).
//
// A frame is a 6-byte header (version, type, payload length) and a payload.
// Every message type has a struct here; AppendPayload encodes it and Decode
// parses it. Decode, ReadFrame and Conn.Receive return messages as pointers
// (*Hello, *Piece, ...); Send and AppendFrame accept values or pointers.
package wire

import (
	"errors"
	"fmt"
)

// Protocol versions. Every frame header carries the version its connection
// speaks, which the handshake settles (docs/peer-protocol.md, Versions).
const (
	Version1 = 1 // the first version
	Version2 = 2 // adds announce: pieces announced as soon as they are verified
	// Version3 replaces the secret's MAC with a password-authenticated key
	// exchange (pake, then auth as key confirmation) and, with a secret,
	// seals every later frame (sealed); it also adds paged catalogs and
	// manifests (get_catalog_page, get_manifest_page).
	Version3 = 3
	// Version4 makes file ids name their hash algorithm: every id field
	// is 33 bytes, an algorithm code (SHA-256 or BLAKE3) and the digest.
	// Message layouts before it had 32-byte SHA-256 ids, so a node of
	// version 4 speaks to nodes of version 4 only.
	Version4 = 4
	// Version is the highest version this package speaks.
	Version = Version4
	// MinVersion is the lowest version a node speaks: the layouts here are
	// version 4's. Frames of earlier versions are read only to refuse
	// their hello with error(version).
	MinVersion = Version4
	// AnyVersion, given to ReadFrameVersion, accepts a frame of any
	// version from 1 on, as the first frame of a connection must be read.
	AnyVersion = 0
)

// HeaderSize is the frame header: version u8 | type u8 | length u32 big-endian.
const HeaderSize = 6

// Limits. A peer that exceeds one is broken or hostile; the frame is rejected.
const (
	MaxPayload        = 4<<20 + 4096 // largest payload accepted (a 4 MiB piece plus its header fields)
	MaxCatalogEntries = 65536
	MaxPeers          = 256
	MaxNameLen        = 255
	MaxMessageLen     = 1024 // Reject/Error message text
	MaxPieces         = 1 << 20
	MaxAnnounce       = 1024 // piece indexes in one announce
	// MaxPageHashes bounds the piece hashes in one manifest_page (2 MiB).
	MaxPageHashes = 1 << 16
)

// chunkSize is how much of a payload moves under one deadline: payloads
// are read and written in chunks of at most this size, or (piece data,
// unthrottled sendfile) in larger calls that renew the deadline each time
// this much has moved, so a slow but live peer is not mistaken for a dead
// one.
const chunkSize = 64 << 10

// Type is a message type, the second byte of the frame header.
type Type uint8

// Message types.
const (
	TypeHello       Type = 1
	TypeAuth        Type = 2
	TypeGetCatalog  Type = 3
	TypeCatalog     Type = 4
	TypeGetManifest Type = 5
	TypeManifest    Type = 6
	TypeGetHave     Type = 7
	TypeHave        Type = 8
	TypeGetPiece    Type = 9
	TypePiece       Type = 10
	TypeReject      Type = 11
	TypeError       Type = 12
	TypeGetPeers    Type = 13
	TypePeers       Type = 14
	TypeAnnounce    Type = 15 // version 2 on
	// Paged answers, version 3 on: a catalog or a manifest larger than
	// one frame travels in pages the initiator asks for one by one.
	TypeGetCatalogPage  Type = 16
	TypeCatalogPage     Type = 17
	TypeGetManifestPage Type = 18
	TypeManifestPage    Type = 19
	// Numbered apart from the request types: they belong to the handshake
	// and the framing, not to the requests a node answers.
	TypePake   Type = 0x20 // version 3 on
	TypeSealed Type = 0x21 // version 3 on
)

var typeNames = [...]string{
	TypeHello:       "hello",
	TypeAuth:        "auth",
	TypeGetCatalog:  "get_catalog",
	TypeCatalog:     "catalog",
	TypeGetManifest: "get_manifest",
	TypeManifest:    "manifest",
	TypeGetHave:     "get_have",
	TypeHave:        "have",
	TypeGetPiece:    "get_piece",
	TypePiece:       "piece",
	TypeReject:      "reject",
	TypeError:       "error",
	TypeGetPeers:    "get_peers",
	TypePeers:       "peers",
	TypeAnnounce:    "announce",
	TypePake:        "pake",
	TypeSealed:      "sealed",

	TypeGetCatalogPage:  "get_catalog_page",
	TypeCatalogPage:     "catalog_page",
	TypeGetManifestPage: "get_manifest_page",
	TypeManifestPage:    "manifest_page",
}

func (t Type) known() bool { return int(t) < len(typeNames) && typeNames[t] != "" }

// Since is the first protocol version that has message type t.
func (t Type) Since() uint8 {
	switch t {
	case TypeAnnounce:
		return Version2
	case TypePake, TypeSealed, TypeGetCatalogPage, TypeCatalogPage, TypeGetManifestPage, TypeManifestPage:
		return Version3
	}
	return Version1
}

// In reports whether message type t exists in protocol version v.
func (t Type) In(v uint8) bool { return t.known() && v >= t.Since() }

// String returns the type's name as used in logs and metric labels.
func (t Type) String() string {
	if t.known() {
		return typeNames[t]
	}
	return fmt.Sprintf("type(0x%02x)", uint8(t))
}

// RejectCode says why a request was not served (the connection stays open).
type RejectCode uint16

// Reject codes.
const (
	RejectNotFound   RejectCode = 1 // no file with that id
	RejectNoPiece    RejectCode = 2 // the file is known but this piece is not held
	RejectBusy       RejectCode = 3 // cannot serve now; try later or elsewhere
	RejectBadRequest RejectCode = 4 // well-formed but invalid, e.g. index out of range
	// RejectNotServing: the node serves no pieces to anyone (SERVE_PIECES=false).
	// Added with version 2; version-1 receivers treat it like busy.
	RejectNotServing RejectCode = 5
)

var rejectNames = [...]string{
	RejectNotFound:   "not_found",
	RejectNoPiece:    "no_piece",
	RejectBusy:       "busy",
	RejectBadRequest: "bad_request",
	RejectNotServing: "not_serving",
}

func (c RejectCode) String() string { return codeName(rejectNames[:], uint16(c), "reject_code") }

// ErrorCode says why the sender is closing the connection.
type ErrorCode uint16

// Error codes.
const (
	ErrorProtocol ErrorCode = 1 // malformed or unexpected frame
	ErrorVersion  ErrorCode = 2 // unsupported version byte
	ErrorAuth     ErrorCode = 3 // the key confirmation (or, before version 3, the MAC) does not match
	ErrorTooLarge ErrorCode = 4 // frame length over MaxPayload
	ErrorBusy     ErrorCode = 5 // connection limit reached
	ErrorShutdown ErrorCode = 6 // the node is shutting down
)

var errorNames = [...]string{
	ErrorProtocol: "protocol",
	ErrorVersion:  "version",
	ErrorAuth:     "auth",
	ErrorTooLarge: "too_large",
	ErrorBusy:     "busy",
	ErrorShutdown: "shutdown",
}

func (c ErrorCode) String() string { return codeName(errorNames[:], uint16(c), "error_code") }

// Known reports whether c is an error code of this version, so a metric
// label made of it stays within a fixed set.
func (c ErrorCode) Known() bool { return int(c) < len(errorNames) && errorNames[c] != "" }

// codeName returns the name of code c in names, or kind(c) for a code
// without one: codes from a newer peer still show up in logs.
func codeName(names []string, c uint16, kind string) string {
	if int(c) < len(names) && names[c] != "" {
		return names[c]
	}
	return fmt.Sprintf("%s(%d)", kind, c)
}

// Frame errors. They are wrapped with details; test with errors.Is.
var (
	ErrVersion       = errors.New("wire: unsupported protocol version")
	ErrFrameTooLarge = errors.New("wire: frame too large")
	ErrUnknownType   = errors.New("wire: unknown message type")
	// ErrInvalidMessage is returned by AppendFrame and Send for a message
	// that Decode would reject (a name too long, bits not matching the
	// count, ...), so a node never sends what its peer must refuse.
	ErrInvalidMessage = errors.New("wire: invalid message")
	// ErrTampered: a sealed frame failed authentication (altered, replayed,
	// reordered or sealed with another key). The stream cannot be trusted
	// after it: close the connection.
	ErrTampered = errors.New("wire: sealed frame failed authentication")
	// ErrNotSealed: a frame in the clear arrived on a connection whose
	// frames are sealed.
	ErrNotSealed = errors.New("wire: frame not sealed on an encrypted connection")
	// ErrHeaderTimeout: the first byte of a frame header arrived, the rest
	// not within the I/O timeout. Unlike a timeout waiting for a frame, it
	// ends the connection.
	ErrHeaderTimeout = errors.New("wire: frame header incomplete within the I/O timeout")
)

// DecodeError reports a payload that is not a valid encoding of its type.
type DecodeError struct {
	Type   Type
	Reason string
}

func (e *DecodeError) Error() string {
	return "wire: bad " + e.Type.String() + " payload: " + e.Reason
}
