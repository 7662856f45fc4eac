package cli_test

import (
	"slices"
	"testing"

	"github.com/netlab/netlab/lab/internal/cli"
)

func TestInterleaved_FlagsAnywhereAndDashDashEnds(t *testing.T) {
	for _, c := range []struct {
		args    []string
		wantPos []string
		wantV   bool
	}{
		{[]string{"a", "-v", "b"}, []string{"a", "b"}, true},
		{[]string{"-v", "a"}, []string{"a"}, true},
		{[]string{"a", "--", "-v", "b"}, []string{"a", "-v", "b"}, false},
		{[]string{"--", "a"}, []string{"a"}, false},
	} {
		fs := cli.NewFlags("t")
		v := fs.Bool("v", false, "")
		pos, err := cli.Interleaved(fs, c.args)
		if err != nil || !slices.Equal(pos, c.wantPos) || *v != c.wantV {
			t.Errorf("%q: positional %q, -v %v, %v; want %q, %v", c.args, pos, *v, err, c.wantPos, c.wantV)
		}
	}
}
