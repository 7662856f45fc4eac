package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/netlab/netlab/services/peer/internal/content"
)

// keepWriteBuf is the largest write buffer kept between Sends; a rare big
// Catalog or Manifest should not pin megabytes for the connection's life.
const keepWriteBuf = 256 << 10

// Conn is a framed connection with a deadline on every read and write.
//
// One goroutine may Receive while another Sends; Receive and Send are each
// not safe for concurrent use with themselves. After any error other than
// a header timeout in Receive or ErrFrameTooLarge/ErrInvalidMessage from
// Send, the stream is out of step: close the connection.
type Conn struct {
	nc       net.Conn
	version  uint8 // of every frame sent and received
	timeout  time.Duration
	br       *bufio.Reader
	rbuf     []byte
	wbuf     []byte
	sbuf     []byte // sealed frames being written
	throttle func(n int) error
	pieceBuf func(n int) []byte
	// tx and rx seal and open every frame once Encrypt is called.
	tx, rx *direction
	// limit, when set, caps every deadline (the handshake's one deadline).
	limit time.Time
	// sendBy, when set, caps the write deadlines of the Send under way
	// (SendWithin); only the sending goroutine uses it.
	sendBy time.Time
}

// NewConn wraps c. timeout bounds the reading or writing of every 64 KiB
// of a payload, each with a fresh deadline of timeout (piece data may
// move in larger system calls, which renew it per 64 KiB moved), so a
// slow but live sender (e.g. upload rate limit) is fine while a stalled
// one is cut off. timeout <= 0 disables the deadlines.
func NewConn(c net.Conn, timeout time.Duration) *Conn {
	return &Conn{
		nc:      c,
		version: Version1,
		timeout: timeout,
		br:      bufio.NewReaderSize(c, chunkSize),
	}
}

// SetVersion sets the protocol version of the frames Send writes and
// Receive accepts (Version1 until called); the handshake settles it.
func (c *Conn) SetVersion(v uint8) { c.version = v }

// Version is the protocol version the connection speaks.
func (c *Conn) Version() uint8 { return c.version }

// LimitDeadlines caps the deadline of every read and write at t (the
// zero time removes the cap): a handshake then has to finish by t
// whatever the per-frame waits, however slowly its bytes arrive.
func (c *Conn) LimitDeadlines(t time.Time) { c.limit = t }

// capped is the deadline d from now, or the cap when that is earlier.
func (c *Conn) capped(d time.Duration) time.Time {
	var t time.Time
	if d > 0 {
		t = time.Now().Add(d)
	}
	return earliest(t, c.limit)
}

// earliest is the earlier of two deadlines, the zero time being none.
func earliest(t, u time.Time) time.Time {
	if !u.IsZero() && (t.IsZero() || u.Before(t)) {
		return u
	}
	return t
}

// Encrypt seals every frame Send writes from now on and makes Receive
// accept only sealed frames, with the traffic keys from the handshake
// (version 3 on; docs/peer-protocol.md, Sealed frames). Call it once,
// between frames in both directions.
func (c *Conn) Encrypt(k Keys, lim RekeyLimits) error {
	if c.version < Version3 {
		return fmt.Errorf("wire: sealed frames need version %d, the connection speaks %d", Version3, c.version)
	}
	tx, err := newDirection(k.Send, lim)
	if err != nil {
		return err
	}
	rx, err := newDirection(k.Receive, lim)
	if err != nil {
		return err
	}
	c.tx, c.rx = tx, rx
	return nil
}

// Encrypted reports whether the connection's frames are sealed.
func (c *Conn) Encrypted() bool { return c.tx != nil }

// Rekeys returns how many times each direction has moved to a new key.
func (c *Conn) Rekeys() (sent, received uint64) {
	if c.tx == nil {
		return 0, 0
	}
	return c.tx.epoch, c.rx.epoch
}

// NetConn returns the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// SetThrottle installs a function called before each chunk of a Piece
// payload is written, with the number of piece data bytes in that chunk
// (the 36 bytes of id and index are not counted, so the calls add up to
// len(Data)). It may block; a non-nil error aborts the write and is
// returned by Send. Call it before the first Send.
func (c *Conn) SetThrottle(f func(n int) error) { c.throttle = f }

// SetPieceBuffers makes Receive read the data of each Piece frame straight
// into a buffer from get, called with the data length once the frame's
// header is in; Piece.Data then belongs to the caller and outlives the
// next Receive without a copy. get may return nil (e.g. for a length no
// piece has) to use the connection's own buffer instead. Call it before
// the first Receive.
func (c *Conn) SetPieceBuffers(get func(n int) []byte) { c.pieceBuf = get }

// Close closes the underlying connection.
func (c *Conn) Close() error { return c.nc.Close() }

// Send encodes m into a reusable buffer and writes header and payload:
// small frames in one Write, larger ones in chunks of at most 64 KiB, each
// under a fresh deadline (Piece chunks throttled). It returns
// ErrFrameTooLarge or ErrInvalidMessage without writing anything.
func (c *Conn) Send(m Message) error {
	if c.tx != nil {
		return c.sendSealed(m)
	}
	switch p := m.(type) {
	case *Piece:
		return c.sendPiece(p)
	case Piece:
		return c.sendPiece(&p)
	}
	buf, err := AppendFrameVersion(c.wbuf[:0], c.version, m)
	if err != nil {
		return err
	}
	if cap(buf) <= keepWriteBuf {
		c.wbuf = buf
	}
	return c.writeFrame(buf, 0)
}

// SendWithin is Send with all of its writes due within d: a last frame
// before closing (error(shutdown)) must not wait the whole I/O timeout on
// a peer that does not read. Later Sends have their usual deadlines.
func (c *Conn) SendWithin(m Message, d time.Duration) error {
	c.sendBy = time.Now().Add(d)
	defer func() { c.sendBy = time.Time{} }()
	return c.Send(m)
}

// sendSealed encodes m after a header and its type byte, seals that in
// place and writes it. The buffer is kept whatever its size (at most one
// frame, like the read buffer): a piece is copied into it each time.
func (c *Conn) sendSealed(m Message) error {
	buf := append(c.sbuf[:0], 0, 0, 0, 0, 0, 0, uint8(m.Type()))
	buf, err := appendChecked(buf, c.version, m, c.tx.aead.Overhead())
	if err != nil {
		return err
	}
	frame, err := c.tx.seal(buf, c.version)
	if err != nil {
		return err
	}
	c.sbuf = frame
	var data int
	if p, ok := m.(*Piece); ok {
		data = len(p.Data)
	} else if p, ok := m.(Piece); ok {
		data = len(p.Data)
	}
	return c.writeFrame(frame, data)
}

// writeFrame writes a whole frame: the header with up to a chunk of
// payload, then a chunk at a time, each under a fresh deadline. With
// throttled > 0 (the piece data bytes in the frame) the throttle is
// called before each chunk, for up to that many bytes in all.
func (c *Conn) writeFrame(buf []byte, throttled int) error {
	n := min(len(buf), HeaderSize+chunkSize)
	for len(buf) > 0 {
		k := min(n, throttled)
		if err := c.throttled(k); err != nil {
			return err
		}
		throttled -= k
		if err := c.write(buf[:n]); err != nil {
			return err
		}
		buf = buf[n:]
		n = min(len(buf), chunkSize)
	}
	return nil
}

// sendPiece writes the data straight from p.Data instead of copying a
// whole piece into the buffer; only the first chunk, which shares a Write
// with the header, is copied.
func (c *Conn) sendPiece(p *Piece) error {
	if pieceFixed+len(p.Data) > MaxPayload {
		return tooLarge(pieceFixed + len(p.Data))
	}
	if err := p.check(); err != nil {
		return err
	}
	first := min(len(p.Data), chunkSize-pieceFixed)
	b := append(c.wbuf[:0], c.version, uint8(TypePiece))
	b = binary.BigEndian.AppendUint32(b, uint32(pieceFixed+len(p.Data)))
	b = append(b, p.ID[:]...)
	b = binary.BigEndian.AppendUint32(b, p.Index)
	b = append(b, p.Data[:first]...)
	c.wbuf = b
	if err := c.throttled(first); err != nil {
		return err
	}
	if err := c.write(b); err != nil {
		return err
	}
	for data := p.Data[first:]; len(data) > 0; {
		k := min(len(data), chunkSize)
		if err := c.throttled(k); err != nil {
			return err
		}
		if err := c.write(data[:k]); err != nil {
			return err
		}
		data = data[k:]
	}
	return nil
}

func (c *Conn) throttled(n int) error {
	if c.throttle == nil || n == 0 {
		return nil
	}
	return c.throttle(n)
}

// write sets the deadline after any throttle wait, so time spent blocked
// in the throttle does not count against the peer. Deadline errors are
// ignored, as net/http does: they come from a closed connection, and the
// Write that follows reports that better (net.Pipe fails SetDeadline once
// the other end is closed, where a read would say io.EOF).
func (c *Conn) write(p []byte) error {
	c.setWriteDeadline()
	_, err := c.nc.Write(p)
	return err
}

func (c *Conn) setWriteDeadline() {
	if c.timeout > 0 || !c.limit.IsZero() || !c.sendBy.IsZero() {
		_ = c.nc.SetWriteDeadline(earliest(c.capped(c.timeout), c.sendBy))
	}
}

// Receive waits up to wait for the next frame's header (wait <= 0 means
// use timeout), then reads the payload under the per-chunk timeout and
// decodes it. The payload buffer is reused: Piece.Data and Have.Bits are
// valid until the next Receive. The buffer grows only as needed, up to
// MaxPayload.
//
// Errors: ErrVersion, ErrFrameTooLarge (payload not read or allocated),
// ErrUnknownType, *DecodeError, on a sealed connection ErrTampered and
// ErrNotSealed, ErrHeaderTimeout (a header begun and not finished within
// the I/O timeout), or the I/O error (timeouts satisfy
// errors.Is(err, os.ErrDeadlineExceeded)); io.EOF means the peer closed
// between frames. A timeout while waiting for a frame to begin consumes
// nothing, so Receive may be called again; after a *DecodeError the stream
// is still in step; after any other error it is not.
func (c *Conn) Receive(wait time.Duration) (Message, error) {
	m, _, err := c.receive(wait, c.version)
	return m, err
}

// Wait blocks until the next frame's header has arrived, or for at most
// wait (wait <= 0 means use timeout), and consumes nothing: after a
// timeout (errors.Is(err, os.ErrDeadlineExceeded)) the stream is in step
// and Wait or Receive may be called again. A reader that must take frames
// its peer sends unasked waits with it while no answer is due.
func (c *Conn) Wait(wait time.Duration) error {
	_, err := c.peekHeader(wait)
	return err
}

// peekHeader waits up to wait (wait <= 0: the I/O timeout) for the first
// byte of the next frame header, then up to the I/O timeout for the rest,
// and consumes nothing. Once a header has begun, a peer trickling it byte
// by byte is cut off (ErrHeaderTimeout), whatever wait is.
func (c *Conn) peekHeader(wait time.Duration) ([]byte, error) {
	if wait <= 0 {
		wait = c.timeout
	}
	if c.br.Buffered() == 0 {
		c.setReadDeadline(wait)
		// Peek rather than read: a timeout here leaves the stream in step.
		if _, err := c.br.Peek(1); err != nil {
			return nil, err
		}
	}
	if c.br.Buffered() < HeaderSize {
		c.setReadDeadline(c.timeout)
	}
	h, err := c.br.Peek(HeaderSize)
	switch {
	case err == nil:
		return h, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, fmt.Errorf("%w (%d of %d bytes)", ErrHeaderTimeout, len(h), HeaderSize)
	case err == io.EOF:
		return nil, io.ErrUnexpectedEOF
	}
	return nil, err
}

// ReceiveFirst is Receive for the first frame of a connection, which may
// carry any version from 1 on (the peer's hello says which it speaks); it
// also returns the frame's version. The connection's own version is left
// as it is.
func (c *Conn) ReceiveFirst(wait time.Duration) (Message, uint8, error) {
	return c.receive(wait, AnyVersion)
}

func (c *Conn) receive(wait time.Duration, want uint8) (Message, uint8, error) {
	h, err := c.peekHeader(wait)
	if err != nil {
		return nil, 0, err
	}
	t, v, n, err := parseHeader(h, want)
	header := [HeaderSize]byte(h) // h is invalid after Discard
	if _, derr := c.br.Discard(HeaderSize); derr != nil {
		return nil, v, derr
	}
	if err != nil {
		return nil, v, err
	}
	var before func()
	if c.timeout > 0 {
		before = func() { c.setReadDeadline(c.timeout) }
	} else {
		c.setReadDeadline(0)
	}
	if c.rx != nil {
		m, err := c.receiveSealed(header, t, n, before)
		return m, v, err
	}
	if t == TypePiece && c.pieceBuf != nil && n > pieceFixed {
		if p, ok, err := c.receivePiece(n, before); ok {
			if err != nil {
				return nil, v, err
			}
			return p, v, nil
		}
	}
	c.rbuf, err = readPayload(payloadReader{c}, c.rbuf, n, before)
	if err != nil {
		return nil, v, err
	}
	m, err := Decode(t, c.rbuf)
	return m, v, err
}

// receiveSealed reads a sealed payload of n bytes, opens it and decodes
// the message inside. A piece's data is copied into a buffer from
// pieceBuf, as Receive promises.
func (c *Conn) receiveSealed(header [HeaderSize]byte, t Type, n int, before func()) (Message, error) {
	if t != TypeSealed {
		return nil, fmt.Errorf("%w: %s", ErrNotSealed, t)
	}
	var err error
	c.rbuf, err = readPayload(payloadReader{c}, c.rbuf, n, before)
	if err != nil {
		return nil, err
	}
	pt, err := c.rx.open(header[:], c.rbuf)
	if err != nil {
		return nil, err
	}
	inner, payload := Type(pt[0]), pt[1:]
	if !inner.In(c.version) || inner == TypeSealed {
		return nil, &DecodeError{Type: inner, Reason: "not a message of this version inside a sealed frame"}
	}
	m, err := Decode(inner, payload)
	if p, ok := m.(*Piece); ok && c.pieceBuf != nil && len(p.Data) > 0 {
		if data := c.pieceBuf(len(p.Data)); len(data) == len(p.Data) {
			copy(data, p.Data)
			p.Data = data
		}
	}
	return m, err
}

// receivePiece reads a Piece payload of n bytes with its data in a buffer
// from pieceBuf. ok is false, with nothing read, when pieceBuf declines.
func (c *Conn) receivePiece(n int, before func()) (p *Piece, ok bool, err error) {
	data := c.pieceBuf(n - pieceFixed)
	if len(data) != n-pieceFixed {
		return nil, false, nil
	}
	c.rbuf, err = readPayload(payloadReader{c}, c.rbuf, pieceFixed, before)
	if err != nil {
		return nil, true, err
	}
	p = &Piece{ID: content.ID(c.rbuf[:idSize]), Index: binary.BigEndian.Uint32(c.rbuf[idSize:pieceFixed]), Data: data}
	if _, err := content.AlgOfCode(p.ID[0]); err != nil {
		// The rest of the payload stays unread: the connection ends here.
		return nil, true, &DecodeError{Type: TypePiece, Reason: err.Error()}
	}
	// Each read takes whatever has arrived, up to the rest of the piece,
	// not a chunk at a time: a fast peer costs a system call per socket
	// buffer's worth instead of per 64 KiB. The deadline is renewed once
	// a chunk's worth has come since the last renewal, so a peer must
	// still send 64 KiB per I/O timeout, as with chunked reads.
	for got, renewed := 0, -chunkSize; got < len(data); {
		if before != nil && got-renewed >= chunkSize {
			before()
			renewed = got
		}
		m, err := payloadReader{c}.Read(data[got:])
		got += m
		if err != nil && got < len(data) {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, true, err
		}
	}
	return p, true, nil
}

// payloadReader reads a payload: first what the read buffer holds (the
// header's read brings in what has arrived), then straight from the
// socket into the caller's slice. Read through bufio, every chunk after
// the first would be read into the connection's buffer and copied out,
// because once the header is taken out a chunk no longer lines up with
// the buffer.
type payloadReader struct{ c *Conn }

func (r payloadReader) Read(p []byte) (int, error) {
	if r.c.br.Buffered() > 0 {
		return r.c.br.Read(p) // only what is buffered; no socket read
	}
	return r.c.nc.Read(p)
}

// setReadDeadline ignores errors for the reason given at write.
func (c *Conn) setReadDeadline(d time.Duration) {
	_ = c.nc.SetReadDeadline(c.capped(d))
}
