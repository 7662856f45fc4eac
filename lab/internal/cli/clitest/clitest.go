// Package clitest runs netlab's commands in tests the way netlab runs
// them, and checks what they print.
package clitest

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/internal/cli"
)

// NoEnv is an environment with no variable set.
func NoEnv(string) string { return "" }

// Run calls main with args and no environment, and returns its exit code
// and what it wrote on stdout and stderr.
func Run(ctx context.Context, main cli.MainFunc, args ...string) (code int, stdout, stderr string) {
	var out, errOut strings.Builder
	code = main(ctx, args, &out, &errOut, NoEnv)
	return code, out.String(), errOut.String()
}

// Main runs the program prog, whose subcommands are commands, as its main
// does (cli.Main), with no environment.
func Main(t testing.TB, prog, about string, commands []cli.Command, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return Run(t.Context(), func(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
		return cli.Main(ctx, prog, about, commands, args, stdout, stderr, getenv)
	}, args...)
}

// Contains fails t for each of wants that text lacks; what names the text
// in the message.
func Contains(t testing.TB, what, text string, wants ...string) {
	t.Helper()
	for _, w := range Missing(text, wants...) {
		t.Errorf("%s lacks %q:\n%s", what, w, text)
	}
}

// Missing is those of wants that text does not contain, in order.
func Missing(text string, wants ...string) []string {
	var out []string
	for _, w := range wants {
		if !strings.Contains(text, w) {
			out = append(out, w)
		}
	}
	return out
}
