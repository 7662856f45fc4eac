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

func filled(count uint64) probe.Responder {
	return probe.Responder{Filled: true, KernelRecv: true, Count: count,
		RecvUnix: 1_700_000_000_000_000_100, SendUnix: 1_700_000_000_000_000_900}
}

func TestEncodeParseV2_RoundTrip(t *testing.T) {
	tests := []struct {
		name string
		size int
		p    probe.Probe
	}{
		{"request", probe.HeaderSizeV2, probe.Probe{V2: true, RunID: 1, Seq: 2, SentUnix: 3}},
		{"query", probe.HeaderSizeV2, probe.Probe{V2: true, Query: true, RunID: 1, Seq: 1 << 62}},
		{"unfilled reply (a v1 responder)", 100, probe.Probe{V2: true, Reply: true, RunID: 5, Seq: 6}},
		{"filled reply", 100, probe.Probe{V2: true, Reply: true, RunID: 5, Seq: 6, SentUnix: 7, Responder: filled(7)}},
		{"not counted", 80, probe.Probe{V2: true, Reply: true, RunID: 5, Responder: probe.Responder{Filled: true, NotCounted: true, RecvUnix: 1, SendUnix: 2}}},
		{"query answer, unknown run", probe.HeaderSizeV2, probe.Probe{V2: true, Reply: true, Query: true, RunID: 9,
			Responder: probe.Responder{Filled: true, UnknownRun: true, RecvUnix: -1, SendUnix: math.MaxInt64}}},
		{"max values", 1500, probe.Probe{V2: true, Reply: true, RunID: math.MaxUint64, Seq: math.MaxUint64, SentUnix: math.MinInt64,
			Responder: probe.Responder{Filled: true, Count: math.MaxUint64, RecvUnix: math.MinInt64, SendUnix: math.MaxInt64}}},
		{"largest", probe.MaxSize, probe.Probe{V2: true, Reply: true, RunID: 3, Seq: 4, Responder: filled(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := encode(t, tt.size, tt.p)
			if b[4] != probe.VersionV2 || probe.IsReply(b) != tt.p.Reply {
				t.Errorf("version %d, IsReply %v", b[4], probe.IsReply(b))
			}
			got, err := probe.Parse(b)
			if err != nil || got != tt.p {
				t.Errorf("Parse = %+v, %v; want %+v", got, err, tt.p)
			}
		})
	}
}

// The documented v2 layout, checked with an independent implementation of
// both checksums.
func TestEncodeV2_Layout(t *testing.T) {
	r := probe.Responder{Filled: true, KernelRecv: true, Count: 0x0A0B, RecvUnix: 0x1122, SendUnix: 0x3344}
	p := probe.Probe{V2: true, Reply: true, Query: true, RunID: 0x55, Seq: 0x66, SentUnix: 0x77, Responder: r}
	b := encode(t, 90, p)
	if string(b[0:4]) != "NLPB" || b[4] != 2 || b[5] != probe.FlagReply|probe.FlagQuery || b[6] != 0 || b[7] != 0 ||
		binary.BigEndian.Uint64(b[8:]) != 0x55 || binary.BigEndian.Uint64(b[16:]) != 0x66 || binary.BigEndian.Uint64(b[24:]) != 0x77 {
		t.Errorf("header % x", b[:32])
	}
	c := bytes.Clone(b)
	c[5] = 0
	clear(c[32:68])
	if got, want := binary.BigEndian.Uint32(b[32:]), crc32.Checksum(c, crc32.MakeTable(crc32.Castagnoli)); got != want {
		t.Errorf("checksum %08x, want %08x", got, want)
	}
	if b[36] != 0x03 || b[37] != 0 || b[38] != 0 || b[39] != 0 || binary.BigEndian.Uint64(b[40:]) != 0x0A0B ||
		binary.BigEndian.Uint64(b[48:]) != 0x1122 || binary.BigEndian.Uint64(b[56:]) != 0x3344 {
		t.Errorf("section % x", b[36:68])
	}
	if got, want := binary.BigEndian.Uint32(b[64:]), crc32.Checksum(b[36:64], crc32.MakeTable(crc32.Castagnoli)); got != want {
		t.Errorf("section checksum %08x, want %08x", got, want)
	}
}

// What a v2 responder does to a request: FillReply then StampSend give the
// same bytes as encoding the reply, and the request's checksum survives.
func TestFillReply_MakesTheReply(t *testing.T) {
	req := probe.Probe{V2: true, RunID: 11, Seq: 12, SentUnix: 13}
	b := encode(t, 200, req)
	r := filled(3)
	probe.FillReply(b, r)
	probe.StampSend(b, r.SendUnix)
	want := req
	want.Reply, want.Responder = true, r
	if got, err := probe.Parse(b); err != nil || got != want {
		t.Fatalf("Parse = %+v, %v; want %+v", got, err, want)
	}
	if enc := encode(t, 200, want); !bytes.Equal(enc, b) {
		t.Error("filled request differs from an encoded reply")
	}
}

func TestParseV2_Damage(t *testing.T) {
	orig := encode(t, 100, probe.Probe{V2: true, Reply: true, RunID: 0xfeed, Seq: 12, SentUnix: 1234567, Responder: filled(9)})
	// Every single-bit flip after the magic and version is caught: flags
	// and reserved bits as reserved (the reply and query flags are not
	// covered: flipping them makes another valid probe), section flags,
	// section and padding by the checksums.
	for i := 5; i < len(orig); i++ {
		for bit := range 8 {
			b := bytes.Clone(orig)
			b[i] ^= 1 << bit
			_, err := probe.Parse(b)
			switch {
			case i == 5 && (bit == 0 || bit == 1):
				if err != nil {
					t.Errorf("flip of flag bit %d: %v", bit, err)
				}
			case i < 8:
				if !errors.Is(err, probe.ErrReserved) {
					t.Errorf("flip of bit %d in byte %d: %v, want ErrReserved", bit, i, err)
				}
			default:
				if !errors.Is(err, probe.ErrChecksum) {
					t.Fatalf("flip of bit %d in byte %d: %v, want ErrChecksum", bit, i, err)
				}
			}
		}
	}
	// A request's section is zeros: anything there is damage.
	req := encode(t, probe.HeaderSizeV2, probe.Probe{V2: true, RunID: 1})
	req[50] = 1
	if _, err := probe.Parse(req); !errors.Is(err, probe.ErrChecksum) {
		t.Errorf("unfilled section with a stray byte: %v, want ErrChecksum", err)
	}
	// An unknown section flag with a valid section checksum is reserved.
	b := bytes.Clone(orig)
	b[36] |= 0x80
	binary.BigEndian.PutUint32(b[64:], crc32.Checksum(b[36:64], crc32.MakeTable(crc32.Castagnoli)))
	if _, err := probe.Parse(b); !errors.Is(err, probe.ErrReserved) {
		t.Errorf("unknown section flag: %v, want ErrReserved", err)
	}
}

func TestEncodeParseV2_Sizes(t *testing.T) {
	if err := probe.Encode(make([]byte, probe.HeaderSizeV2-1), probe.Probe{V2: true}); !errors.Is(err, probe.ErrSizeTooLow) {
		t.Errorf("Encode v2 into %d bytes: %v, want ErrSizeTooLow", probe.HeaderSizeV2-1, err)
	}
	b := encode(t, probe.HeaderSizeV2, probe.Probe{V2: true})
	if _, err := probe.Parse(b[:probe.HeaderSizeV2-1]); !errors.Is(err, probe.ErrSizeTooLow) {
		t.Errorf("Parse of a v2 probe cut short: %v, want ErrSizeTooLow", err)
	}
	// The query flag means nothing in version 1: a reserved bit there.
	v1 := encode(t, 64, probe.Probe{RunID: 1})
	v1[5] |= probe.FlagQuery
	if _, err := probe.Parse(v1); !errors.Is(err, probe.ErrReserved) {
		t.Errorf("v1 probe with the query flag: %v, want ErrReserved", err)
	}
}

func TestProbeV2_FillAndParseAllocateNothing(t *testing.T) {
	buf := make([]byte, probe.HeaderSizeV2)
	allocs := testing.AllocsPerRun(1000, func() {
		if err := probe.Encode(buf, probe.Probe{V2: true, RunID: 1, Seq: 7}); err != nil {
			t.Fatal(err)
		}
		probe.FillReply(buf, probe.Responder{Filled: true, Count: 1})
		probe.StampSend(buf, 5)
		if _, err := probe.Parse(buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("v2 Encode+Fill+Parse: %v allocations per probe, want 0", allocs)
	}
}
