package clientcli_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netlab/netlab/services/platform/clientcli"
)

// fakeInvocation records the output its Run was given.
type fakeInvocation struct {
	out  *clientcli.Output
	code int
}

func (i fakeInvocation) Run(_ context.Context, out clientcli.Output) int {
	*i.out = out
	return i.code
}

func TestLaunch(t *testing.T) {
	tests := []struct {
		name, stdout, stderr string
		args                 []string
		checkErr             error
		code                 int
		ran, json            bool
	}{
		{name: "runs with text output", args: []string{"--load"}, code: 7, ran: true},
		{name: "runs with JSON output", args: []string{"--json", "--load"}, code: 7, ran: true, json: true},
		{name: "help", args: []string{"--help"}, stdout: "Usage: tool\n"},
		{name: "bad flag", args: []string{"--bogus"}, code: clientcli.ExitUsage, stderr: "tool: flag provided but not defined: -bogus\n"},
		{name: "check fails", args: []string{"--load"}, checkErr: errors.New("invalid --load"), code: clientcli.ExitUsage, stderr: "tool: invalid --load\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := clientcli.NewFlags("tool", "Usage: tool\n")
			f.Bool("load", false, "")
			f.JSON()
			var out clientcli.Output
			var stdout, stderr bytes.Buffer
			code := clientcli.Launch(t.Context(), f, tt.args, &stdout, &stderr, func() (fakeInvocation, error) {
				return fakeInvocation{out: &out, code: 7}, tt.checkErr
			})
			if code != tt.code {
				t.Errorf("exit code %d, want %d", code, tt.code)
			}
			if ran := out.Stdout != nil; ran != tt.ran || out.JSON != tt.json {
				t.Errorf("ran %v with JSON %v, want %v and %v", ran, out.JSON, tt.ran, tt.json)
			}
			checkStreams(t, &stdout, &stderr, tt.stdout, tt.stderr)
		})
	}
}

// checkStreams checks that stdout is want and stderr starts with
// wantErrPrefix (is empty when that is "").
func checkStreams(t *testing.T, stdout, stderr *bytes.Buffer, want, wantErrPrefix string) {
	t.Helper()
	if stdout.String() != want || !strings.HasPrefix(stderr.String(), wantErrPrefix) || wantErrPrefix == "" && stderr.Len() > 0 {
		t.Errorf("stdout %q, stderr %q; want %q and %q", stdout.String(), stderr.String(), want, wantErrPrefix)
	}
}

// output returns the Output of a run of tool with args, writing on the
// buffers.
func output(t *testing.T, stdout, stderr *bytes.Buffer, args ...string) clientcli.Output {
	t.Helper()
	f := clientcli.NewFlags("tool", "Usage: tool\n")
	f.Bool("load", false, "")
	f.JSON()
	save := f.Save()
	if err := f.ParseArgs(args, stderr); err != nil {
		t.Fatal(err)
	}
	if err := save.Check("load"); err != nil {
		t.Fatal(err)
	}
	return f.Output(args, stdout, stderr)
}

// How a mode ends its run: Answer for one answer, Summary for a long run,
// the messages for what it found.
func TestOutput_EndsARun(t *testing.T) {
	run := newFakeRun()
	unwritable := filepath.Join(t.TempDir(), "no such dir", "run.json")
	answer := func(err error) func(clientcli.Output) string {
		return func(o clientcli.Output) string { return fmt.Sprint(o.Answer(run, err)) }
	}
	summary := func(err error, started bool) func(clientcli.Output) string {
		return func(o clientcli.Output) string { return fmt.Sprint(o.Summary(run, err, started)) }
	}
	tests := []struct {
		name, want, stdout, stderr string
		args                       []string
		call                       func(clientcli.Output) string
	}{
		{"answer as text", "0", "done\n", "", nil, answer(nil)},
		{"answer as JSON", "0", `{"mode":"load","ops":2000}` + "\n", "", []string{"--json"}, answer(nil)},
		{"no answer", "1", "", "tool: no reply\n", nil, answer(errors.New("no reply"))},
		{"no answer: interrupted", "1", "", "tool: interrupted\n", nil, answer(fmt.Errorf("send: %w", context.Canceled))},
		{"a run is summarised", "0 true", "done\n", "", []string{"--load"}, summary(nil, true)},
		{"an interrupted run is summarised", "0 true", "done\n", "", []string{"--load"}, summary(context.Canceled, true)},
		{"a run that did not start is not", "1 false", "", "tool: cannot reach h:1\n", []string{"--load"}, summary(errors.New("cannot reach h:1"), false)},
		{"a record that cannot be written fails", "1 false", "done\n", "tool: ", []string{"--load", "--save", unwritable}, summary(nil, true)},
		{"a notice", "", "", "tool: stopped after 10 bytes\n", nil, func(o clientcli.Output) string { o.Notef("stopped after %d bytes", 10); return "" }},
		{"a failure found", "1", "", "tool: 1 of 3 failed\n", nil, func(o clientcli.Output) string { return fmt.Sprint(o.Failf("%d of %d failed", 1, 3)) }},
		{"a failure", "1", "", "tool: no reply\n", nil, func(o clientcli.Output) string { return fmt.Sprint(o.Fail(errors.New("no reply"))) }},
		{"a usage error", "2", "", "tool: bad URL\nRun 'tool --help' for usage.\n", nil, func(o clientcli.Output) string { return fmt.Sprint(o.UsageError("bad URL")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := tt.call(output(t, &stdout, &stderr, tt.args...)); got != tt.want {
				t.Errorf("returned %q, want %q", got, tt.want)
			}
			checkStreams(t, &stdout, &stderr, tt.stdout, tt.stderr)
		})
	}
}
