// Package neterr turns network errors into the short messages the netlab
// clients print: "connection refused" rather than
// "dial tcp 127.0.0.1:1: connect: connection refused".
package neterr

import (
	"errors"
	"net"
	"os"
)

// IsTimeout reports whether err is a deadline or timeout.
func IsTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Reason is the innermost useful text of a network error.
func Reason(err error) string {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err.Error()
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "lookup " + dns.Name + ": " + dns.Err
	}
	if errors.Is(err, net.ErrClosed) {
		return "connection closed"
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

// OpError is an I/O error printed briefly, e.g. "send: network is unreachable".
type OpError struct {
	Op  string
	Err error
}

func (e *OpError) Error() string { return e.Op + ": " + Reason(e.Err) }
func (e *OpError) Unwrap() error { return e.Err }
