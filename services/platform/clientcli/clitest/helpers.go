package clitest

import (
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
)

// JSONLines decodes a client's --json output: one object per line.
func JSONLines(t testing.TB, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var o map[string]any
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		objs = append(objs, o)
	}
	return objs
}

// Object is obj[key] as a JSON object, failing the test when it is not.
func Object(t testing.TB, obj map[string]any, key string) map[string]any {
	t.Helper()
	v, ok := obj[key].(map[string]any)
	if !ok {
		t.Fatalf("%s is %T, want an object", key, obj[key])
	}
	return v
}

// ReadRecordFile reads a run saved with --save FILE.
func ReadRecordFile(t testing.TB, path string) clientcli.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, err := clientcli.ReadRecord(f)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// RunSaved runs main with args, which should end in --save -, fails the
// test unless it exits 0 with one line on standard output, and returns the
// record that line holds and standard error, where the report went.
func RunSaved(t testing.TB, main clientcli.MainFunc, args ...string) (rec clientcli.Record, stderr string) {
	t.Helper()
	stdout, stderr := MustRun(t, main, 0, args...)
	if strings.Count(stdout, "\n") != 1 {
		t.Fatalf("%q: want the record alone on one line, got %q", args, stdout)
	}
	rec, err := clientcli.ReadRecord(strings.NewReader(stdout))
	if err != nil {
		t.Fatalf("%q: %v: %s", args, err, stdout)
	}
	return rec, stderr
}

// StallOnce is a test server's delay before each answer: none, except for
// the first answer once after has passed since StallOnce was called,
// which waits stall — the server that stalls in the middle of a run of the
// coordinated-omission tests.
func StallOnce(after, stall time.Duration) func() time.Duration {
	start := time.Now()
	var once sync.Once
	return func() time.Duration {
		d := time.Duration(0)
		if time.Since(start) > after {
			once.Do(func() { d = stall })
		}
		return d
	}
}

// MustRun runs main with args, no environment and the test's context,
// fails the test at once unless it exits with code, and returns what it
// printed.
func MustRun(t testing.TB, main clientcli.MainFunc, code int, args ...string) (stdout, stderr string) {
	t.Helper()
	got, stdout, stderr := Run(t.Context(), main, args, nil)
	if got != code {
		t.Fatalf("%q: exit %d, want %d; stderr: %s", args, got, code, stderr)
	}
	return stdout, stderr
}

// RunJSON runs main with args (which should ask for --json), fails the
// test unless it exits 0, and returns the objects it printed.
func RunJSON(t testing.TB, main clientcli.MainFunc, args ...string) []map[string]any {
	t.Helper()
	out, _ := MustRun(t, main, 0, args...)
	return JSONLines(t, out)
}

// RunObject runs main as MustRun does, fails the test unless it printed
// exactly one line, and decodes that line, a JSON object, into v. It
// returns the line for the test's messages.
func RunObject(t testing.TB, main clientcli.MainFunc, code int, v any, args ...string) (stdout string) {
	t.Helper()
	stdout, _ = MustRun(t, main, code, args...)
	if strings.Count(stdout, "\n") != 1 || !strings.HasSuffix(stdout, "\n") {
		t.Fatalf("%q: want one line of JSON, got %q", args, stdout)
	}
	if err := json.Unmarshal([]byte(stdout), v); err != nil {
		t.Fatalf("%q: %v: %s", args, err, stdout)
	}
	return stdout
}
