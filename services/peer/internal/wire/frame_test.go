package wire_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/netlab/netlab/services/peer/internal/wire"
)

func header(version uint8, typ wire.Type, n uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{version, uint8(typ)}, n)
}

func TestReadFrame_Errors(t *testing.T) {
	tests := []struct {
		name   string
		stream []byte
		want   error
	}{
		{"empty stream", nil, io.EOF},
		{"partial header", []byte{wire.Version1, 3, 0}, io.ErrUnexpectedEOF},
		{"version 0", header(0, wire.TypeGetCatalog, 0), wire.ErrVersion},
		{"version 2", header(2, wire.TypeGetCatalog, 0), wire.ErrVersion},
		{"length over max", header(wire.Version1, wire.TypePiece, wire.MaxPayload+1), wire.ErrFrameTooLarge},
		{"length 4 GiB", header(wire.Version1, wire.TypePiece, 1<<32-1), wire.ErrFrameTooLarge},
		{"unknown type 0", header(wire.Version1, 0, 0), wire.ErrUnknownType},
		{"unknown type 15", header(wire.Version1, 15, 0), wire.ErrUnknownType},
		{"payload cut short", append(header(wire.Version1, wire.TypeAuth, 32), make([]byte, 31)...), io.ErrUnexpectedEOF},
		{"payload missing", header(wire.Version1, wire.TypeAuth, 32), io.ErrUnexpectedEOF},
		{"announce in version 1", header(wire.Version1, wire.TypeAnnounce, 0), wire.ErrUnknownType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, p, err := wire.ReadFrame(bytes.NewReader(tc.stream), nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if p != nil {
				t.Fatalf("payload returned with error: %d bytes", len(p))
			}
		})
	}
}

func TestReadFrameVersion(t *testing.T) {
	tests := []struct {
		name   string
		stream []byte
		want   uint8
		err    error
	}{
		{"announce in version 2", header(wire.Version2, wire.TypeAnnounce, 0), wire.Version2, nil},
		{"version 1 on a version-2 stream", header(wire.Version1, wire.TypeGetCatalog, 0), wire.Version2, wire.ErrVersion},
		{"type 16 in version 2", header(wire.Version2, 16, 0), wire.Version2, wire.ErrUnknownType},
		{"get_catalog_page in version 3", header(wire.Version3, wire.TypeGetCatalogPage, 0), wire.Version3, nil},
		{"type 20 in version 3", header(wire.Version3, 20, 0), wire.Version3, wire.ErrUnknownType},
		{"any: version 1", header(wire.Version1, wire.TypeGetCatalog, 0), wire.AnyVersion, nil},
		{"any: a later version, read as the latest", header(7, wire.TypeAnnounce, 0), wire.AnyVersion, nil},
		{"any: version 0", header(0, wire.TypeGetCatalog, 0), wire.AnyVersion, wire.ErrVersion},
		{"any: announce in version 1", header(wire.Version1, wire.TypeAnnounce, 0), wire.AnyVersion, wire.ErrUnknownType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			typ, v, _, err := wire.ReadFrameVersion(bytes.NewReader(tc.stream), nil, tc.want)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if v != tc.stream[0] || (err == nil && typ != wire.Type(tc.stream[1])) {
				t.Fatalf("read type %v version %d from header % x", typ, v, tc.stream)
			}
		})
	}
}

// headerOnly yields one frame header and then fails the test if read again.
type headerOnly struct {
	t *testing.T
	r *bytes.Reader
}

func (h *headerOnly) Read(p []byte) (int, error) {
	if h.r.Len() == 0 {
		h.t.Error("payload of an oversized frame was read")
		return 0, io.EOF
	}
	return h.r.Read(p)
}

func TestReadFrame_TooLargeReadsAndAllocatesNothing(t *testing.T) {
	h := header(wire.Version1, wire.TypePiece, wire.MaxPayload+1)
	run := func() {
		_, _, err := wire.ReadFrame(&headerOnly{t: t, r: bytes.NewReader(h)}, nil)
		if !errors.Is(err, wire.ErrFrameTooLarge) {
			t.Fatalf("err = %v", err)
		}
	}
	if allocs := testing.AllocsPerRun(100, run); allocs > 10 {
		t.Errorf("%v allocations per oversized frame", allocs)
	}
	if b := bytesAllocated(100, run); b > 2048 {
		t.Errorf("%d bytes allocated per oversized frame", b)
	}
}

// TestReadFrame_StalledPayloadGrowsSlowly: a header announcing a big payload
// costs memory only for bytes that actually arrive.
func TestReadFrame_StalledPayloadGrowsSlowly(t *testing.T) {
	stream := append(header(wire.Version1, wire.TypePiece, wire.MaxPayload), make([]byte, 100)...)
	run := func() {
		_, _, err := wire.ReadFrame(bytes.NewReader(stream), nil)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("err = %v", err)
		}
	}
	if b := bytesAllocated(20, run); b > 80<<10 {
		t.Errorf("%d bytes allocated for a 100-byte partial payload", b)
	}
}

func bytesAllocated(runs int, f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(runs)
}

func TestReadFrame_Stream(t *testing.T) {
	var stream []byte
	var want []wire.Message
	for _, s := range samples() {
		frame, err := wire.AppendFrameVersion(nil, wire.Version, s.msg)
		if err != nil {
			t.Fatal(err)
		}
		stream = append(stream, frame...)
		want = append(want, s.msg)
	}
	readers := []struct {
		name string
		r    func() io.Reader
	}{
		{"whole", func() io.Reader { return bytes.NewReader(stream) }},
		{"one byte", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(stream)) }},
		{"half", func() io.Reader { return iotest.HalfReader(bytes.NewReader(stream)) }},
	}
	for _, rc := range readers {
		t.Run(rc.name, func(t *testing.T) {
			r := rc.r()
			var buf []byte
			for i, w := range want {
				typ, _, p, err := wire.ReadFrameVersion(r, buf, wire.Version)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				buf = p
				m, err := wire.Decode(typ, p)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if !reflect.DeepEqual(m, w) {
					t.Fatalf("frame %d: got %+v, want %+v", i, m, w)
				}
			}
			if _, _, _, err := wire.ReadFrameVersion(r, buf, wire.Version); err != io.EOF {
				t.Fatalf("after the last frame: %v, want io.EOF", err)
			}
		})
	}
}

func TestReadFrame_ReusesBuffer(t *testing.T) {
	frame := encode(t, wire.Piece{ID: fid("a"), Data: pattern(1000)})
	buf := make([]byte, 2000)
	_, p, err := wire.ReadFrame(bytes.NewReader(frame), buf)
	if err != nil {
		t.Fatal(err)
	}
	if &p[0] != &buf[0] {
		t.Fatal("ReadFrame allocated although buf was large enough")
	}
	_, p, err = wire.ReadFrame(bytes.NewReader(frame), make([]byte, 10))
	if err != nil {
		t.Fatal(err)
	}
	if cap(p) > 2*len(p) {
		t.Fatalf("grown buffer has cap %d for a %d-byte payload", cap(p), len(p))
	}
}

func TestReadFrame_MaxPayload(t *testing.T) {
	frame := encode(t, wire.Piece{ID: fid("a"), Data: make([]byte, wire.MaxPayload-37)})
	_, p, err := wire.ReadFrame(bytes.NewReader(frame), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != wire.MaxPayload || cap(p) != wire.MaxPayload {
		t.Fatalf("payload len %d cap %d, want both %d", len(p), cap(p), wire.MaxPayload)
	}
}
