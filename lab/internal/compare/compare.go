// Package compare is `netlab compare`: saved client runs (--save) side by
// side, each after the first with its difference from the first, as a
// table or JSON, and with --plot charts of their latency distributions and
// throughput over time.
package compare

import (
	"context"
	"fmt"
	"io"

	"github.com/netlab/netlab/lab/internal/cli"
)

const usage = `usage: netlab compare [flags] BASE.json [RUN.json ...]

Compares 1 to 16 runs saved by a client's --save FILE (tcp-echo-client,
udp-client, http-client, peerctl): one column per run, and for each run
after the first its difference from the first (absolute and in percent).
Flags may come before or after the files; -- ends the flags.`

// Main runs netlab compare with args (the files and flags).
func Main(_ context.Context, args []string, stdout, stderr io.Writer, _ func(string) string) int {
	const prog = "netlab compare"
	fs := cli.NewFlags(prog)
	asJSON := fs.Bool("json", false, "print the comparison as one JSON object")
	plotDir := fs.String("plot", "", "write charts into `DIR` (latency CDF, latency by percentile, throughput over time; PNG and SVG)")
	files, code, ok := cli.ParseInterleaved(fs, args, usage, stdout, stderr)
	if !ok {
		return code
	}
	if len(files) == 0 || len(files) > MaxRuns {
		return cli.UsageError(stderr, prog, fmt.Errorf("want 1 to %d saved runs, got %d", MaxRuns, len(files)))
	}
	runs, err := Load(files)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return cli.ExitUsage
	}
	rep := NewReport(runs)
	if *plotDir != "" {
		written, notes, err := WritePlots(*plotDir, runs)
		if err != nil {
			return cli.Failure(stderr, prog, fmt.Errorf("--plot: %w", err))
		}
		rep.Plots, rep.Notes = written, append(rep.Notes, notes...)
	}
	if *asJSON {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return cli.Failure(stderr, prog, err)
	}
	return cli.ExitOK
}
