package clitest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/clientcli/clitest"
	"github.com/netlab/netlab/services/platform/tbtest"
)

// echoMain is a client that prints its arguments and GREETING, reports
// "bad" as a usage error and "fail" as a failure.
func echoMain(_ context.Context, args []string, getenv func(string) string, _ io.Reader, stdout, stderr io.Writer) int {
	switch {
	case len(args) > 0 && args[0] == "bad":
		return clientcli.UsageError(stderr, "echo", "bad usage")
	case len(args) > 0 && args[0] == "fail":
		return clientcli.Failure(stderr, "echo", fmt.Errorf("it failed"))
	}
	fmt.Fprintf(stdout, "%s %s\n", getenv("GREETING"), strings.Join(args, " "))
	return 0
}

func TestRunCases(t *testing.T) {
	clitest.RunCases(t, echoMain, []clitest.Case{
		{Name: "exact", Args: []string{"a", "b"}, Env: map[string]string{"GREETING": "hi"}, Stdout: []string{"hi a b\n"}, Exact: true},
		{Name: "in order", Args: []string{"x", "y", "z"}, Stdout: []string{" x", "z\n"}, NotStdout: "w"},
		{Name: "usage", Args: []string{"bad"}, Code: 2, Stderr: "echo: bad usage\n"},
		{Name: "failure", Args: []string{"fail"}, Code: 1, Stderr: "echo: it failed\n"},
	})
	if code, stdout, stderr := clitest.Run(t.Context(), echoMain, []string{"q"}, nil); code != 0 || stdout != " q\n" || stderr != "" {
		t.Errorf("Run = %d, %q, %q", code, stdout, stderr)
	}
}

func TestParseReport(t *testing.T) {
	stdout := `{"type":"interval","sent":3,"ops":2,"bytes":20,"lost":1,"errors":0,"latency":{"n":2}}
{"type":"interval","sent":1,"ops":2,"bytes":20,"lost":-1,"errors":1,"latency":{"n":2}}
{"mode":"load","ops":4}
`
	r := clitest.ParseReport(t, stdout)
	s := r.Sum()
	if len(r.Intervals) != 2 || string(r.Summary) != `{"mode":"load","ops":4}` ||
		s.Sent != 4 || s.Ops != 4 || s.Bytes != 40 || s.Lost != 0 || s.Errors != 1 || s.Latency.N != 4 {
		t.Errorf("report %+v, sum %+v", r, s)
	}
}

func TestMustRun(t *testing.T) {
	if stdout, stderr := clitest.MustRun(t, echoMain, 0, "a"); stdout != " a\n" || stderr != "" {
		t.Errorf("MustRun = %q, %q", stdout, stderr)
	}
	if _, stderr := clitest.MustRun(t, echoMain, 1, "fail"); stderr != "echo: it failed\n" {
		t.Errorf("MustRun of a failure = stderr %q", stderr)
	}
	if msgs := tbtest.Report(t, func(tb testing.TB) { clitest.MustRun(tb, echoMain, 0, "fail") }); len(msgs) == 0 {
		t.Error("MustRun passed exit 1 where 0 was wanted")
	}
}

func TestRunObject(t *testing.T) {
	var v struct{ A int }
	if line := clitest.RunObject(t, echoMain, 0, &v, `{"a":7}`); v.A != 7 || line != " {\"a\":7}\n" {
		t.Errorf("RunObject = %q, decoded %+v", line, v)
	}
	for _, args := range [][]string{{"fail"}, {"not json"}, {"{}\n{}"}} {
		if msgs := tbtest.Report(t, func(tb testing.TB) { clitest.RunObject(tb, echoMain, 0, &v, args...) }); len(msgs) == 0 {
			t.Errorf("RunObject(%q) passed", args)
		}
	}
}

func TestReport_EveryOpTimed(t *testing.T) {
	r := clitest.ParseReport(t, `{"type":"interval","ops":2,"latency":{"n":2}}
{"type":"interval","ops":0,"latency":{"n":0}}
{}
`)
	r.EveryOpTimed(t)
	r.Intervals[1].Ops = 1
	if msgs := tbtest.Report(t, r.EveryOpTimed); len(msgs) != 1 {
		t.Error("an interval with an op and no latency passed")
	}
}

func TestRunSaved(t *testing.T) {
	line, err := json.Marshal(clientcli.Record{Schema: clientcli.RecordSchema, Label: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if rec, stderr := clitest.RunSaved(t, echoMain, string(line)); rec.Label != "x" || stderr != "" {
		t.Errorf("RunSaved = %+v, %q", rec, stderr)
	}
	for _, args := range [][]string{{"fail"}, {"{}"}, {string(line) + "\n" + string(line)}} {
		if msgs := tbtest.Report(t, func(tb testing.TB) { clitest.RunSaved(tb, echoMain, args...) }); len(msgs) == 0 {
			t.Errorf("RunSaved(%q) passed", args)
		}
	}
}
