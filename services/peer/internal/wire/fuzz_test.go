package wire_test

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/netlab/netlab/services/peer/internal/wire"
)

// FuzzDecode: Decode never panics, fails only with *DecodeError, and
// whatever it accepts re-encodes to a frame that decodes to the same
// message and re-encodes to the same bytes.
func FuzzDecode(f *testing.F) {
	for _, s := range samples() {
		f.Add(byte(s.msg.Type()), s.msg.AppendPayload(nil))
	}
	f.Add(byte(0), []byte{})
	f.Add(byte(wire.TypeCatalog), []byte{0xff, 0xff, 0xff, 0xff})
	f.Add(byte(wire.TypeHave), append(fileID33, 0, 0, 0, 3, 0xf0))
	f.Add(byte(wire.TypeAnnounce), append(fileID33, 0, 2, 0, 0, 0, 9, 0, 0, 0, 9))
	f.Add(byte(wire.TypeGetHave), append([]byte{0x13}, hash32...))
	f.Fuzz(func(t *testing.T, typ byte, payload []byte) {
		m, err := wire.Decode(wire.Type(typ), payload)
		if err != nil {
			var de *wire.DecodeError
			if !errors.As(err, &de) || m != nil {
				t.Fatalf("Decode = %v, %v; want nil, *DecodeError", m, err)
			}
			return
		}
		if m.Type() != wire.Type(typ) {
			t.Fatalf("decoded %v as %v", wire.Type(typ), m.Type())
		}
		frame, err := wire.AppendFrame(nil, m)
		if err != nil {
			t.Fatalf("AppendFrame refused a decoded %v: %v", m.Type(), err)
		}
		t2, _, p2, err := wire.ReadFrameVersion(bytes.NewReader(frame), nil, m.Type().Since())
		if err != nil {
			t.Fatalf("ReadFrame of a re-encoded %v: %v", m.Type(), err)
		}
		m2, err := wire.Decode(t2, p2)
		if err != nil {
			t.Fatalf("Decode of a re-encoded %v: %v", m.Type(), err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", m, m2)
		}
		if frame2, _ := wire.AppendFrame(nil, m2); !bytes.Equal(frame, frame2) {
			t.Fatal("re-encoding is not stable")
		}
	})
}

// FuzzReadFrame: ReadFrameVersion and Conn.Receive (Conn.ReceiveFirst for
// AnyVersion) read an arbitrary byte stream the same way, never panic,
// never return a payload over MaxPayload or a type the frame's version does
// not have, and end with one of the documented errors.
func FuzzReadFrame(f *testing.F) {
	var all []byte
	for _, s := range samples() {
		frame, err := wire.AppendFrame(nil, s.msg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s.msg.Type().Since(), frame)
		all = append(all, frame...)
	}
	f.Add(uint8(wire.Version1), all)
	f.Add(uint8(wire.AnyVersion), all)
	f.Add(uint8(wire.Version1), header(wire.Version1, wire.TypePiece, wire.MaxPayload+1))
	f.Add(uint8(wire.Version1), header(2, wire.TypePiece, 0))
	f.Add(uint8(wire.Version2), header(wire.Version1, wire.TypePiece, 0))
	f.Add(uint8(wire.AnyVersion), header(9, wire.TypeAnnounce, 0))
	f.Add(uint8(wire.Version1), append(header(wire.Version1, wire.TypeAuth, 3), 1, 2, 3))
	f.Fuzz(func(t *testing.T, want uint8, stream []byte) {
		want %= wire.Version + 1
		r := bytes.NewReader(stream)
		c := wire.NewConn(&fakeConn{r: bytes.NewReader(stream)}, time.Second)
		receive := func() (wire.Message, error) {
			if want == wire.AnyVersion {
				m, _, err := c.ReceiveFirst(0)
				return m, err
			}
			return c.Receive(0)
		}
		if want != wire.AnyVersion {
			c.SetVersion(want)
		}
		var buf []byte
		for {
			typ, v, p, err := wire.ReadFrameVersion(r, buf, want)
			m2, err2 := receive()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) &&
					!errors.Is(err, wire.ErrVersion) && !errors.Is(err, wire.ErrFrameTooLarge) &&
					!errors.Is(err, wire.ErrUnknownType) {
					t.Fatalf("ReadFrameVersion: unexpected error %v", err)
				}
				if err2 == nil || err.Error() != err2.Error() {
					t.Fatalf("ReadFrameVersion failed with %v, Receive with %v", err, err2)
				}
				return
			}
			if len(p) > wire.MaxPayload || cap(p) > wire.MaxPayload {
				t.Fatalf("payload len %d cap %d", len(p), cap(p))
			}
			if !typ.In(min(v, wire.Version)) || (want != wire.AnyVersion && v != want) {
				t.Fatalf("read a %v frame of version %d, wanting %d", typ, v, want)
			}
			buf = p
			m, err := wire.Decode(typ, p)
			if (err == nil) != (err2 == nil) || !reflect.DeepEqual(m, m2) {
				t.Fatalf("ReadFrameVersion+Decode gave %+v, %v; Receive gave %+v, %v", m, err, m2, err2)
			}
			if err != nil {
				continue // the stream is still in step after a bad payload
			}
			frame, err := wire.AppendFrameVersion(nil, min(v, wire.Version), m)
			if err != nil {
				t.Fatalf("AppendFrameVersion refused a decoded %v: %v", m.Type(), err)
			}
			t3, _, p3, err := wire.ReadFrameVersion(bytes.NewReader(frame), nil, min(v, wire.Version))
			if err != nil || t3 != typ {
				t.Fatalf("re-read: %v %v", t3, err)
			}
			if m3, err := wire.Decode(t3, p3); err != nil || !reflect.DeepEqual(m, m3) {
				t.Fatalf("round trip: %+v, %v; want %+v", m3, err, m)
			}
		}
	})
}
