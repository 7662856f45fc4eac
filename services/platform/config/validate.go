package config

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Positive reports an error naming name unless v > 0.
func Positive[T int | int64 | time.Duration](name string, v T) error {
	if v <= 0 {
		return &Error{Var: name, Value: fmt.Sprint(v), Reason: "must be greater than zero"}
	}
	return nil
}

// InRange reports an error naming name unless lo <= v <= hi.
func InRange[T int | int64 | time.Duration](name string, v, lo, hi T) error {
	if v < lo || v > hi {
		return &Error{Var: name, Value: fmt.Sprint(v), Reason: fmt.Sprintf("must be between %v and %v", lo, hi)}
	}
	return nil
}

// OneOf reports an error naming name unless v is one of allowed.
func OneOf(name, v string, allowed ...string) error {
	if !slices.Contains(allowed, v) {
		return &Error{Var: name, Value: v, Reason: "must be one of " + strings.Join(allowed, ", ")}
	}
	return nil
}

// Length reports an error naming name unless v is lo to hi bytes long.
// The error shows at most the first 40 bytes of v: a value too long to
// accept is too long to print whole.
func Length(name, v string, lo, hi int) error {
	if len(v) < lo || len(v) > hi {
		return &Error{Var: name, Value: v[:min(len(v), 40)], Reason: fmt.Sprintf("must be %d to %d bytes, got %d", lo, hi, len(v))}
	}
	return nil
}

// ListenAddr reports an error naming name unless v is a host:port a server
// can listen on (":8000", "0.0.0.0:8000", "127.0.0.1:0").
func ListenAddr(name, v string) error {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return &Error{Var: name, Value: v, Reason: "must be host:port, e.g. :8000"}
	}
	// A host that can never resolve would only fail at listen time, far
	// from the variable that caused it.
	if _, err := netip.ParseAddr(host); host != "" && err != nil && !isHostname(host) {
		return &Error{Var: name, Value: v, Reason: "host must be empty, an IP address or a host name"}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return &Error{Var: name, Value: v, Reason: "port must be a number from 0 to 65535"}
	}
	return nil
}

// isHostname reports whether s is shaped like a DNS name: dot-separated
// labels of letters, digits, '-' (not at either end) and '_' (resolvers
// accept it), with an optional trailing dot.
func isHostname(s string) bool {
	if len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
