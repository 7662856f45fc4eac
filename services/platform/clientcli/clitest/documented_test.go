package clitest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/netlab/netlab/services/platform/clientcli/clitest"
)

const doc = `# Output

## Thing

Text before the table.

| key | type | meaning |
|---|---|---|
| ` + "`a`" + ` | number | the a |
| ` + "`b`" + ` | string, optional | the b |

## Other

| key | type | meaning |
|---|---|---|
| ` + "`z`" + ` | number | |
`

// recorder is a testing.TB that keeps failures instead of failing.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func TestDocumented(t *testing.T) {
	path := filepath.Join(t.TempDir(), "doc.md")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		obj     map[string]any
		wantBad bool
	}{
		{"all keys", map[string]any{"a": 1, "b": "x"}, false},
		{"optional key missing", map[string]any{"a": 1}, false},
		{"required key missing", map[string]any{"b": "x"}, true},
		{"undocumented key", map[string]any{"a": 1, "c": 2}, true},
		{"key of the next section", map[string]any{"a": 1, "z": 2}, true},
	} {
		r := &recorder{TB: t}
		clitest.Documented(r, path, "Thing", c.obj)
		if r.failed != c.wantBad {
			t.Errorf("%s: failed %v, want %v", c.name, r.failed, c.wantBad)
		}
	}
	r := &recorder{TB: t}
	clitest.Documented(r, path, "Missing", map[string]any{})
	if !r.failed {
		t.Error("a heading the document lacks passed")
	}
}
