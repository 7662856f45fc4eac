//go:build !linux

package wire

import "os"

// fileSender returns how to send chunks of f: read and write (sendfile is
// used on Linux only).
func (c *Conn) fileSender(f *os.File) func(off int64, k int) error {
	return func(off int64, k int) error { return c.copyChunk(f, off, k) }
}
