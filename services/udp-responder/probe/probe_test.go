package probe_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"testing"

	"github.com/netlab/netlab/services/udp-responder/probe"
)

func encode(tb testing.TB, size int, p probe.Probe) []byte {
	tb.Helper()
	b := make([]byte, size)
	if err := probe.Encode(b, p); err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestEncodeParse_RoundTrip(t *testing.T) {
	tests := []struct {
		name string
		size int
		p    probe.Probe
	}{
		{"zero", probe.HeaderSize, probe.Probe{}},
		{"typical", 64, probe.Probe{RunID: 0x0123456789abcdef, Seq: 41, SentUnix: 1_700_000_000_123_456_789}},
		{"reply", 64, probe.Probe{RunID: 7, Seq: 1, SentUnix: 1, Reply: true}},
		{"max values", 100, probe.Probe{RunID: math.MaxUint64, Seq: math.MaxUint64, SentUnix: math.MaxInt64}},
		{"negative time", 37, probe.Probe{RunID: 1, Seq: 2, SentUnix: math.MinInt64}},
		{"MTU", 1472, probe.Probe{RunID: 9, Seq: 9_999_999, SentUnix: 5}},
		{"largest", probe.MaxSize, probe.Probe{RunID: 3, Seq: 12345, SentUnix: 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := encode(t, tt.size, tt.p)
			if !probe.IsProbe(b) || probe.IsReply(b) != tt.p.Reply {
				t.Errorf("IsProbe %v, IsReply %v", probe.IsProbe(b), probe.IsReply(b))
			}
			got, err := probe.Parse(b)
			if err != nil || got != tt.p {
				t.Errorf("Parse = %+v, %v; want %+v", got, err, tt.p)
			}
			// Encoding is deterministic.
			if again := encode(t, tt.size, tt.p); !bytes.Equal(again, b) {
				t.Error("two encodings differ")
			}
		})
	}
}

// TestEncode_Layout checks the documented layout, the checksum included, with
// an independent implementation of it.
func TestEncode_Layout(t *testing.T) {
	p := probe.Probe{RunID: 0x1122334455667788, Seq: 0x99, SentUnix: 0x0102030405060708, Reply: true}
	b := encode(t, 50, p)
	if string(b[0:4]) != "NLPB" || b[4] != probe.Version || b[5] != probe.FlagReply || b[6] != 0 || b[7] != 0 ||
		binary.BigEndian.Uint64(b[8:]) != p.RunID || binary.BigEndian.Uint64(b[16:]) != p.Seq ||
		binary.BigEndian.Uint64(b[24:]) != uint64(p.SentUnix) {
		t.Errorf("header % x", b[:32])
	}
	if got, want := binary.BigEndian.Uint32(b[32:]), checksum(b); got != want {
		t.Errorf("checksum %08x, want %08x", got, want)
	}
}

// checksum is the documented CRC-32C: the whole probe with the flags byte
// and the checksum field taken as zero.
func checksum(b []byte) uint32 {
	c := bytes.Clone(b)
	c[5] = 0
	clear(c[32:36])
	return crc32.Checksum(c, crc32.MakeTable(crc32.Castagnoli))
}

func TestEncode_Sizes(t *testing.T) {
	tests := []struct {
		size int
		want error
	}{
		{0, probe.ErrSizeTooLow},
		{probe.HeaderSize - 1, probe.ErrSizeTooLow},
		{probe.HeaderSize, nil},
		{probe.MaxSize, nil},
		{probe.MaxSize + 1, probe.ErrTooLarge},
	}
	for _, tt := range tests {
		if err := probe.Encode(make([]byte, tt.size), probe.Probe{}); !errors.Is(err, tt.want) {
			t.Errorf("Encode into %d bytes: %v, want %v", tt.size, err, tt.want)
		}
	}
}

func TestMarkReply_KeepsChecksum(t *testing.T) {
	for _, size := range []int{probe.HeaderSize, 64, 1500} {
		want := probe.Probe{RunID: 5, Seq: uint64(size), SentUnix: 77}
		b := encode(t, size, want)
		probe.MarkReply(b)
		if !probe.IsReply(b) {
			t.Fatalf("size %d: not a reply after MarkReply", size)
		}
		want.Reply = true
		if got, err := probe.Parse(b); err != nil || got != want {
			t.Errorf("size %d: Parse after MarkReply = %+v, %v; want %+v", size, got, err, want)
		}
		// Marking twice changes nothing; the reply is the request's size.
		c := bytes.Clone(b)
		probe.MarkReply(c)
		if !bytes.Equal(b, c) {
			t.Errorf("size %d: MarkReply is not idempotent", size)
		}
		if req := encode(t, size, probe.Probe{RunID: 5, Seq: uint64(size), SentUnix: 77, Reply: true}); !bytes.Equal(req, b) {
			t.Errorf("size %d: marked request differs from an encoded reply", size)
		}
	}
}

// TestParse_Damage flips one byte at a time in a probe and checks how Parse
// reports it.
func TestParse_Damage(t *testing.T) {
	orig := encode(t, 64, probe.Probe{RunID: 0xfeed, Seq: 12, SentUnix: 1234567})
	tests := []struct {
		name string
		at   int
		xor  byte
		want error
	}{
		{"magic", 0, 0x01, probe.ErrNotProbe},
		{"magic last", 3, 0x80, probe.ErrNotProbe},
		{"version", 4, 0x02, probe.ErrVersion},
		{"reply flag", 5, probe.FlagReply, nil}, // not covered by the checksum, by design
		{"other flag", 5, 0x02, probe.ErrReserved},
		{"whole last padding byte", 63, 0xff, probe.ErrChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Clone(orig)
			b[tt.at] ^= tt.xor
			if _, err := probe.Parse(b); !errors.Is(err, tt.want) {
				t.Errorf("Parse: %v, want %v", err, tt.want)
			}
		})
	}
	// Every single-bit flip after the magic, version and flags bytes is
	// caught: in the reserved bytes (6, 7) as reserved bits, in the run id,
	// sequence, time, checksum and padding (8 on) by the checksum.
	for i := 6; i < len(orig); i++ {
		want := probe.ErrChecksum
		if i < 8 {
			want = probe.ErrReserved
		}
		for bit := range 8 {
			b := bytes.Clone(orig)
			b[i] ^= 1 << bit
			if _, err := probe.Parse(b); !errors.Is(err, want) {
				t.Fatalf("flip of bit %d in byte %d: Parse = %v, want %v", bit, i, err, want)
			}
		}
	}
}

func TestParse_ChecksumErrorKeepsHeader(t *testing.T) {
	b := encode(t, 64, probe.Probe{RunID: 77, Seq: 5, SentUnix: 9})
	b[63] ^= 1
	p, err := probe.Parse(b)
	if !errors.Is(err, probe.ErrChecksum) || p.RunID != 77 || p.Seq != 5 {
		t.Errorf("Parse = %+v, %v", p, err)
	}
}

func TestParse_Swapped(t *testing.T) {
	// A header with another probe's padding fails the checksum.
	a := encode(t, 64, probe.Probe{RunID: 1, Seq: 1})
	b := encode(t, 64, probe.Probe{RunID: 1, Seq: 2})
	copy(a[probe.HeaderSize:], b[probe.HeaderSize:])
	if _, err := probe.Parse(a); !errors.Is(err, probe.ErrChecksum) {
		t.Errorf("Parse: %v, want ErrChecksum", err)
	}
}

func TestParse_NotProbes(t *testing.T) {
	valid := encode(t, 64, probe.Probe{RunID: 1})
	huge := make([]byte, probe.MaxSize+1)
	copy(huge, valid)
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"nil", nil, probe.ErrNotProbe},
		{"greeting", []byte("Hello, client!"), probe.ErrNotProbe},
		{"exit", []byte("exit s3cr3t-token"), probe.ErrNotProbe},
		{"header cut short", valid[:probe.HeaderSize-1], probe.ErrNotProbe},
		{"padding cut short", valid[:50], probe.ErrChecksum},
		{"long text", bytes.Repeat([]byte("x"), 100), probe.ErrNotProbe},
		{"too large", huge, probe.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := probe.Parse(tt.b); !errors.Is(err, tt.want) {
				t.Errorf("Parse: %v, want %v", err, tt.want)
			}
			if probe.IsReply(tt.b) && tt.want == probe.ErrNotProbe {
				t.Error("IsReply of a non-probe")
			}
		})
	}
}

// TestParse_AcceptsAnyPadding documents a limit of Parse: it checks the
// checksum over the padding but not that the padding is the one derived from
// the sequence number. A probe built with other padding and a recomputed
// checksum parses, and re-encoding it does not give the same bytes. Only a
// deliberate forgery does this (the checksum catches damage, and a forger
// could as well write the derived padding), so Parse stays one pass.
func TestParse_AcceptsAnyPadding(t *testing.T) {
	want := probe.Probe{RunID: 1, Seq: 2, SentUnix: 3}
	b := encode(t, 64, want)
	for i := probe.HeaderSize; i < len(b); i++ {
		b[i] = 'x'
	}
	binary.BigEndian.PutUint32(b[32:], checksum(b))
	got, err := probe.Parse(b)
	if err != nil || got != want {
		t.Fatalf("Parse = %+v, %v", got, err)
	}
	if bytes.Equal(encode(t, len(b), got), b) {
		t.Error("re-encoding reproduced foreign padding")
	}
}

const maxFuzzLen = 256

// FuzzParse: Parse never panics, and a probe of either version that parses
// re-encodes into the same bytes whenever its padding is the one derived
// from its sequence number — which is always the case unless the checksum
// was forged (see TestParse_AcceptsAnyPadding); then at least the header
// comes back.
func FuzzParse(f *testing.F) {
	for _, size := range []int{probe.HeaderSize, 37, 64, 200} {
		b := make([]byte, size)
		_ = probe.Encode(b, probe.Probe{RunID: uint64(size), Seq: uint64(size) * 3, SentUnix: int64(size) << 40})
		f.Add(b)
		r := bytes.Clone(b)
		probe.MarkReply(r)
		f.Add(r)
		d := bytes.Clone(b)
		d[len(d)-1] ^= 1
		f.Add(d)
	}
	for _, size := range []int{probe.HeaderSizeV2, 100} {
		b := make([]byte, size)
		_ = probe.Encode(b, probe.Probe{V2: true, RunID: 1, Seq: uint64(size)})
		f.Add(b)
		_ = probe.Encode(b, probe.Probe{V2: true, Reply: true, Query: true, RunID: 1, Responder: probe.Responder{Filled: true, Count: 3, RecvUnix: 4, SendUnix: 5}})
		f.Add(bytes.Clone(b))
	}
	f.Add([]byte("Hello, client!"))
	f.Add([]byte("NLPB"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxFuzzLen {
			// Longer inputs add no paths (the unit tests cover the size
			// limits), and the fuzzer's minimization of a new input costs
			// up to len² runs: a few KiB stalls it for minutes.
			return
		}
		in := bytes.Clone(b)
		p, err := probe.Parse(b)
		if !bytes.Equal(in, b) {
			t.Fatal("Parse modified its input")
		}
		if probe.IsReply(b) && !probe.IsProbe(b) {
			t.Fatal("IsReply without IsProbe")
		}
		if err != nil {
			if probe.IsProbe(b) == errors.Is(err, probe.ErrNotProbe) {
				t.Fatalf("IsProbe %v but Parse error %v", probe.IsProbe(b), err)
			}
			return
		}
		if !probe.IsProbe(b) || p.Reply != probe.IsReply(b) {
			t.Fatalf("parsed %+v but IsProbe %v IsReply %v", p, probe.IsProbe(b), probe.IsReply(b))
		}
		out := make([]byte, len(b))
		if err := probe.Encode(out, p); err != nil {
			t.Fatalf("re-encoding %+v: %v", p, err)
		}
		if !bytes.Equal(out[:32], b[:32]) {
			t.Fatalf("header differs after re-encoding:\n in % x\nout % x", b[:32], out[:32])
		}
		pad := probe.HeaderSize
		if p.V2 {
			pad = probe.HeaderSizeV2
		}
		if bytes.Equal(out[pad:], b[pad:]) && !bytes.Equal(out, b) {
			t.Fatalf("same padding but different bytes:\n in % x\nout % x", b, out)
		}
		if q, err := probe.Parse(out); err != nil || q != p {
			t.Fatalf("re-encoded probe parses as %+v, %v; want %+v", q, err, p)
		}
	})
}

func TestProbe_EncodeAndParseAllocateNothing(t *testing.T) {
	buf := make([]byte, 64)
	allocs := testing.AllocsPerRun(1000, func() {
		if err := probe.Encode(buf, probe.Probe{RunID: 1, Seq: 7}); err != nil {
			t.Fatal(err)
		}
		if _, err := probe.Parse(buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Encode+Parse: %v allocations per probe, want 0", allocs)
	}
}
