//go:build !linux

package wire

import "os"

// fileSender returns how to send k bytes of f at off, calling renew after
// each chunk's worth: read and write (sendfile is used on Linux only).
func (c *Conn) fileSender(f *os.File) func(off int64, k int, renew func()) error {
	return func(off int64, k int, renew func()) error { return c.copyChunks(f, off, k, renew) }
}
