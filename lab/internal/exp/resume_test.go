package exp_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/internal/exp/runner"
)

func TestRun_ResumeRefusesWhatItCannotResume(t *testing.T) {
	empty := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"run", "--resume", empty, "loss"}, "DIR only"},
		{[]string{"run", "--resume", empty, "--quick"}, "--quick"},
		{[]string{"run", "--resume", empty, "--seed", "3"}, "--seed"},
		{[]string{"run", "--resume", empty, "--out", "x"}, "--out"},
		{[]string{"run", "--resume", empty}, "not an unfinished run"},
	}
	for _, c := range cases {
		code, _, stderr := netlabExp(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "partial.json"), []byte(`{"schema":"other/1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := netlabExp(t, "run", "--resume", bad); code != 2 || !strings.Contains(stderr, "schema") {
		t.Errorf("a foreign partial.json: exit %d, %q", code, stderr)
	}
}

func TestCheckpoint_RoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "partial.json")
	cp := &runner.Checkpoint{Schema: runner.CheckpointSchema, Seed: 9, Quick: true, Mechanisms: []string{"m"},
		Done: []runner.Done{{Point: 1, Rep: 0, Figures: []runner.DoneFigure{{Workload: "udp", Client: "udp-probe"}}}}}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.WriteJSON(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got, err := runner.ReadCheckpoint(path)
	if err != nil || got.Seed != 9 || !got.Quick || len(got.Done) != 1 || got.Done[0].Point != 1 || got.Done[0].Figures[0].Workload != "udp" {
		t.Errorf("read back %+v, %v", got, err)
	}
}
