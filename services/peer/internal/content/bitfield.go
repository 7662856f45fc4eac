package content

import (
	"fmt"
	"math/bits"
)

// Bitfield records which pieces are held. Bit i is byte i/8, mask 0x80>>(i%8)
// (most significant bit first, as in BitTorrent), so it can go on the wire as is.
type Bitfield []byte

// NewBitfield returns an empty bitfield for n pieces.
func NewBitfield(n int) Bitfield { return make(Bitfield, (n+7)/8) }

// Has reports whether bit i is set; false when i is out of range.
func (b Bitfield) Has(i int) bool {
	if i < 0 || i/8 >= len(b) {
		return false
	}
	return b[i/8]&(0x80>>(i%8)) != 0
}

// Set sets bit i. Out-of-range indexes are ignored, like Has, so a bogus
// index from a peer cannot crash the node.
func (b Bitfield) Set(i int) {
	if i < 0 || i/8 >= len(b) {
		return
	}
	b[i/8] |= 0x80 >> (i % 8)
}

// Clear clears bit i. Out-of-range indexes are ignored.
func (b Bitfield) Clear(i int) {
	if i < 0 || i/8 >= len(b) {
		return
	}
	b[i/8] &^= 0x80 >> (i % 8)
}

// Count returns the number of set bits.
func (b Bitfield) Count() int {
	n := 0
	for _, x := range b {
		n += bits.OnesCount8(x)
	}
	return n
}

// Clone returns a copy that shares no memory with b.
func (b Bitfield) Clone() Bitfield {
	if b == nil {
		return nil
	}
	return append(Bitfield(make([]byte, 0, len(b))), b...)
}

// BitfieldFrom checks that bits is a bitfield for n pieces (right length,
// spare bits after n zero) and returns a copy. Peers send bitfields, so the
// spare bits must be checked or Count would overstate what they hold.
func BitfieldFrom(bits []byte, n int) (Bitfield, error) {
	if n < 0 {
		return nil, fmt.Errorf("bitfield: negative piece count %d", n)
	}
	if want := (n + 7) / 8; len(bits) != want {
		return nil, fmt.Errorf("bitfield: %d bytes, want %d for %d pieces", len(bits), want, n)
	}
	if spare := n % 8; spare != 0 {
		if bits[len(bits)-1]&(0xff>>spare) != 0 {
			return nil, fmt.Errorf("bitfield: spare bits after piece %d are set", n)
		}
	}
	return Bitfield(bits).Clone(), nil
}
