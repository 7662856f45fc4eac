// Package cli is the shape of the netlab command: subcommands from a
// table, their help, and one way to parse a subcommand's flags and report
// a bad one (exit 2, the flag named on stderr), and the form of a
// subcommand's JSON document.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
)

// Exit codes of every subcommand.
const (
	ExitOK      = 0
	ExitFailure = 1 // the run failed or a check did not hold
	ExitUsage   = 2 // bad subcommand, flag or setting
)

// MainFunc runs a subcommand with the arguments after its name and
// returns the exit code.
type MainFunc func(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int

// Command is one subcommand.
type Command struct {
	Name    string
	Summary string // one line for the command's help
	Main    MainFunc
}

// Main runs the subcommand args[0] names. "help", -h and --help print the
// list of subcommands on stdout; "help NAME" prints a subcommand's own
// help. No subcommand, or an unknown one, prints the list on stderr and
// returns ExitUsage.
func Main(ctx context.Context, prog, about string, commands []Command, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "%s: no command given\n\n", prog)
		usage(stderr, prog, about, commands)
		return ExitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if name == "help" && len(rest) > 0 {
			name, rest = rest[0], []string{"-h"}
			break
		}
		usage(stdout, prog, about, commands)
		return ExitOK
	}
	for _, c := range commands {
		if c.Name == name {
			return c.Main(ctx, rest, stdout, stderr, getenv)
		}
	}
	fmt.Fprintf(stderr, "%s: unknown command %q\n\n", prog, name)
	usage(stderr, prog, about, commands)
	return ExitUsage
}

func usage(w io.Writer, prog, about string, commands []Command) {
	fmt.Fprintf(w, "usage: %s <command> [flags]\n\n%s\n\ncommands:\n", prog, about)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.Name, c.Summary)
	}
	fmt.Fprintf(tw, "  help\tthis list; 'help <command>' for a command's flags\n")
	tw.Flush()
	fmt.Fprintf(w, "\nRun '%s <command> -h' for a command's flags.\n", prog)
}

// NewFlags is a flag set for the subcommand prog ("netlab bench") that
// writes nothing itself: Parse reports.
func NewFlags(prog string) *flag.FlagSet {
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// Parse parses args into fs. On -h it prints usage (a line or more about
// the command) and the flags on stdout and returns ExitOK, false. A bad
// flag, or an argument where none is taken, is reported on stderr with the
// flag named and returns ExitUsage, false. Otherwise it returns 0, true.
func Parse(fs *flag.FlagSet, args []string, usage string, stdout, stderr io.Writer) (code int, ok bool) {
	err := fs.Parse(args)
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return parsed(fs, err, usage, stdout, stderr)
}

// ParseInterleaved is Parse for a command that takes positional arguments
// (Interleaved): it returns them.
func ParseInterleaved(fs *flag.FlagSet, args []string, usage string, stdout, stderr io.Writer) (pos []string, code int, ok bool) {
	pos, err := Interleaved(fs, args)
	code, ok = parsed(fs, err, usage, stdout, stderr)
	return pos, code, ok
}

// parsed answers a parse's error: the usage on -h, a usage error, or ok.
func parsed(fs *flag.FlagSet, err error, usage string, stdout, stderr io.Writer) (code int, ok bool) {
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(stdout, "%s\n\nflags:\n", usage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		return ExitOK, false
	case err != nil:
		return UsageError(stderr, fs.Name(), err), false
	}
	return 0, true
}

// Interleaved parses args into fs with the flags before, between or after
// the positional arguments, which it returns in order; "--" ends the
// flags, and everything after it is positional.
func Interleaved(fs *flag.FlagSet, args []string) (pos []string, err error) {
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// UsageError reports a bad invocation of prog and returns ExitUsage.
func UsageError(stderr io.Writer, prog string, err error) int {
	fmt.Fprintf(stderr, "%s: %v\nRun '%s -h' for its flags.\n", prog, err, prog)
	return ExitUsage
}

// Failure reports why prog failed and returns ExitFailure.
func Failure(stderr io.Writer, prog string, err error) int {
	fmt.Fprintf(stderr, "%s: %v\n", prog, err)
	return ExitFailure
}

// Given says whether the flag name was set on the command line.
func Given(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// WriteJSON writes v as one indented JSON document, the form of every
// subcommand's --json output and saved document.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
