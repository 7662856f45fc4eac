//go:build !linux

package rxstamp

import (
	"errors"
	"syscall"
)

// ControlSize is the room a receive timestamp needs; none here.
var ControlSize = 0

// Enable reports that this system gives no receive timestamps.
func Enable(syscall.RawConn) error {
	return errors.New("rxstamp: no kernel receive timestamps on this system")
}

// Parse finds no timestamp.
func Parse([]byte) (int64, bool) { return 0, false }
