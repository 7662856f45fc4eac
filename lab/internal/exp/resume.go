package exp

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/netlab/netlab/lab/internal/cli"
	"github.com/netlab/netlab/lab/internal/exp/render"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/runner"
	"github.com/netlab/netlab/lab/internal/exp/spec"
)

// CheckpointFile is the checkpoint of a run not finished yet: the steps
// done, beside series.csv. A finished run removes it.
const CheckpointFile = "partial.json"

// resumeState is what an interrupted run left: its checkpoint and series.
type resumeState struct {
	checkpoint *runner.Checkpoint
	rows       []result.Row
}

// resumeRun goes on with the run in f.resume: its spec.yaml (as it ran),
// its seed and quick form from partial.json, its series so far.
func (c Command) resumeRun(ctx context.Context, fs *flag.FlagSet, pos []string, f runFlags, stdout, stderr io.Writer) int {
	const prog = "netlab exp run"
	if len(pos) > 0 {
		return cli.UsageError(stderr, prog, fmt.Errorf("--resume takes the run's DIR only, not %q", pos[0]))
	}
	for _, name := range []string{"quick", "seed", "out"} {
		if cli.Given(fs, name) {
			return cli.UsageError(stderr, prog, fmt.Errorf("--%s: a resumed run keeps the %s it began with", name, name))
		}
	}
	s, from, err := loadResume(f.resume)
	if err != nil {
		return cli.UsageError(stderr, prog, fmt.Errorf("--resume: %w", err))
	}
	f.out, f.seed, f.quick = f.resume, from.checkpoint.Seed, from.checkpoint.Quick
	return c.finish(ctx, s, f, from, stdout, stderr)
}

// loadResume reads the spec, the checkpoint and the series of dir.
func loadResume(dir string) (*spec.Spec, *resumeState, error) {
	cp, err := runner.ReadCheckpoint(filepath.Join(dir, CheckpointFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("%s has no %s: not an unfinished run", dir, CheckpointFile)
	}
	if err != nil {
		return nil, nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, render.SpecFile))
	if err != nil {
		return nil, nil, err
	}
	s, err := spec.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", render.SpecFile, err)
	}
	rows, err := result.ReadCSV(filepath.Join(dir, render.SeriesFile))
	if err != nil {
		return nil, nil, err
	}
	return s.Effective(false), &resumeState{checkpoint: cp, rows: rows}, nil
}

// saveCheckpoint writes partial.json and series.csv of a run so far,
// each through a temporary file so that an interruption never leaves a
// half-written one.
func saveCheckpoint(dir string, cp *runner.Checkpoint, rows []result.Row) error {
	if err := writeAtomic(filepath.Join(dir, render.SeriesFile), func(w io.Writer) error { return result.WriteCSV(w, rows) }); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, CheckpointFile), cp.WriteJSON)
}

func writeAtomic(path string, fn func(io.Writer) error) error {
	var b bytes.Buffer
	if err := fn(&b); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
