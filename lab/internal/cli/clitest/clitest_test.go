package clitest_test

import (
	"context"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/netlab/netlab/lab/internal/cli"
	"github.com/netlab/netlab/lab/internal/cli/clitest"
)

// echo writes its arguments on stdout and the variable K on stderr, and
// exits with the number of its arguments.
func echo(_ context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fmt.Fprint(stdout, args)
	fmt.Fprintf(stderr, "K=%q", getenv("K"))
	return len(args)
}

func TestRun_ReturnsTheCodeAndBothOutputsWithNoEnvironment(t *testing.T) {
	code, stdout, stderr := clitest.Run(t.Context(), echo, "a", "b")
	if code != 2 || stdout != "[a b]" || stderr != `K=""` {
		t.Errorf("Run = %d, %q, %q; want 2, [a b], K=\"\"", code, stdout, stderr)
	}
}

func TestMain_RunsTheNamedSubcommand(t *testing.T) {
	commands := []cli.Command{{Name: "echo", Summary: "echo", Main: echo}}
	code, stdout, _ := clitest.Main(t, "prog", "about", commands, "echo", "x")
	if code != 1 || stdout != "[x]" {
		t.Errorf("Main = %d, %q; want echo's 1, [x]", code, stdout)
	}
	if code, _, stderr := clitest.Main(t, "prog", "about", commands, "nope"); code != cli.ExitUsage || stderr == "" {
		t.Errorf("an unknown subcommand = %d, %q; want exit 2 and a message", code, stderr)
	}
}

func TestMissing_IsEachStringTheTextLacks(t *testing.T) {
	if got := clitest.Missing("one two", "one", "three", "two", "four"); !slices.Equal(got, []string{"three", "four"}) {
		t.Errorf("Missing = %q, want three and four", got)
	}
	if got := clitest.Missing("one two", "one", "two", ""); got != nil {
		t.Errorf("Missing = %q, want none", got)
	}
}
