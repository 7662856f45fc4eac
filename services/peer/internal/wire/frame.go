package wire

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
)

// AppendFrame appends m's header and payload to dst. It returns dst
// unchanged and ErrFrameTooLarge if the payload would exceed MaxPayload,
// or an error wrapping ErrInvalidMessage if the peer would have to reject
// the message.
func AppendFrame(dst []byte, m Message) ([]byte, error) {
	t := m.Type()
	if !t.known() {
		return dst, fmt.Errorf("%w: %s", ErrUnknownType, t)
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
		dst = slices.Grow(dst, HeaderSize+n)
	}
	dst = append(dst, Version, uint8(t), 0, 0, 0, 0)
	dst = m.AppendPayload(dst)
	n := len(dst) - start - HeaderSize
	if n > MaxPayload {
		return dst[:start], tooLarge(n)
	}
	binary.BigEndian.PutUint32(dst[start+2:], uint32(n))
	return dst, nil
}

// ReadFrame reads one frame from r into buf (grown if needed, never beyond
// MaxPayload) and returns its type and payload, which aliases the returned
// buffer. Errors: ErrVersion, ErrFrameTooLarge (the payload is neither read
// nor allocated), ErrUnknownType, io.EOF at a frame boundary,
// io.ErrUnexpectedEOF inside a frame, or r's error. After an error the
// stream is out of step and must be abandoned.
func ReadFrame(r io.Reader, buf []byte) (Type, []byte, error) {
	var h [HeaderSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	t, n, err := parseHeader(h[:])
	if err != nil {
		return t, nil, err
	}
	payload, err := readPayload(r, buf, n, nil)
	if err != nil {
		return t, nil, err
	}
	return t, payload, nil
}

func parseHeader(h []byte) (Type, int, error) {
	if h[0] != Version {
		return 0, 0, fmt.Errorf("%w %d (want %d)", ErrVersion, h[0], Version)
	}
	t := Type(h[1])
	n := binary.BigEndian.Uint32(h[2:])
	if n > MaxPayload {
		return t, 0, tooLarge(int64(n))
	}
	if !t.known() {
		return t, 0, fmt.Errorf("%w 0x%02x", ErrUnknownType, uint8(t))
	}
	return t, int(n), nil
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
