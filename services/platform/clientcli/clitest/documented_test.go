package clitest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/netlab/netlab/services/platform/clientcli/clitest"
	"github.com/netlab/netlab/services/platform/tbtest"
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
		msgs := tbtest.Report(t, func(tb testing.TB) { clitest.Documented(tb, path, "Thing", c.obj) })
		if failed := len(msgs) > 0; failed != c.wantBad {
			t.Errorf("%s: failed %v (%q), want %v", c.name, failed, msgs, c.wantBad)
		}
	}
	if msgs := tbtest.Report(t, func(tb testing.TB) { clitest.Documented(tb, path, "Missing", map[string]any{}) }); len(msgs) == 0 {
		t.Error("a heading the document lacks passed")
	}
}
