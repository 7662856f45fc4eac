// Package clitest runs a client's Main in process, as clientcli.Run would
// run it, and checks tables of command lines against what the client must
// print and return:
//
//	clitest.RunCases(t, client.Main, []clitest.Case{
//		{Name: "help", Args: []string{"--help"}, Stdout: []string{"Usage: "}},
//		{Name: "bad flag", Args: []string{"--bogus"}, Code: 2, Stderr: "-bogus"},
//	})
package clitest

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/netlab/netlab/services/platform/clientcli"
)

// Run runs main with args, the environment env and empty standard input,
// and returns its exit code and output.
func Run(ctx context.Context, main clientcli.MainFunc, args []string, env map[string]string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = main(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// Case is one command line of a client and what it must do.
type Case struct {
	Name string
	Args []string
	Env  map[string]string
	Code int // the exit code
	// Stdout are pieces stdout must hold, in this order; with Exact,
	// stdout must be exactly their concatenation. With neither, stdout
	// must be empty.
	Stdout    []string
	Exact     bool
	NotStdout string // a piece stdout must not hold
	// Stderr is a piece stderr must hold; when empty, stderr must be.
	Stderr string
}

// RunCases runs every case as a subtest of its own and checks it. A usage
// error (exit 2) must end with the hint to run --help.
func RunCases(t *testing.T, main clientcli.MainFunc, cases []Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			code, stdout, stderr := Run(t.Context(), main, c.Args, c.Env)
			if code != c.Code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, c.Code, stderr)
			}
			c.checkStdout(t, stdout)
			if c.Stderr == "" && stderr != "" || !strings.Contains(stderr, c.Stderr) {
				t.Errorf("stderr %q, want %q", stderr, c.Stderr)
			}
			if c.Code == clientcli.ExitUsage && !strings.HasSuffix(stderr, " --help' for usage.\n") {
				t.Errorf("usage error without the help hint: %q", stderr)
			}
		})
	}
}

func (c Case) checkStdout(t *testing.T, stdout string) {
	t.Helper()
	if (c.Exact || c.Stdout == nil) && stdout != strings.Join(c.Stdout, "") {
		t.Errorf("stdout %q, want exactly %q", stdout, strings.Join(c.Stdout, ""))
	}
	rest := stdout
	for _, want := range c.Stdout {
		i := strings.Index(rest, want)
		if i < 0 {
			t.Errorf("stdout %q, want %q (in order)", stdout, want)
			return
		}
		rest = rest[i+len(want):]
	}
	if c.NotStdout != "" && strings.Contains(stdout, c.NotStdout) {
		t.Errorf("stdout %q holds %q", stdout, c.NotStdout)
	}
}

// Report is what a run with --report-interval and --json printed: one
// interval object a line, then the run's own summary object.
type Report struct {
	Intervals []clientcli.IntervalJSON
	Summary   []byte // the last line
}

// ParseReport splits stdout into the interval objects and the summary,
// and fails the test when a line before the last is not an interval or
// the last one is.
func ParseReport(t testing.TB, stdout string) Report {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	var r Report
	for _, line := range lines[:len(lines)-1] {
		var iv clientcli.IntervalJSON
		if err := json.Unmarshal([]byte(line), &iv); err != nil || iv.Type != "interval" {
			t.Fatalf("not an interval line (%v): %s", err, line)
		}
		r.Intervals = append(r.Intervals, iv)
	}
	r.Summary = []byte(lines[len(lines)-1])
	var last struct{ Type string }
	if err := json.Unmarshal(r.Summary, &last); err != nil || last.Type != "" {
		t.Fatalf("the last line is not a summary (%v): %s", err, r.Summary)
	}
	return r
}

// EveryOpTimed fails the test for each interval whose number of latencies
// is not its number of ops: every round trip, reply or request counted
// has its time.
func (r Report) EveryOpTimed(t testing.TB) {
	t.Helper()
	for _, iv := range r.Intervals {
		if iv.Latency.N != iv.Ops {
			t.Errorf("interval %+v: %d ops, %d latencies", iv, iv.Ops, iv.Latency.N)
		}
	}
}

// Sum adds the intervals up: sent, ops, bytes, lost, errors and the
// number of latencies.
func (r Report) Sum() clientcli.IntervalJSON {
	var s clientcli.IntervalJSON
	for _, iv := range r.Intervals {
		s.Sent += iv.Sent
		s.Ops += iv.Ops
		s.Bytes += iv.Bytes
		s.Lost += iv.Lost
		s.Errors += iv.Errors
		s.Latency.N += iv.Latency.N
	}
	return s
}
