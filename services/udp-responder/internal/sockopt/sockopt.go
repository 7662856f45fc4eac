//go:build unix

// Package sockopt sets socket options through a syscall.RawConn: how the
// responder asks for SO_REUSEPORT before its sockets bind and for receive
// timestamps after.
package sockopt

import "syscall"

// SetInt sets the integer option name at level (syscall.SOL_SOCKET …) of
// the socket behind raw to v.
func SetInt(raw syscall.RawConn, level, name, v int) error {
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), level, name, v) }); err != nil {
		return err
	}
	return serr
}
