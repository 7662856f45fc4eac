package wire

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
)

// AppendFrame appends m's header and payload to dst, as a frame of the
// first version that has m's type (Type.Since). It returns dst unchanged
// and ErrFrameTooLarge if the payload would exceed MaxPayload, or an error
// wrapping ErrInvalidMessage if the peer would have to reject the message.
func AppendFrame(dst []byte, m Message) ([]byte, error) {
	return AppendFrameVersion(dst, m.Type().Since(), m)
}

// AppendFrameVersion is AppendFrame with the header's version v; a type
// that version does not have is refused with ErrUnknownType.
func AppendFrameVersion(dst []byte, v uint8, m Message) ([]byte, error) {
	start := len(dst)
	out, err := appendChecked(append(dst, v, uint8(m.Type()), 0, 0, 0, 0), v, m, 0)
	if err != nil {
		return dst[:start], err
	}
	binary.BigEndian.PutUint32(out[start+2:], uint32(len(out)-start-HeaderSize))
	return out, nil
}

// appendChecked appends m's payload to dst after checking that version v
// has m's type and that the peer would accept it, with room for extra
// bytes more. On error dst's length is unchanged.
func appendChecked(dst []byte, v uint8, m Message, extra int) ([]byte, error) {
	t := m.Type()
	if !t.In(v) || v > Version || t == TypeSealed {
		return dst, fmt.Errorf("%w: %s in version %d", ErrUnknownType, t, v)
	}
	start := len(dst)
	if c, ok := m.(checked); ok {
		if err := c.check(); err != nil {
			return dst, err
		}
		n := c.payloadLen()
		if n > MaxPayload {
			return dst, tooLarge(n)
		}
		dst = slices.Grow(dst, n+extra)
	}
	dst = m.AppendPayload(dst)
	if n := len(dst) - start; n > MaxPayload {
		return dst[:start], tooLarge(n)
	}
	return dst, nil
}

// ReadFrame reads one version-1 frame from r into buf (grown if needed,
// never beyond MaxPayload) and returns its type and payload, which aliases
// the returned buffer. Errors: ErrVersion, ErrFrameTooLarge (the payload is
// neither read nor allocated), ErrUnknownType, io.EOF at a frame boundary,
// io.ErrUnexpectedEOF inside a frame, or r's error. After an error the
// stream is out of step and must be abandoned.
func ReadFrame(r io.Reader, buf []byte) (Type, []byte, error) {
	t, _, payload, err := ReadFrameVersion(r, buf, Version1)
	return t, payload, err
}

// ReadFrameVersion is ReadFrame for a frame of version want, or of any
// version from 1 on with AnyVersion; it also returns the header's version.
// A frame of a version above Version is read by Version's rules.
func ReadFrameVersion(r io.Reader, buf []byte, want uint8) (Type, uint8, []byte, error) {
	var h [HeaderSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, 0, nil, err
	}
	t, v, n, err := parseHeader(h[:], want)
	if err != nil {
		return t, v, nil, err
	}
	payload, err := readPayload(r, buf, n, nil)
	if err != nil {
		return t, v, nil, err
	}
	return t, v, payload, nil
}

// parseHeader checks a frame header against the version wanted (or any
// with AnyVersion) and returns the type, version and payload length.
func parseHeader(h []byte, want uint8) (Type, uint8, int, error) {
	v := h[0]
	switch {
	case want == AnyVersion && v < Version1:
		return 0, v, 0, fmt.Errorf("%w %d (want %d or later)", ErrVersion, v, Version1)
	case want != AnyVersion && v != want:
		return 0, v, 0, fmt.Errorf("%w %d (want %d)", ErrVersion, v, want)
	}
	t := Type(h[1])
	n := binary.BigEndian.Uint32(h[2:])
	limit := uint32(MaxPayload)
	if t == TypeSealed {
		limit += SealOverhead
	}
	if n > limit {
		return t, v, 0, tooLarge(int64(n))
	}
	if !t.In(min(v, Version)) {
		return t, v, 0, fmt.Errorf("%w 0x%02x in version %d", ErrUnknownType, uint8(t), v)
	}
	return t, v, int(n), nil
}

func tooLarge[N int | int64](n N) error {
	return fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, MaxPayload)
}

// readPayload reads n bytes into buf in chunks of at most chunkSize,
// calling before (if not nil) ahead of each chunk. When buf is too small it
// grows only as bytes arrive, so a header that announces a large payload
// and then stalls costs one chunk of memory, not MaxPayload.
func readPayload(r io.Reader, buf []byte, n int, before func()) ([]byte, error) {
	buf = buf[:0]
	for len(buf) < n {
		k := min(n-len(buf), chunkSize)
		if cap(buf)-len(buf) < k {
			newCap := min(max(2*cap(buf), len(buf)+k), n)
			nb := make([]byte, len(buf), newCap)
			copy(nb, buf)
			buf = nb
		}
		if before != nil {
			before()
		}
		m, err := io.ReadFull(r, buf[len(buf):len(buf)+k])
		buf = buf[:len(buf)+m]
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return buf, err
		}
	}
	return buf, nil
}
