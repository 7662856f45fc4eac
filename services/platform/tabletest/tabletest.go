// Package tabletest checks a row of a table-driven test against what the
// call under test returned: a value, or an error holding a given text.
package tabletest

import (
	"strings"
	"testing"
)

// Err stops the test unless err is what the row wants: none when wantErr
// is empty, otherwise an error whose text contains wantErr. call names the
// call in the failure. It reports whether an error was wanted, so that
// the caller can skip checking a result.
func Err(tb testing.TB, call string, err error, wantErr string) (wanted bool) {
	tb.Helper()
	if wantErr == "" {
		if err != nil {
			tb.Fatalf("%s: %v", call, err)
		}
		return false
	}
	if err == nil || !strings.Contains(err.Error(), wantErr) {
		tb.Fatalf("%s: error %v, want one containing %q", call, err, wantErr)
	}
	return true
}

// Result stops the test unless a call that returned got and err did what
// the row wants: the error Err wants, or else no error and want.
func Result[T comparable](tb testing.TB, call string, got T, err error, want T, wantErr string) {
	tb.Helper()
	if !Err(tb, call, err, wantErr) && got != want {
		tb.Fatalf("%s = %v, want %v", call, got, want)
	}
}
