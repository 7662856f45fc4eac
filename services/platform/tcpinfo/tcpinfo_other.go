//go:build !linux

package tcpinfo

import "syscall"

// Supported reports whether Read works on this system.
const Supported = false

// Read returns ErrUnsupported: this system has no TCP_INFO that this
// package reads.
func Read(syscall.Conn) (Info, error) { return Info{}, ErrUnsupported }
