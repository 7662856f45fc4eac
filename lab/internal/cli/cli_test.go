package cli_test

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/internal/cli"
)

func TestMain_RunsTheNamedCommandWithTheRest(t *testing.T) {
	var gotArgs []string
	var gotEnv string
	commands := []cli.Command{
		{Name: "first", Summary: "not this one", Main: func(context.Context, []string, io.Writer, io.Writer, func(string) string) int {
			t.Error("the first command ran")
			return 0
		}},
		{Name: "second", Summary: "this one", Main: func(_ context.Context, args []string, stdout, _ io.Writer, getenv func(string) string) int {
			gotArgs, gotEnv = args, getenv("K")
			io.WriteString(stdout, "ran")
			return 7
		}},
	}
	var stdout, stderr strings.Builder
	code := cli.Main(t.Context(), "prog", "about prog", commands, []string{"second", "-x", "y"}, &stdout, &stderr,
		func(k string) string { return "value of " + k })
	if code != 7 || stdout.String() != "ran" || stderr.String() != "" {
		t.Errorf("Main = %d, %q, %q; want the command's code and output", code, stdout.String(), stderr.String())
	}
	if !slices.Equal(gotArgs, []string{"-x", "y"}) || gotEnv != "value of K" {
		t.Errorf("the command got %v and K=%q", gotArgs, gotEnv)
	}
	stdout.Reset()
	if code := cli.Main(t.Context(), "prog", "about prog", commands, []string{"help"}, &stdout, &stderr, nil); code != 0 ||
		!strings.Contains(stdout.String(), "about prog") || strings.Index(stdout.String(), "first") > strings.Index(stdout.String(), "second") {
		t.Errorf("help = %d:\n%s\nwant the commands in the table's order", code, stdout.String())
	}
}

func TestWriteJSON_OneIndentedDocument(t *testing.T) {
	var b strings.Builder
	if err := cli.WriteJSON(&b, map[string]any{"a": 1, "b": []int{2}}); err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"a\": 1,\n  \"b\": [\n    2\n  ]\n}\n"
	if b.String() != want {
		t.Errorf("WriteJSON = %q, want %q", b.String(), want)
	}
	if err := cli.WriteJSON(&b, func() {}); err == nil {
		t.Error("WriteJSON of a func: no error")
	}
}
