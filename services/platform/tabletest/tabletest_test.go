package tabletest_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/netlab/netlab/services/platform/tabletest"
)

// recorder keeps what a check reports instead of stopping the test.
type recorder struct {
	testing.TB
	msgs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func TestErr(t *testing.T) {
	boom := errors.New("boom: bad port")
	for _, tt := range []struct {
		name       string
		err        error
		wantErr    string
		wantWanted bool
		wantFail   bool
	}{
		{"no error wanted, none", nil, "", false, false},
		{"no error wanted, one", boom, "", false, true},
		{"error wanted, it came", boom, "bad port", true, false},
		{"error wanted, another came", boom, "no host", true, true},
		{"error wanted, none came", nil, "bad port", true, true},
	} {
		r := &recorder{TB: t}
		if wanted := tabletest.Err(r, "Parse(x)", tt.err, tt.wantErr); wanted != tt.wantWanted || (len(r.msgs) > 0) != tt.wantFail {
			t.Errorf("%s: Err = %v, reported %q", tt.name, wanted, r.msgs)
		}
	}
}

func TestResult(t *testing.T) {
	boom := errors.New("boom")
	for _, tt := range []struct {
		name     string
		got      string
		err      error
		want     string
		wantErr  string
		wantFail bool
	}{
		{"value as wanted", "a", nil, "a", "", false},
		{"other value", "b", nil, "a", "", true},
		{"error as wanted, value ignored", "b", boom, "a", "boom", false},
		{"error instead of a value", "a", boom, "a", "", true},
		{"value instead of an error", "a", nil, "a", "boom", true},
	} {
		r := &recorder{TB: t}
		if tabletest.Result(r, "F()", tt.got, tt.err, tt.want, tt.wantErr); (len(r.msgs) > 0) != tt.wantFail {
			t.Errorf("%s: reported %q", tt.name, r.msgs)
		}
	}
}
