// Package clientcli is the toolkit every netlab command-line client is
// built on: one signal-handling main (Run) over a testable entry point
// (MainFunc), one way from flags to a running mode (Launch), one way to
// declare and check flags (Flags), one text and JSON output path (Output:
// Print, Answer, Summary, WriteJSON), one per-interval report for long runs
// (Reporting), where the server address comes from (ResolveAddr), and how
// failures and usage errors are reported (one line on stderr, exit 1 or 2).
package clientcli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
)

// Exit codes of the clients.
const (
	ExitFailure = 1 // the server is unreachable, silent or wrong
	ExitUsage   = 2 // bad flags
)

// ResolveAddr picks the server address: the --addr flag if it was given,
// else the environment variable env, else fallback. It checks the result
// is host:port and says where a bad value came from.
func ResolveAddr(flagValue string, flagGiven bool, getenv func(string) string, env, fallback string) (string, error) {
	addr, from := flagValue, "--addr"
	if !flagGiven {
		if addr = getenv(env); addr != "" {
			from = env
		} else {
			addr = fallback
		}
	}
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		return "", fmt.Errorf("invalid address %q from %s: want host:port", addr, from)
	}
	return addr, nil
}

// Failure reports err as "prog: message" and returns ExitFailure. A
// canceled context (Ctrl-C) reads "interrupted".
func Failure(stderr io.Writer, prog string, err error) int {
	msg := err.Error()
	if errors.Is(err, context.Canceled) {
		msg = "interrupted"
	}
	fmt.Fprintf(stderr, "%s: %s\n", prog, msg)
	return ExitFailure
}

// UsageError reports a bad invocation and returns ExitUsage.
func UsageError(stderr io.Writer, prog, msg string) int {
	fmt.Fprintf(stderr, "%s: %s\nRun '%s --help' for usage.\n", prog, msg, prog)
	return ExitUsage
}
