// Package content: pieces, piece hashes and content-addressed file ids.
//
// A file is cut into pieces of a fixed size (the last one may be shorter).
// Each piece is identified by its SHA-256, and the file by the SHA-256 of its
// size, piece size and piece hashes, so two nodes holding the same bytes with
// the same piece size agree on the id without talking to each other.
package content

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
)

const (
	DefaultPieceSize = 1 << 20
	MinPieceSize     = 16 << 10
	MaxPieceSize     = 4 << 20
	MaxPieces        = 1 << 20 // bounds a manifest: MaxPieces*32 bytes of hashes
)

// idDomain separates file ids from any other SHA-256 the protocol computes.
const idDomain = "netlab-peer-file-v1\x00"

// Hash is the SHA-256 of one piece.
type Hash = [32]byte

// ID identifies a file by its content and piece size.
type ID [32]byte

// String returns the id as 64 lowercase hex characters.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Short returns the first 12 hex characters, enough to tell files apart in
// logs and file names.
func (id ID) Short() string { return id.String()[:12] }

// ParseID parses 64 hex characters (either case).
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 2*len(id) {
		return ID{}, fmt.Errorf("parse id: want %d hex characters, got %d", 2*len(id), len(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return ID{}, fmt.Errorf("parse id: %w", err)
	}
	return id, nil
}

// Manifest describes a file: its size, piece size and piece hashes.
type Manifest struct {
	Size      int64
	PieceSize int
	Pieces    []Hash
}

// ID = SHA-256( "netlab-peer-file-v1\x00" || uint64 big-endian Size ||
// uint32 big-endian PieceSize || Pieces[0] || Pieces[1] ... ).
func (m Manifest) ID() ID {
	h := sha256.New()
	var hdr [len(idDomain) + 8 + 4]byte
	n := copy(hdr[:], idDomain)
	binary.BigEndian.PutUint64(hdr[n:], uint64(m.Size))
	binary.BigEndian.PutUint32(hdr[n+8:], uint32(m.PieceSize))
	h.Write(hdr[:])
	for i := range m.Pieces {
		h.Write(m.Pieces[i][:])
	}
	var id ID
	h.Sum(id[:0])
	return id
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
	return sha256.Sum256(data) == m.Pieces[i]
}

// HashPiece returns the hash of one piece.
func HashPiece(data []byte) Hash { return sha256.Sum256(data) }

// HashReader reads exactly size bytes from r in pieces of pieceSize and
// returns the manifest. It returns io.ErrUnexpectedEOF if r ends early.
func HashReader(r io.Reader, size int64, pieceSize int) (Manifest, error) {
	if err := checkPieceSize(pieceSize); err != nil {
		return Manifest{}, err
	}
	if size < 0 {
		return Manifest{}, fmt.Errorf("hash: negative size %d", size)
	}
	n, err := numPieces(size, pieceSize)
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{Size: size, PieceSize: pieceSize, Pieces: make([]Hash, n)}
	buf := make([]byte, min(int64(pieceSize), size))
	for i := range n {
		p := buf[:m.PieceLen(i)]
		if _, err := io.ReadFull(r, p); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return Manifest{}, fmt.Errorf("hash piece %d: %w", i, err)
		}
		m.Pieces[i] = sha256.Sum256(p)
	}
	return m, nil
}

// Hasher builds a manifest from bytes written to it in order, for callers
// that already stream the data somewhere and should not read it twice.
type Hasher struct {
	pieceSize int
	h         hash.Hash
	inPiece   int
	size      int64
	pieces    []Hash
}

// NewHasher returns a Hasher for the given piece size.
func NewHasher(pieceSize int) (*Hasher, error) {
	if err := checkPieceSize(pieceSize); err != nil {
		return nil, err
	}
	return &Hasher{pieceSize: pieceSize, h: sha256.New()}, nil
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
	return Manifest{Size: h.size, PieceSize: h.pieceSize, Pieces: h.pieces}
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
