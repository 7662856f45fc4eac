package wire

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// SealOverhead is what sealing adds to a frame's payload: the inner type
// byte and the AES-GCM tag.
const SealOverhead = 1 + 16

// KeySize is the size of a traffic key (AES-256).
const KeySize = 32

// rekeyLabel is the HKDF info of the key that follows a traffic key.
const rekeyLabel = "netlab-peer-v3 rekey"

// RekeyLimits says after how many frames or plaintext bytes under one key
// each direction moves on to the next key. Both sides apply the same
// limits to the same frames, so no message is needed.
type RekeyLimits struct {
	Frames uint64 // frames sealed under one key
	Bytes  uint64 // plaintext bytes (inner type and payload) under one key
}

// DefaultRekey keeps each AES-GCM key far inside its safe use: 2^36 bytes
// (64 GiB) is about 2^32 blocks, an attacker's advantage near 2^-64, and
// 2^32 frames leave the 64-bit nonce counter unexhausted.
var DefaultRekey = RekeyLimits{Frames: 1 << 32, Bytes: 1 << 36}

// Keys are one connection's traffic keys, one per direction.
type Keys struct {
	Send, Receive [KeySize]byte
}

// direction seals or opens the frames of one direction: AES-256-GCM with
// a 96-bit nonce of 32 zero bits and a 64-bit frame counter, which starts
// at 0 under each key, so no nonce repeats under a key.
type direction struct {
	key    [KeySize]byte
	aead   cipher.AEAD
	frames uint64 // under the current key
	bytes  uint64
	epoch  uint64 // keys used before the current one
	limits RekeyLimits
	nonce  [12]byte
}

func newDirection(key [KeySize]byte, lim RekeyLimits) (*direction, error) {
	if lim.Frames == 0 || lim.Bytes == 0 {
		return nil, fmt.Errorf("wire: rekey limits must be positive")
	}
	d := &direction{key: key, limits: lim}
	return d, d.setKey(key)
}

func (d *direction) setKey(key [KeySize]byte) error {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return err
	}
	d.key, d.aead, d.frames, d.bytes = key, aead, 0, 0
	return nil
}

// next returns the nonce for a frame of n plaintext bytes, moving to the
// next key first when this frame would pass a limit.
func (d *direction) next(n int) ([]byte, error) {
	if d.frames > 0 && (d.frames >= d.limits.Frames || d.bytes+uint64(n) > d.limits.Bytes) {
		k, err := NextKey(d.key)
		if err != nil {
			return nil, err
		}
		if err := d.setKey(k); err != nil {
			return nil, err
		}
		d.epoch++
	}
	binary.BigEndian.PutUint64(d.nonce[4:], d.frames)
	d.frames++
	d.bytes += uint64(n)
	return d.nonce[:], nil
}

// NextKey derives the key that follows k: HKDF-Expand-SHA256(k, "netlab-peer-v3 rekey", 32).
// The old key cannot be computed from the new one.
func NextKey(k [KeySize]byte) ([KeySize]byte, error) {
	b, err := hkdf.Expand(sha256.New, k[:], rekeyLabel, KeySize)
	return [KeySize]byte(b), err
}

// seal turns frame, a header followed by the plaintext (inner type and
// payload), into a sealed frame in place: it writes the sealed header
// (the version, TypeSealed, the length of the sealed payload) and
// appends the tag. frame must have SealOverhead-1 bytes of spare capacity.
func (d *direction) seal(frame []byte, version uint8) ([]byte, error) {
	pt := frame[HeaderSize:]
	nonce, err := d.next(len(pt))
	if err != nil {
		return nil, err
	}
	frame[0], frame[1] = version, uint8(TypeSealed)
	binary.BigEndian.PutUint32(frame[2:HeaderSize], uint32(len(pt)+d.aead.Overhead()))
	out := d.aead.Seal(pt[:0], nonce, pt, frame[:HeaderSize])
	return frame[:HeaderSize+len(out)], nil
}

// open authenticates and decrypts a sealed payload in place and returns
// the plaintext (inner type and payload).
func (d *direction) open(header, sealed []byte) ([]byte, error) {
	if len(sealed) < SealOverhead {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the overhead", ErrTampered, len(sealed))
	}
	nonce, err := d.next(len(sealed) - d.aead.Overhead())
	if err != nil {
		return nil, err
	}
	pt, err := d.aead.Open(sealed[:0], nonce, sealed, header)
	if err != nil {
		return nil, fmt.Errorf("%w (frame %d of key %d)", ErrTampered, d.frames-1, d.epoch)
	}
	return pt, nil
}
