// Package content: pieces, piece hashes and content-addressed file ids.
//
// A file is cut into pieces of a fixed size (the last one may be shorter).
// Each piece is identified by its hash, and the file by the hash of its
// size, piece size and piece hashes, so two nodes holding the same bytes with
// the same piece size and hash algorithm agree on the id without talking to
// each other. The id names its algorithm (Alg): SHA-256, the only one before
// protocol version 4, or BLAKE3.
package content

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/zeebo/blake3"
)

const (
	DefaultPieceSize = 1 << 20
	MinPieceSize     = 16 << 10
	MaxPieceSize     = 4 << 20
	MaxPieces        = 1 << 20 // bounds a manifest: MaxPieces*32 bytes of hashes
)

// idDomain separates file ids from any other hash the protocol computes.
const idDomain = "netlab-peer-file-v1\x00"

// Alg is a hash algorithm for pieces and file ids. The zero value is
// SHA-256, so manifests recorded before there was a choice read as what
// they are.
type Alg uint8

// Hash algorithms. DefaultAlg is used for files hashed from now on.
const (
	SHA256 Alg = iota
	BLAKE3
	numAlgs

	DefaultAlg = BLAKE3
)

// Codes of the algorithms in the binary form of an id (its first byte):
// the multihash codes of sha2-256 and blake3.
const (
	CodeSHA256 = 0x12
	CodeBLAKE3 = 0x1e
)

var algs = [numAlgs]struct {
	name string
	code byte
}{
	SHA256: {"sha256", CodeSHA256},
	BLAKE3: {"blake3", CodeBLAKE3},
}

// Valid reports whether a is a known algorithm.
func (a Alg) Valid() bool { return a < numAlgs }

// String returns the algorithm's name: sha256 or blake3.
func (a Alg) String() string {
	if !a.Valid() {
		return fmt.Sprintf("alg(%d)", uint8(a))
	}
	return algs[a].name
}

// Code returns the algorithm's byte in the binary form of an id.
func (a Alg) Code() byte {
	if !a.Valid() {
		return 0
	}
	return algs[a].code
}

// ParseAlg parses an algorithm name, sha256 or blake3 (either case).
func ParseAlg(s string) (Alg, error) {
	for a := range numAlgs {
		if strings.EqualFold(s, algs[a].name) {
			return a, nil
		}
	}
	return 0, fmt.Errorf("unknown hash algorithm %q (want sha256 or blake3)", s)
}

// AlgOfCode returns the algorithm whose id code is c.
func AlgOfCode(c byte) (Alg, error) {
	for a := range numAlgs {
		if algs[a].code == c {
			return a, nil
		}
	}
	return 0, fmt.Errorf("unknown hash algorithm code 0x%02x (want 0x%02x sha256 or 0x%02x blake3)", c, CodeSHA256, CodeBLAKE3)
}

// Sum returns the hash of p. a must be valid.
func (a Alg) Sum(p []byte) Hash {
	if a == BLAKE3 {
		return blake3.Sum256(p)
	}
	return sha256.Sum256(p)
}

func (a Alg) newHash() hash.Hash {
	if a == BLAKE3 {
		return blake3.New()
	}
	return sha256.New()
}

// Hash is the hash of one piece (32 bytes with either algorithm).
type Hash = [32]byte

// IDSize is the size of an id's binary form: the algorithm's code, then
// the 32-byte digest.
const IDSize = 33

// ID identifies a file by its content, piece size and hash algorithm.
// Byte 0 is the algorithm's code (Alg.Code), bytes 1 to 32 the digest.
type ID [IDSize]byte

// NewID returns the id of algorithm a with digest d.
func NewID(a Alg, d Hash) ID {
	var id ID
	id[0] = a.Code()
	copy(id[1:], d[:])
	return id
}

// Alg returns the id's algorithm; an id with an unknown code (only the
// zero ID, since ParseID and the wire decoder refuse them) gives an
// invalid Alg.
func (id ID) Alg() Alg {
	a, err := AlgOfCode(id[0])
	if err != nil {
		return numAlgs
	}
	return a
}

// Digest returns the id without its algorithm code.
func (id ID) Digest() Hash { return Hash(id[1:]) }

// String returns the text form: 64 lowercase hex characters for a SHA-256
// id (as ids were before there was a choice), "blake3:" and 64 hex
// characters for a BLAKE3 one.
func (id ID) String() string {
	d := hex.EncodeToString(id[1:])
	if a := id.Alg(); a != SHA256 {
		return a.String() + ":" + d
	}
	return d
}

// Short returns the first 12 hex characters of the digest, enough to
// tell files apart in logs and file names.
func (id ID) Short() string { return hex.EncodeToString(id[1:7]) }

// ParseID parses an id's text form: "blake3:" or "sha256:" then 64 hex
// characters (either case), or 64 hex characters alone, a SHA-256 id.
func ParseID(s string) (ID, error) {
	a, digest := SHA256, s
	if name, rest, ok := strings.Cut(s, ":"); ok {
		var err error
		if a, err = ParseAlg(name); err != nil {
			return ID{}, fmt.Errorf("parse id: %w", err)
		}
		digest = rest
	}
	var d Hash
	if len(digest) != 2*len(d) {
		return ID{}, fmt.Errorf("parse id: want %d hex characters, got %d", 2*len(d), len(digest))
	}
	if _, err := hex.Decode(d[:], []byte(digest)); err != nil {
		return ID{}, fmt.Errorf("parse id: %w", err)
	}
	return NewID(a, d), nil
}

// Manifest describes a file: its hash algorithm, size, piece size and
// piece hashes.
type Manifest struct {
	Alg       Alg
	Size      int64
	PieceSize int
	Pieces    []Hash
}

// ID = Alg code || H( "netlab-peer-file-v1\x00" || uint64 big-endian Size ||
// uint32 big-endian PieceSize || Pieces[0] || Pieces[1] ... ), with H the
// manifest's algorithm.
func (m Manifest) ID() ID {
	h := m.Alg.newHash()
	var hdr [len(idDomain) + 8 + 4]byte
	n := copy(hdr[:], idDomain)
	binary.BigEndian.PutUint64(hdr[n:], uint64(m.Size))
	binary.BigEndian.PutUint32(hdr[n+8:], uint32(m.PieceSize))
	h.Write(hdr[:])
	for i := range m.Pieces {
		h.Write(m.Pieces[i][:])
	}
	var d Hash
	h.Sum(d[:0])
	return NewID(m.Alg, d)
}

// NumPieces returns the number of pieces.
func (m Manifest) NumPieces() int { return len(m.Pieces) }

// PieceOffset returns the byte offset of piece i in the file.
func (m Manifest) PieceOffset(i int) int64 { return int64(i) * int64(m.PieceSize) }

// PieceLen returns the length of piece i; the last piece may be shorter.
// It returns 0 when i is out of range.
func (m Manifest) PieceLen(i int) int {
	if i < 0 || i >= len(m.Pieces) {
		return 0
	}
	if rest := m.Size - m.PieceOffset(i); rest < int64(m.PieceSize) {
		return int(rest)
	}
	return m.PieceSize
}

// Validate checks that the manifest is self-consistent and within limits.
// Manifests arrive from peers, so every later computation relies on this.
func (m Manifest) Validate() error {
	if !m.Alg.Valid() {
		return fmt.Errorf("manifest: unknown hash algorithm %d", uint8(m.Alg))
	}
	if err := checkPieceSize(m.PieceSize); err != nil {
		return err
	}
	if m.Size < 0 {
		return fmt.Errorf("manifest: negative size %d", m.Size)
	}
	want, err := numPieces(m.Size, m.PieceSize)
	if err != nil {
		return err
	}
	if len(m.Pieces) != want {
		return fmt.Errorf("manifest: %d piece hashes, want %d for size %d and piece size %d",
			len(m.Pieces), want, m.Size, m.PieceSize)
	}
	return nil
}

// Verify reports whether data is exactly piece i.
func (m Manifest) Verify(i int, data []byte) bool {
	if i < 0 || i >= len(m.Pieces) || len(data) != m.PieceLen(i) {
		return false
	}
	return m.Alg.Sum(data) == m.Pieces[i]
}

// HashReader reads exactly size bytes from r in pieces of pieceSize,
// hashes them with alg and returns the manifest. It returns
// io.ErrUnexpectedEOF if r ends early.
func HashReader(r io.Reader, size int64, pieceSize int, alg Alg) (Manifest, error) {
	if err := checkPieceSize(pieceSize); err != nil {
		return Manifest{}, err
	}
	if !alg.Valid() {
		return Manifest{}, fmt.Errorf("hash: unknown algorithm %d", uint8(alg))
	}
	if size < 0 {
		return Manifest{}, fmt.Errorf("hash: negative size %d", size)
	}
	n, err := numPieces(size, pieceSize)
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{Alg: alg, Size: size, PieceSize: pieceSize, Pieces: make([]Hash, n)}
	buf := make([]byte, min(int64(pieceSize), size))
	for i := range n {
		p := buf[:m.PieceLen(i)]
		if _, err := io.ReadFull(r, p); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return Manifest{}, fmt.Errorf("hash piece %d: %w", i, err)
		}
		m.Pieces[i] = alg.Sum(p)
	}
	return m, nil
}

// Hasher builds a manifest from bytes written to it in order, for callers
// that already stream the data somewhere and should not read it twice.
type Hasher struct {
	alg       Alg
	pieceSize int
	h         hash.Hash
	inPiece   int
	size      int64
	pieces    []Hash
}

// NewHasher returns a Hasher for the given piece size and algorithm.
func NewHasher(pieceSize int, alg Alg) (*Hasher, error) {
	if err := checkPieceSize(pieceSize); err != nil {
		return nil, err
	}
	if !alg.Valid() {
		return nil, fmt.Errorf("hash: unknown algorithm %d", uint8(alg))
	}
	return &Hasher{alg: alg, pieceSize: pieceSize, h: alg.newHash()}, nil
}

// Write hashes p. It fails once the data needs more than MaxPieces pieces.
func (h *Hasher) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if h.inPiece == 0 && len(h.pieces) == MaxPieces {
			return written, fmt.Errorf("hash: more than %d pieces", MaxPieces)
		}
		k := min(len(p), h.pieceSize-h.inPiece)
		h.h.Write(p[:k])
		h.inPiece += k
		h.size += int64(k)
		written += k
		p = p[k:]
		if h.inPiece == h.pieceSize {
			h.flush()
		}
	}
	return written, nil
}

func (h *Hasher) flush() {
	var sum Hash
	h.h.Sum(sum[:0])
	h.pieces = append(h.pieces, sum)
	h.h.Reset()
	h.inPiece = 0
}

// Manifest returns the manifest of everything written so far. The Hasher
// must not be written to afterwards.
func (h *Hasher) Manifest() Manifest {
	if h.inPiece > 0 {
		h.flush()
	}
	return Manifest{Alg: h.alg, Size: h.size, PieceSize: h.pieceSize, Pieces: h.pieces}
}

func checkPieceSize(n int) error {
	if n < MinPieceSize || n > MaxPieceSize {
		return fmt.Errorf("piece size %d out of range [%d, %d]", n, MinPieceSize, MaxPieceSize)
	}
	return nil
}

// numPieces returns ceil(size/pieceSize), refusing more than MaxPieces so a
// hostile size cannot make us allocate a huge hash table.
func numPieces(size int64, pieceSize int) (int, error) {
	n := size / int64(pieceSize)
	if size%int64(pieceSize) != 0 {
		n++
	}
	if n > MaxPieces {
		return 0, fmt.Errorf("size %d needs %d pieces of %d bytes, more than %d", size, n, pieceSize, MaxPieces)
	}
	return int(n), nil
}
