package exp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/internal/cli"
	"github.com/netlab/netlab/lab/internal/exp/render"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/runner"
	"github.com/netlab/netlab/lab/internal/exp/spec"
	"github.com/netlab/netlab/lab/internal/shape"
)

// Command is `netlab exp` on a Docker.
type Command struct{ Docker shape.Docker }

const runUsage = `usage: netlab exp run NAME|FILE.yaml [--quick] [--out DIR] [--seed N]
       netlab exp run --resume DIR

Runs a built-in experiment (netlab exp list) or a spec file in a compose
project of its own, and writes its outputs into DIR. Progress goes to
standard error; the files written to standard output. After every point
DIR holds partial.json and series.csv: a run that was interrupted or
failed goes on from the points it finished with --resume DIR.`

type runFlags struct {
	quick            bool
	out, composeFile string
	prefix, tag      string
	seed             int64
	healthWithin     time.Duration
	resume           string
}

func (c Command) run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	const prog = "netlab exp run"
	fs := cli.NewFlags(prog)
	var f runFlags
	fs.BoolVar(&f.quick, "quick", false, "the spec's quick form: few points, short workloads")
	fs.StringVar(&f.out, "out", "", "output `DIR` (default netlab-exp/NAME-TIME); must not exist or be empty")
	fs.Int64Var(&f.seed, "seed", 0, "seed of the random choices (the order of the points); 0: from the clock, recorded in the outputs")
	fs.StringVar(&f.composeFile, "compose-file", "", "the stack's docker-compose.yml (default: in this directory or above)")
	fs.StringVar(&f.prefix, "image-prefix", or(getenv("NETLAB_IMAGE_PREFIX"), "netlab"), "image repository prefix (env NETLAB_IMAGE_PREFIX)")
	fs.StringVar(&f.tag, "tag", or(getenv("NETLAB_TAG"), "dev"), "image tag (env NETLAB_TAG)")
	fs.DurationVar(&f.healthWithin, "health-timeout", 90*time.Second, "how long the stack may take to become healthy")
	fs.StringVar(&f.resume, "resume", "", "go on with the interrupted run in `DIR` (its spec, seed and quick form)")
	pos, code, ok := cli.ParseInterleaved(fs, args, runUsage, stdout, stderr)
	if !ok {
		return code
	}
	if f.resume != "" {
		return c.resumeRun(ctx, fs, pos, f, stdout, stderr)
	}
	if len(pos) != 1 {
		return cli.UsageError(stderr, prog, fmt.Errorf("want one NAME or FILE.yaml, got %d arguments", len(pos)))
	}
	s, err := load(pos[0])
	if err != nil {
		return exit(stderr, prog, err)
	}
	if f.seed == 0 {
		f.seed = time.Now().UnixNano() & (1<<53 - 1)
	}
	if f.out == "" {
		f.out = filepath.Join("netlab-exp", s.Name+"-"+time.Now().UTC().Format("20060102-150405"))
	}
	if err := emptyDir(f.out); err != nil {
		return cli.UsageError(stderr, prog, fmt.Errorf("out: %w", err))
	}
	return c.finish(ctx, s.Effective(f.quick), f, nil, stdout, stderr)
}

// finish runs s (as it runs: the quick form applied) into f.out, from
// the checkpoint when resuming, and reports the files written.
func (c Command) finish(ctx context.Context, s *spec.Spec, f runFlags, from *resumeState, stdout, stderr io.Writer) int {
	const prog = "netlab exp run"
	files, err := c.execute(ctx, s, f, from, stderr)
	for _, file := range files {
		fmt.Fprintln(stdout, "wrote "+file)
	}
	if err != nil {
		if _, serr := os.Stat(filepath.Join(f.out, CheckpointFile)); serr == nil {
			fmt.Fprintf(stderr, "%s: the points done are kept: go on with netlab exp run --resume %s\n", prog, f.out)
		}
		return cli.Failure(stderr, prog, err)
	}
	return cli.ExitOK
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func exit(stderr io.Writer, prog string, err error) int {
	var u *usageErr
	if errors.As(err, &u) {
		return cli.UsageError(stderr, prog, err)
	}
	return cli.Failure(stderr, prog, err)
}

// emptyDir makes dir, or accepts it when it exists and is empty: a run
// never writes over another's outputs.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return os.MkdirAll(dir, 0o755)
	case err != nil:
		return err
	case len(entries) > 0:
		return fmt.Errorf("%s is not empty", dir)
	}
	return nil
}

// execute runs s (as it runs) and writes every output; it returns the
// files written.
func (c Command) execute(ctx context.Context, eff *spec.Spec, f runFlags, from *resumeState, progress io.Writer) ([]string, error) {
	composeFile := f.composeFile
	if composeFile == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		if composeFile, err = runner.FindComposeFile(wd); err != nil {
			return nil, err
		}
	}
	compose, err := runner.FindCompose(ctx)
	if err != nil {
		return nil, err
	}
	p := &runner.Project{Name: runner.ProjectName(eff.Name), ComposeFile: composeFile, Compose: compose, Prefix: f.prefix, Tag: f.tag}
	var services []string
	for _, sv := range eff.Services {
		services = append(services, sv.Name)
	}
	env := environment(ctx, c.Docker, p, services)
	specPath := filepath.Join(f.out, render.SpecFile)
	cfg := runner.Config{Spec: eff, Quick: f.quick, Seed: f.seed, Project: p, Docker: c.Docker, Progress: progress,
		HealthWithin: f.healthWithin, Saved: func(cp *runner.Checkpoint, rows []result.Row) error { return saveCheckpoint(f.out, cp, rows) }}
	if from != nil {
		cfg.Resume, cfg.Prior = from.checkpoint, from.rows
	} else if err := writeSpec(specPath, eff, f, env); err != nil {
		return nil, err
	}
	files := []string{specPath}
	res, rows, err := runner.Run(ctx, cfg)
	if err != nil {
		return files, err
	}
	res.Environment = env
	more, err := writeOutputs(f.out, res, rows)
	if err == nil {
		err = os.Remove(filepath.Join(f.out, CheckpointFile))
	}
	return append(files, more...), err
}

// writeSpec writes the spec as it runs, headed by the run's settings, the
// versions and the machine as comments (the file still parses as a spec).
func writeSpec(path string, s *spec.Spec, f runFlags, env map[string]string) error {
	data, err := s.Marshal()
	if err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# netlab exp run %s, quick %v, seed %d, %s\n", s.Name, f.quick, f.seed, time.Now().UTC().Format(time.RFC3339))
	keys := slices.Sorted(maps.Keys(env))
	for _, k := range keys {
		fmt.Fprintf(&b, "# %s: %s\n", k, strings.ReplaceAll(env[k], "\n", " "))
	}
	b.Write(data)
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// writeOutputs writes result.json and series.csv, then renders the
// table, plots and report from them.
func writeOutputs(dir string, res *result.Result, rows []result.Row) ([]string, error) {
	var files []string
	write := func(name string, fn func(io.Writer) error) error {
		var b bytes.Buffer
		if err := fn(&b); err != nil {
			return err
		}
		path := filepath.Join(dir, name)
		files = append(files, path)
		return os.WriteFile(path, b.Bytes(), 0o644)
	}
	if err := write(render.ResultFile, res.WriteJSON); err != nil {
		return files, err
	}
	if err := write(render.SeriesFile, func(w io.Writer) error { return result.WriteCSV(w, rows) }); err != nil {
		return files, err
	}
	more, err := render.All(dir, res, rows)
	return append(files, more...), err
}
