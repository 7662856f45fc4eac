// Package exp is `netlab exp`: list the built-in experiments, run one (a
// built-in by name or a spec file) into an output directory of tables,
// series, plots and a report, and render a run's report again.
package exp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/netlab/netlab/lab/experiments"
	"github.com/netlab/netlab/lab/internal/cli"
	"github.com/netlab/netlab/lab/internal/exp/render"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
)

const usage = `usage: netlab exp list
       netlab exp run NAME|FILE.yaml [--quick] [--out DIR] [--seed N]
       netlab exp report DIR

An experiment starts its own compose project (every published port on a
free host port), shapes and loads it, and writes spec.yaml, result.json,
series.csv, table.md, plots (PNG, SVG) and report.html into DIR; it tears
the project down at the end, on failure and on Ctrl-C. The built-in specs
are the files in lab/experiments/: copy one to make your own.`

// Main is `netlab exp`.
func (c Command) Main(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		return cli.UsageError(stderr, "netlab exp", errors.New("want a subcommand: list, run or report"))
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return cli.ExitOK
	case "list":
		return list(args[1:], stdout, stderr)
	case "run":
		return c.run(ctx, args[1:], stdout, stderr, getenv)
	case "report":
		return report(args[1:], stdout, stderr)
	}
	return cli.UsageError(stderr, "netlab exp", fmt.Errorf("unknown subcommand %q: want list, run or report", args[0]))
}

// Builtins are the built-in specs, by name.
func Builtins() (map[string]*spec.Spec, error) {
	out := map[string]*spec.Spec{}
	err := fs.WalkDir(experiments.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".yaml" {
			return err
		}
		data, err := experiments.FS.ReadFile(path)
		if err != nil {
			return err
		}
		s, err := spec.Parse(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("built-in %s: %w", path, err)
		}
		out[s.Name] = s
		return nil
	})
	return out, err
}

func list(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		return cli.UsageError(stderr, "netlab exp list", fmt.Errorf("unexpected argument %q", args[0]))
	}
	specs, err := Builtins()
	if err != nil {
		return cli.Failure(stderr, "netlab exp list", err)
	}
	names := slices.Sorted(maps.Keys(specs))
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tFULL\tQUICK\tTITLE")
	for _, n := range names {
		s := specs[n]
		fmt.Fprintf(tw, "%s\t~%v\t~%v\t%s\n", n, s.Estimate(false).Round(time.Second), s.Estimate(true).Round(time.Second), s.Title)
	}
	tw.Flush()
	fmt.Fprintln(stdout, "\nThe specs are lab/experiments/NAME.yaml: copy one, edit it, and run netlab exp run FILE.yaml.")
	return cli.ExitOK
}

// load is a built-in by name, or a spec file; a bad spec is a usage
// error naming the field.
func load(arg string) (*spec.Spec, error) {
	if !strings.HasSuffix(arg, ".yaml") && !strings.HasSuffix(arg, ".yml") && !strings.ContainsRune(arg, os.PathSeparator) {
		specs, err := Builtins()
		if err != nil {
			return nil, err
		}
		if s, ok := specs[arg]; ok {
			return s, nil
		}
		names := slices.Sorted(maps.Keys(specs))
		return nil, &usageErr{fmt.Errorf("no built-in experiment %q (there are %s; or give a FILE.yaml)", arg, strings.Join(names, ", "))}
	}
	f, err := os.Open(arg)
	if err != nil {
		return nil, &usageErr{err}
	}
	defer f.Close()
	s, err := spec.Parse(f)
	if err != nil {
		return nil, &usageErr{fmt.Errorf("%s: %w", arg, err)}
	}
	return s, nil
}

type usageErr struct{ error }

func (u *usageErr) Unwrap() error { return u.error }

func report(args []string, stdout, stderr io.Writer) int {
	const prog = "netlab exp report"
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(stdout, "usage: netlab exp report DIR\n\nRenders table.md, the plots and report.html of a run again from its result.json and series.csv.")
			return cli.ExitOK
		}
		return cli.UsageError(stderr, prog, errors.New("want one DIR, the output of netlab exp run"))
	}
	files, err := Rerender(args[0])
	if err != nil {
		return cli.Failure(stderr, prog, err)
	}
	for _, f := range files {
		fmt.Fprintln(stdout, "wrote "+f)
	}
	return cli.ExitOK
}

// Rerender renders dir's table, plots and report from its result.json
// and series.csv (the repetitions are taken from the series).
func Rerender(dir string) ([]string, error) {
	r, err := result.ReadFile(filepath.Join(dir, render.ResultFile))
	if err != nil {
		return nil, err
	}
	rows, err := result.ReadCSV(filepath.Join(dir, render.SeriesFile))
	if err != nil {
		return nil, err
	}
	if err := r.FromSeries(rows); err != nil {
		return nil, err
	}
	return render.All(dir, r, rows)
}
