package clientcli

import (
	"context"
	"fmt"
	"io"
)

// Invocation is a client's command line once checked: the mode it runs
// and what that needs.
type Invocation interface {
	// Run runs the mode with the run's output and returns the exit code.
	Run(ctx context.Context, out Output) int
}

// Launch is the Main every client shares once its flags f are declared:
// it parses args into f (printing the help, or naming a bad flag), turns
// the flags into the client's invocation with check (a usage error when
// check fails), sets up the output of the run and runs it.
func Launch[I Invocation](ctx context.Context, f *Flags, args []string, stdout, stderr io.Writer, check func() (I, error)) int {
	if code, ok := f.Parse(args, stdout, stderr); !ok {
		return code
	}
	inv, err := check()
	if err != nil {
		return f.UsageError(stderr, err.Error())
	}
	return inv.Run(ctx, f.Output(args, stdout, stderr))
}

// Output is where a client's run writes: its report on Stdout (whole
// lines from several goroutines at once), errors on Stderr, the interval
// report (--report-interval) and the saved record (--save).
type Output struct {
	Stdout, Stderr io.Writer
	JSON           bool      // --json
	Report         Reporting // the interval report, and the saved series
	prog           string
	saved          *Recorder
	record         io.Writer // where --save - writes
}

// Output sets up the output of one run of the client with args, once f is
// parsed and checked. With --save - the record is standard output's only
// content, so the report moves to standard error.
func (f *Flags) Output(args []string, stdout, stderr io.Writer) Output {
	o := Output{Stderr: stderr, JSON: f.json != nil && *f.json, prog: f.prog, record: stdout, saved: &Recorder{}}
	if f.save != nil && f.save.ToStdout() {
		stdout = stderr
	}
	o.Stdout = SyncWriter(stdout)
	if f.report != nil {
		o.Report = f.report.Reporting(o.Stdout, o.JSON)
	}
	if f.save != nil {
		o.saved, o.Report = f.save.Record(f.prog, args, o.Report)
	}
	return o
}

// Print writes res on Stdout, as JSON with --json.
func (o Output) Print(res Result) error { return Print(o.Stdout, o.JSON, res) }

// Save writes the saved record of res (--save); without --save it does
// nothing.
func (o Output) Save(res Savable) error { return o.saved.Write(o.record, res) }

// Fail reports err on Stderr as "prog: message" (see Failure) and returns
// ExitFailure.
func (o Output) Fail(err error) int { return Failure(o.Stderr, o.prog, err) }

// Notef writes a line about the run on Stderr: "prog: message".
func (o Output) Notef(format string, args ...any) {
	fmt.Fprintf(o.Stderr, "%s: %s\n", o.prog, fmt.Sprintf(format, args...))
}

// Failf reports a failure the run found in its result ("prog: 3 of 10
// probes failed") and returns ExitFailure.
func (o Output) Failf(format string, args ...any) int {
	o.Notef(format, args...)
	return ExitFailure
}

// UsageError reports that the invocation cannot run as given and returns
// ExitUsage.
func (o Output) UsageError(msg string) int { return UsageError(o.Stderr, o.prog, msg) }

// Answer ends a mode with one answer: it prints res, or reports err (or a
// failure to print), and returns the exit code.
func (o Output) Answer(res Result, err error) int {
	if err == nil {
		err = o.Print(res)
	}
	if err != nil {
		return o.Fail(err)
	}
	return 0
}

// Summary prints the summary of a long run and saves it (--save). A run
// that did not start (started false) has nothing to summarise: its err is
// reported instead. When ok is false the mode ends with code; else it
// goes on to judge the result.
func (o Output) Summary(res Savable, err error, started bool) (code int, ok bool) {
	if err != nil && !started {
		return o.Fail(err), false
	}
	_ = o.Print(res)
	if err := o.Save(res); err != nil {
		return o.Fail(err), false
	}
	return 0, true
}
