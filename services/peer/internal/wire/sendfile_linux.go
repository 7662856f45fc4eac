package wire

import (
	"io"
	"os"
	"syscall"
)

// fileSender returns how to send chunks of f: sendfile(2) when the
// connection is a socket, else copyChunk.
func (c *Conn) fileSender(f *os.File) func(off int64, k int) error {
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return func(off int64, k int) error { return c.copyChunk(f, off, k) }
	}
	dst, err := sc.SyscallConn()
	if err != nil {
		return func(off int64, k int) error { return c.copyChunk(f, off, k) }
	}
	src, err := f.SyscallConn()
	if err != nil {
		return func(off int64, k int) error { return c.copyChunk(f, off, k) }
	}
	return func(off int64, k int) error {
		var serr error
		// Control keeps f's descriptor from being closed under us; Write
		// waits for the socket to be writable, honouring its deadline.
		cerr := src.Control(func(in uintptr) {
			werr := dst.Write(func(out uintptr) bool {
				for k > 0 {
					n, err := syscall.Sendfile(int(out), int(in), &off, k)
					if n > 0 {
						k -= n
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
