package clientcli

import "io"

// Start is the beginning every client's Main shares: it parses args into f
// (printing the help, or naming a bad flag) and turns the flags into the
// client's invocation with check. When ok is false, Main returns code.
func Start[I any](f *Flags, args []string, stdout, stderr io.Writer, check func() (I, error)) (inv I, code int, ok bool) {
	if code, ok := f.Parse(args, stdout, stderr); !ok {
		return inv, code, false
	}
	inv, err := check()
	if err != nil {
		return inv, f.UsageError(stderr, err.Error()), false
	}
	return inv, 0, true
}

// Output is where a client's run writes: its report on Stdout (whole
// lines from several goroutines at once), errors on Stderr, the interval
// report (--report-interval) and the saved record (--save).
type Output struct {
	Stdout, Stderr io.Writer
	JSON           bool      // --json
	Report         Reporting // the interval report, and the saved series
	saved          *Recorder
	record         io.Writer // where --save - writes
}

// Output sets up the output of one run of the client with args, once f is
// parsed and checked. With --save - the record is standard output's only
// content, so the report moves to standard error.
func (f *Flags) Output(args []string, stdout, stderr io.Writer, asJSON bool) Output {
	o := Output{Stderr: stderr, JSON: asJSON, record: stdout, saved: &Recorder{}}
	if f.save != nil && f.save.ToStdout() {
		stdout = stderr
	}
	o.Stdout = SyncWriter(stdout)
	if f.report != nil {
		o.Report = f.report.Reporting(o.Stdout, asJSON)
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
