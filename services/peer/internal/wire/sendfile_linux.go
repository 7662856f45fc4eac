package wire

import (
	"io"
	"os"
	"syscall"
)

// fileSender returns how to send k bytes of f at off, calling renew
// (which renews the write deadline) each time a chunk's worth has gone
// out: sendfile(2) when the connection is a socket, else copyChunks.
func (c *Conn) fileSender(f *os.File) func(off int64, k int, renew func()) error {
	fallback := func(off int64, k int, renew func()) error { return c.copyChunks(f, off, k, renew) }
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return fallback
	}
	dst, err := sc.SyscallConn()
	if err != nil {
		return fallback
	}
	src, err := f.SyscallConn()
	if err != nil {
		return fallback
	}
	return func(off int64, k int, renew func()) error {
		var serr error
		unrenewed := 0 // bytes sent since the deadline was last renewed
		// Control keeps f's descriptor from being closed under us; Write
		// waits for the socket to be writable, honouring its deadline.
		cerr := src.Control(func(in uintptr) {
			werr := dst.Write(func(out uintptr) bool {
				for k > 0 {
					n, err := syscall.Sendfile(int(out), int(in), &off, k)
					if n > 0 {
						k -= n
						if unrenewed += n; unrenewed >= chunkSize && k > 0 {
							renew() // the wait that follows gets a fresh deadline
							unrenewed = 0
						}
					}
					switch {
					case err == syscall.EAGAIN:
						return false // wait until writable, then go on
					case err == syscall.EINTR:
					case err != nil:
						serr = os.NewSyscallError("sendfile", err)
						return true
					case n == 0:
						serr = io.ErrUnexpectedEOF // the file shrank
						return true
					}
				}
				return true
			})
			if serr == nil {
				serr = werr
			}
		})
		if serr == nil {
			serr = cerr
		}
		return serr
	}
}
