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

// RunJSON runs main with args (which should ask for --json), fails the
// test unless it exits 0, and returns the objects it printed.
func RunJSON(t testing.TB, main clientcli.MainFunc, args ...string) []map[string]any {
	t.Helper()
	code, out, errOut := Run(t.Context(), main, args, nil)
	if code != 0 {
		t.Fatalf("%q: exit %d: %s", args, code, errOut)
	}
	return JSONLines(t, out)
}
