package wire

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/netlab/netlab/services/peer/internal/content"
)

// SendPieceFile writes a Piece frame whose data is size bytes of f at off,
// the same bytes on the wire as Send(&Piece{...}). Where the connection
// and the file allow it (a TCP socket and a regular file on Linux) the
// data goes from the page cache to the socket with sendfile, never through
// user space; otherwise it is read in chunks into the connection's buffer.
// Like Send, every 64 KiB chunk is throttled and has its own deadline;
// unthrottled (no SetThrottle), one sendfile call may take the whole piece,
// the deadline being renewed as each 64 KiB goes out.
//
// The header is written before the data is read: if the file turns out
// shorter than size, the frame cannot be completed, the error wraps
// io.ErrUnexpectedEOF and the connection must be closed.
func (c *Conn) SendPieceFile(id content.ID, index uint32, f *os.File, off int64, size int) error {
	if size < 0 || pieceFixed+size > MaxPayload {
		return tooLarge(pieceFixed + size)
	}
	if err := checkID(TypePiece, id); err != nil {
		return err
	}
	if c.tx != nil {
		return c.sendPieceFileSealed(id, index, f, off, size)
	}
	b := append(c.wbuf[:0], c.version, uint8(TypePiece))
	b = binary.BigEndian.AppendUint32(b, uint32(pieceFixed+size))
	b = append(b, id[:]...)
	b = binary.BigEndian.AppendUint32(b, index)
	c.wbuf = b
	if err := c.write(b); err != nil {
		return err
	}
	send := c.fileSender(f)
	step := chunkSize
	if c.throttle == nil {
		// Fewer, larger sendfile calls: a quarter less CPU per 1 MiB
		// piece, both ends together (BenchmarkSendPieceFile).
		step = size
	}
	for done := 0; done < size; {
		k := min(size-done, step)
		if err := c.throttled(k); err != nil {
			return err
		}
		c.setWriteDeadline()
		if err := send(off+int64(done), k, c.setWriteDeadline); err != nil {
			return fmt.Errorf("send piece %d: %w", index, err)
		}
		done += k
	}
	return nil
}

// sendPieceFileSealed reads the data into the frame buffer, seals it and
// writes it: the data has to pass through user space to be encrypted. A
// file shorter than size fails before anything is written.
func (c *Conn) sendPieceFileSealed(id content.ID, index uint32, f *os.File, off int64, size int) error {
	buf := append(c.sbuf[:0], 0, 0, 0, 0, 0, 0, uint8(TypePiece))
	buf = append(buf, id[:]...)
	buf = binary.BigEndian.AppendUint32(buf, index)
	buf = slices.Grow(buf, size+c.tx.aead.Overhead())
	if _, err := f.ReadAt(buf[len(buf):len(buf)+size], off); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("send piece %d: %w", index, err)
	}
	frame, err := c.tx.seal(buf[:len(buf)+size], c.version)
	if err != nil {
		return err
	}
	c.sbuf = frame
	return c.writeFrame(frame, size)
}

// copyChunks is the portable way: read k bytes at off a chunk at a time
// into the write buffer and write them, renewing the deadline between
// chunks.
func (c *Conn) copyChunks(f *os.File, off int64, k int, renew func()) error {
	for k > 0 {
		n := min(k, chunkSize)
		if err := c.copyChunk(f, off, n); err != nil {
			return err
		}
		off, k = off+int64(n), k-n
		if k > 0 {
			renew()
		}
	}
	return nil
}

// copyChunk reads one chunk into the write buffer and writes it.
func (c *Conn) copyChunk(f *os.File, off int64, k int) error {
	if cap(c.wbuf) < k {
		c.wbuf = make([]byte, 0, chunkSize)
	}
	buf := c.wbuf[:k]
	if _, err := f.ReadAt(buf, off); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	_, err := c.nc.Write(buf)
	return err
}
