package content_test

import (
	"bytes"
	"testing"

	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/platform/tabletest"
)

func TestBitfield_Ops(t *testing.T) {
	b := content.NewBitfield(10)
	if len(b) != 2 || b.Count() != 0 {
		t.Fatalf("NewBitfield(10) = %x", []byte(b))
	}
	for _, i := range []int{0, 7, 8, 9} {
		b.Set(i)
	}
	// MSB first: bits 0 and 7 are 0x80|0x01, bits 8 and 9 are 0xc0.
	if want := []byte{0x81, 0xc0}; !bytes.Equal(b, want) {
		t.Fatalf("bits = %x, want %x", []byte(b), want)
	}
	tests := []struct {
		i    int
		want bool
	}{
		{0, true}, {1, false}, {7, true}, {8, true}, {9, true},
		{10, false}, {16, false}, {-1, false}, {1 << 30, false},
	}
	for _, tt := range tests {
		if got := b.Has(tt.i); got != tt.want {
			t.Errorf("Has(%d) = %v, want %v", tt.i, got, tt.want)
		}
	}
	if b.Count() != 4 {
		t.Fatalf("Count = %d, want 4", b.Count())
	}

	c := b.Clone()
	b.Clear(7)
	b.Set(-1)  // ignored
	b.Set(100) // ignored
	b.Clear(100)
	if b.Has(7) || b.Count() != 3 {
		t.Fatalf("after Clear(7): %x", []byte(b))
	}
	if !c.Has(7) || c.Count() != 4 {
		t.Fatal("Clone shares memory with the original")
	}
}

func TestBitfieldFrom(t *testing.T) {
	tests := []struct {
		name    string
		bits    []byte
		n       int
		wantErr string
	}{
		{name: "empty", bits: nil, n: 0},
		{name: "full byte", bits: []byte{0xff}, n: 8},
		{name: "partial byte", bits: []byte{0xff, 0xc0}, n: 10},
		{name: "spare bit set", bits: []byte{0xff, 0xe0}, n: 10, wantErr: "spare bits"},
		{name: "last spare bit set", bits: []byte{0x01}, n: 7, wantErr: "spare bits"},
		{name: "too short", bits: []byte{0xff}, n: 9, wantErr: "want 2"},
		{name: "too long", bits: []byte{0xff, 0x00}, n: 8, wantErr: "want 1"},
		{name: "negative", bits: nil, n: -1, wantErr: "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := content.BitfieldFrom(tt.bits, tt.n)
			if tabletest.Err(t, "BitfieldFrom", err, tt.wantErr) {
				return
			}
			if !bytes.Equal(b, tt.bits) {
				t.Fatalf("bits = %x, want %x", []byte(b), tt.bits)
			}
			if len(tt.bits) > 0 {
				before := b.Count()
				tt.bits[0] ^= 0xff
				if b.Count() != before {
					t.Fatal("result aliases the input")
				}
			}
		})
	}
}
