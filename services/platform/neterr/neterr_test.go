package neterr_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/netlab/netlab/services/platform/neterr"
)

func TestReason(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		err  error
		want string
	}{
		{refused, "connection refused"},
		{fmt.Errorf("wrapped: %w", refused), "connection refused"},
		{&net.DNSError{Name: "nowhere.invalid", Err: "no such host"}, "lookup nowhere.invalid: no such host"},
		{net.ErrClosed, "connection closed"},
		{&net.OpError{Op: "read", Err: errors.New("odd")}, "odd"},
		{errors.New("plain"), "plain"},
	}
	for _, tt := range tests {
		if got := neterr.Reason(tt.err); got != tt.want {
			t.Errorf("Reason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestIsTimeout(t *testing.T) {
	if !neterr.IsTimeout(fmt.Errorf("x: %w", os.ErrDeadlineExceeded)) {
		t.Error("deadline exceeded is a timeout")
	}
	if !neterr.IsTimeout(&net.DNSError{IsTimeout: true}) {
		t.Error("a net.Error with Timeout() is a timeout")
	}
	if neterr.IsTimeout(errors.New("refused")) {
		t.Error("a plain error is not a timeout")
	}
}

func TestOpError(t *testing.T) {
	inner := os.NewSyscallError("sendto", syscall.ENETUNREACH)
	err := &neterr.OpError{Op: "send", Err: inner}
	if err.Error() != "send: network is unreachable" {
		t.Errorf("Error() = %q", err.Error())
	}
	if !errors.Is(err, syscall.ENETUNREACH) {
		t.Error("OpError does not unwrap to its cause")
	}
}
