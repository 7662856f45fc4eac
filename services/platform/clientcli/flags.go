package clientcli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Flags declares and checks the flags of a client. It is a flag.FlagSet
// (declare flags with its String, Int, Duration, Var … methods) that
//   - takes flags before and after positional arguments, as `http-client
//     URL --raw`; "--" ends the flags, so what follows is positional;
//   - prints the usage on stdout for -h and --help (exit 0) and reports a
//     bad flag on stderr (exit 2);
//   - knows which flags were given (Given), and checks that a flag comes
//     with the mode it needs (Needs) or without the ones it excludes
//     (Excludes), with errors that name the flags as the user typed them;
//   - keeps an old name of a flag working (Alias) with a one-line notice.
type Flags struct {
	*flag.FlagSet
	prog, usage string
	aliases     map[string]string // old name -> flag name
	typed       map[string]string // flag name -> the name it was given as
	args        []string          // positional arguments
	report      *ReportFlag       // --report-interval, once declared
	save        *SaveFlag         // --save, once declared
	json        *bool             // --json, once declared
}

// NewFlags returns the flags of prog, whose help text is usage.
func NewFlags(prog, usage string) *Flags {
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &Flags{FlagSet: fs, prog: prog, usage: usage, aliases: map[string]string{}, typed: map[string]string{}}
}

// Alias declares old as a deprecated name of the flag name, declared
// before: it sets the same value, counts as name for Given, Needs and
// Excludes, and Parse prints "prog: --old is deprecated; use --name" on
// stderr when it is used.
func (f *Flags) Alias(old, name string) {
	target := f.Lookup(name)
	if target == nil {
		panic("clientcli: alias of undeclared flag --" + name)
	}
	v := flag.Value(aliasValue{target.Value})
	if b, ok := target.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		v = boolAliasValue{aliasValue{target.Value}}
	}
	f.Var(v, old, "")
	f.aliases[old] = name
}

type aliasValue struct{ flag.Value }

type boolAliasValue struct{ aliasValue }

func (boolAliasValue) IsBoolFlag() bool { return true }

// Parse parses args. It returns ok true when the client should go on; else
// code is the exit code: 0 after printing the usage for -h or --help, 2
// after reporting a bad flag.
func (f *Flags) Parse(args []string, stdout, stderr io.Writer) (code int, ok bool) {
	return f.parse(args, true, stdout, stderr)
}

// ParseCommand is Parse for a client with commands (`peerctl --node A get
// ID`): flags only come before the first positional argument, the command,
// and everything from it on is left in Args for the command's own flags.
func (f *Flags) ParseCommand(args []string, stdout, stderr io.Writer) (code int, ok bool) {
	return f.parse(args, false, stdout, stderr)
}

func (f *Flags) parse(args []string, interleaved bool, stdout, stderr io.Writer) (int, bool) {
	err := f.parseArgs(args, interleaved)
	if err == nil {
		err = f.given(stderr)
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, f.usage)
		return 0, false
	case err != nil:
		return f.UsageError(stderr, err.Error()), false
	}
	return 0, true
}

// ParseArgs is Parse for a caller that reports errors itself (a command's
// own flags): it returns flag.ErrHelp for -h and --help, or the error of a
// bad flag, and prints only the notices of deprecated names on stderr.
func (f *Flags) ParseArgs(args []string, stderr io.Writer) error {
	if err := f.parseArgs(args, true); err != nil {
		return err
	}
	return f.given(stderr)
}

// given records which flags were given and as what, saying so for the
// deprecated names.
func (f *Flags) given(stderr io.Writer) error {
	f.Visit(func(fl *flag.Flag) {
		name := fl.Name
		if target, ok := f.aliases[name]; ok {
			fmt.Fprintf(stderr, "%s: --%s is deprecated; use --%s\n", f.prog, name, target)
			name = target
		}
		if prev, ok := f.typed[name]; ok && prev != fl.Name {
			f.typed[name] = prev + " and --" + fl.Name
			return
		}
		f.typed[name] = fl.Name
	})
	for _, as := range f.typed {
		if strings.Contains(as, " and --") {
			return fmt.Errorf("--%s are the same flag: give one", as)
		}
	}
	return nil
}

// parseArgs collects the positional arguments between the flags.
func (f *Flags) parseArgs(args []string, interleaved bool) error {
	for {
		if err := f.FlagSet.Parse(args); err != nil {
			return err
		}
		rest := f.FlagSet.Args()
		if !interleaved || f.endedByDashDash(args[:len(args)-len(rest)]) {
			f.args = append(f.args, rest...)
			return nil
		}
		if len(rest) == 0 {
			return nil
		}
		f.args = append(f.args, rest[0])
		args = rest[1:]
	}
}

// endedByDashDash reports whether the flag package stopped at a "--" in
// parsed (and not at a "--" that was the value of a flag).
func (f *Flags) endedByDashDash(parsed []string) bool {
	for i := 0; i < len(parsed); i++ {
		a := parsed[i]
		if a == "--" {
			return true
		}
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if fl := f.Lookup(name); fl != nil {
			if b, ok := fl.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
				i++ // the flag's value
			}
		}
	}
	return false
}

// Args returns the positional arguments.
func (f *Flags) Args() []string { return f.args }

// Given reports whether the flag name (or a deprecated name of it) was on
// the command line.
func (f *Flags) Given(name string) bool {
	_, ok := f.typed[name]
	return ok
}

// As returns the name of the flag name as it was given (a deprecated
// name, when that was used), for messages such as "invalid --sockets 0".
func (f *Flags) As(name string) string {
	if as, ok := f.typed[name]; ok {
		return as
	}
	return name
}

// on reports whether the flag name was given and, for a bool flag, set:
// `--load=false` turns no mode on, so it needs nothing and excludes
// nothing.
func (f *Flags) on(name string) bool {
	if !f.Given(name) {
		return false
	}
	if g, ok := f.Lookup(name).Value.(flag.Getter); ok {
		if b, isBool := g.Get().(bool); isBool {
			return b
		}
	}
	return true
}

// Needs returns an error when the flag name was given but none of modes
// was: "--interval needs --count", "--size needs --count or --load". A bool
// flag given as false counts as not given here.
func (f *Flags) Needs(name string, modes ...string) error {
	if !f.on(name) {
		return nil
	}
	for _, m := range modes {
		if f.on(m) {
			return nil
		}
	}
	return fmt.Errorf("--%s needs --%s", f.typed[name], strings.Join(modes, " or --"))
}

// Excludes returns an error when the flag name was given with any of
// others: "--load cannot be combined with --bulk". A bool flag given as
// false counts as not given here.
func (f *Flags) Excludes(name string, others ...string) error {
	if !f.on(name) {
		return nil
	}
	for _, o := range others {
		if f.on(o) {
			return fmt.Errorf("--%s cannot be combined with --%s", f.typed[name], f.typed[o])
		}
	}
	return nil
}

// UsageError reports a bad invocation of the client and returns ExitUsage.
func (f *Flags) UsageError(stderr io.Writer, msg string) int {
	return UsageError(stderr, f.prog, msg)
}

// JSON declares --json (print the result as JSON) on f; the Output of a
// run follows it.
func (f *Flags) JSON() *bool {
	f.json = f.Bool("json", false, "")
	return f.json
}

// The range --report-interval accepts.
const (
	MinReportInterval = 10 * time.Millisecond
	MaxReportInterval = time.Hour
)

// ReportFlag is the --report-interval flag of a client.
type ReportFlag struct {
	f     *Flags
	every time.Duration
}

// ReportInterval declares --report-interval on f.
func (f *Flags) ReportInterval() *ReportFlag {
	r := &ReportFlag{f: f}
	f.DurationVar(&r.every, "report-interval", 0, "")
	f.report = r
	return r
}

// Check returns an error when --report-interval was given without one of
// modes (the long-running modes that report; none: any will do) or
// outside its range.
func (r *ReportFlag) Check(modes ...string) error {
	if len(modes) > 0 {
		if err := r.f.Needs("report-interval", modes...); err != nil {
			return err
		}
	}
	if r.f.Given("report-interval") && (r.every < MinReportInterval || r.every > MaxReportInterval) {
		return fmt.Errorf("invalid --report-interval %s: must be between %s and %s", r.every, MinReportInterval, MaxReportInterval)
	}
	return nil
}

// Reporting is the report the flag asks for, printed on w (see
// SyncWriter) as text or JSON lines; the zero Reporting when not given.
func (r *ReportFlag) Reporting(w io.Writer, asJSON bool) Reporting {
	return Reporting{Every: r.every, Emit: Printer(w, asJSON)}
}
