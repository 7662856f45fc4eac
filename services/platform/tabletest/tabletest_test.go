package tabletest_test

import (
	"errors"
	"testing"

	"github.com/netlab/netlab/services/platform/tabletest"
	"github.com/netlab/netlab/services/platform/tbtest"
)

func TestErrAndResult(t *testing.T) {
	boom := errors.New("boom: bad port")
	for _, tt := range []struct {
		name     string
		check    func(tb testing.TB)
		wantFail bool
	}{
		{"Err: no error wanted, none", func(tb testing.TB) { wantErrWanted(tb, tabletest.Err(tb, "F()", nil, ""), false) }, false},
		{"Err: no error wanted, one", func(tb testing.TB) { tabletest.Err(tb, "F()", boom, "") }, true},
		{"Err: error wanted, it came", func(tb testing.TB) { wantErrWanted(tb, tabletest.Err(tb, "F()", boom, "bad port"), true) }, false},
		{"Err: error wanted, another came", func(tb testing.TB) { tabletest.Err(tb, "F()", boom, "no host") }, true},
		{"Err: error wanted, none came", func(tb testing.TB) { tabletest.Err(tb, "F()", nil, "bad port") }, true},
		{"Result: value as wanted", func(tb testing.TB) { tabletest.Result(tb, "F()", "a", nil, "a", "") }, false},
		{"Result: other value", func(tb testing.TB) { tabletest.Result(tb, "F()", "b", nil, "a", "") }, true},
		{"Result: error as wanted, value ignored", func(tb testing.TB) { tabletest.Result(tb, "F()", "b", boom, "a", "boom") }, false},
		{"Result: error instead of a value", func(tb testing.TB) { tabletest.Result(tb, "F()", "a", boom, "a", "") }, true},
		{"Result: value instead of an error", func(tb testing.TB) { tabletest.Result(tb, "F()", "a", nil, "a", "boom") }, true},
	} {
		if msgs := tbtest.Report(t, tt.check); (len(msgs) > 0) != tt.wantFail {
			t.Errorf("%s: reported %q, want a failure: %v", tt.name, msgs, tt.wantFail)
		}
	}
}

// wantErrWanted reports Err's result when it is not want.
func wantErrWanted(tb testing.TB, got, want bool) {
	if got != want {
		tb.Errorf("Err = %v, want %v", got, want)
	}
}
