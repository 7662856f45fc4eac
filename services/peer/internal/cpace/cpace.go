// Package cpace is the CPace password-authenticated key exchange of
// draft-irtf-cfrg-cpace-21, cipher suite CPACE-RISTR255-SHA512, in the
// initiator-responder setting: two parties who share a password (PRS)
// each send one group element and derive the same intermediate session
// key (ISK) only if their passwords, channel identifier (CI) and session
// id (sid) agree. An eavesdropper learns nothing to test a password
// against; an active attacker tests one password per run.
//
// The group is github.com/gtank/ristretto255 (RFC 9496); this package
// adds only the draft's string encodings and hashing, checked against the
// draft's test vectors.
package cpace

import (
	"crypto/sha512"
	"errors"
	"io"

	"github.com/gtank/ristretto255"
)

// DSI is the suite's domain separation identifier.
const DSI = "CPaceRistretto255"

// hashBlock is SHA-512's input block size, H.s_in_bytes in the draft.
const hashBlock = 128

// ElementSize is the size of an encoded group element (a share).
const ElementSize = 32

// ISKSize is the size of the intermediate session key (SHA-512).
const ISKSize = 64

// Errors.
var (
	ErrInvalidShare = errors.New("cpace: peer share is not a valid ristretto255 element")
	ErrIdentity     = errors.New("cpace: shared point is the identity")
	ErrScalar       = errors.New("cpace: scalar is not canonical")
)

// prependLen appends data to b after its length as LEB128.
func prependLen(b, data []byte) []byte {
	n := len(data)
	for n >= 0x80 {
		b = append(b, byte(n&0x7f|0x80))
		n >>= 7
	}
	b = append(b, byte(n))
	return append(b, data...)
}

// LVCat is lv_cat: each argument prefixed with its length as LEB128.
func LVCat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = prependLen(b, p)
	}
	return b
}

// GeneratorString is generator_string(DSI, PRS, CI, sid, 128): DSI and PRS
// padded with zeros to fill a hash block, then CI and sid.
func GeneratorString(prs, ci, sid []byte) []byte {
	zpad := max(0, hashBlock-1-len(prependLen(nil, prs))-len(prependLen(nil, []byte(DSI))))
	return LVCat([]byte(DSI), prs, make([]byte, zpad), ci, sid)
}

// Generator is calculate_generator: the element from the one-way map of
// SHA-512 of the generator string.
func Generator(prs, ci, sid []byte) *ristretto255.Element {
	h := sha512.Sum512(GeneratorString(prs, ci, sid))
	return ristretto255.NewElement().FromUniformBytes(h[:])
}

// RandomScalar is sample_scalar: 64 bytes from r reduced modulo the
// group order, encoded little-endian.
func RandomScalar(r io.Reader) ([32]byte, error) {
	var wide [64]byte
	if _, err := io.ReadFull(r, wide[:]); err != nil {
		return [32]byte{}, err
	}
	var out [32]byte
	ristretto255.NewScalar().FromUniformBytes(wide[:]).Encode(out[:0])
	return out, nil
}

// Party is one side of a run after it computed its share.
type Party struct {
	y     *ristretto255.Scalar
	share [ElementSize]byte
	sid   []byte
}

// Start computes the share y·g for the scalar y (from RandomScalar) and
// the generator of prs, ci and sid.
func Start(y [32]byte, prs, ci, sid []byte) (*Party, error) {
	s := ristretto255.NewScalar()
	if err := s.Decode(y[:]); err != nil {
		return nil, ErrScalar
	}
	p := &Party{y: s, sid: append([]byte(nil), sid...)}
	ristretto255.NewElement().ScalarMult(s, Generator(prs, ci, sid)).Encode(p.share[:0])
	return p, nil
}

// Share is the element this party sends.
func (p *Party) Share() [ElementSize]byte { return p.share }

// Finish computes K = y·peer (refusing an invalid element or the
// identity) and the ISK, SHA-512(lv_cat(DSI||"_ISK", sid, K) ||
// transcript_ir(Ya, ADa, Yb, ADb)) with empty associated data; ya is the
// initiator's share, yb the responder's.
func (p *Party) Finish(peer [ElementSize]byte, initiator bool) ([ISKSize]byte, error) {
	e := ristretto255.NewElement()
	if err := e.Decode(peer[:]); err != nil {
		return [ISKSize]byte{}, ErrInvalidShare
	}
	k := ristretto255.NewElement().ScalarMult(p.y, e)
	if k.Equal(ristretto255.NewElement().Zero()) == 1 {
		return [ISKSize]byte{}, ErrIdentity
	}
	var kb [ElementSize]byte
	k.Encode(kb[:0])
	ya, yb := p.share, peer
	if !initiator {
		ya, yb = peer, p.share
	}
	return ISKWithAD(p.sid, kb, ya, nil, yb, nil), nil
}

// ISKWithAD hashes the shared point k and transcript_ir(Ya, ADa, Yb, ADb).
func ISKWithAD(sid []byte, k, ya [ElementSize]byte, ada []byte, yb [ElementSize]byte, adb []byte) [ISKSize]byte {
	b := LVCat([]byte(DSI+"_ISK"), sid, k[:])
	b = append(b, LVCat(ya[:], ada, yb[:], adb)...)
	return sha512.Sum512(b)
}
