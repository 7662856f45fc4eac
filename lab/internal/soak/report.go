package soak

// What each phase measured and checked, and how it is printed: a table per
// phase, a summary, or one JSON document.

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/netlab/netlab/lab/internal/cli"
)

// Figure is one measured number (or, with Text set, a short string such
// as a hash).
type Figure struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
	Text  string  `json:"text,omitempty"`
}

// Check is one pass/fail condition: Got compared with Limit by Op.
type Check struct {
	Name  string  `json:"name"`
	Got   float64 `json:"got"`
	Op    string  `json:"op"` // "<=" or ">="
	Limit float64 `json:"limit"`
	Unit  string  `json:"unit,omitempty"`
	OK    bool    `json:"ok"`
}

// AtMost is the check got <= limit.
func AtMost(name string, got, limit float64, unit string) Check {
	return Check{Name: name, Got: got, Op: "<=", Limit: limit, Unit: unit, OK: got <= limit}
}

// AtLeast is the check got >= limit.
func AtLeast(name string, got, limit float64, unit string) Check {
	return Check{Name: name, Got: got, Op: ">=", Limit: limit, Unit: unit, OK: got >= limit}
}

// Phase is the result of one phase.
type Phase struct {
	Name    string        `json:"name"`
	About   string        `json:"about"`
	Notes   []string      `json:"notes,omitempty"` // settings the run changed, and why
	Figures []Figure      `json:"figures"`
	Checks  []Check       `json:"checks"`
	Error   string        `json:"error,omitempty"` // the phase could not finish
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Add records a figure.
func (p *Phase) Add(name string, value float64, unit string) {
	p.Figures = append(p.Figures, Figure{Name: name, Value: value, Unit: unit})
}

// AddText records a string figure.
func (p *Phase) AddText(name, text string) {
	p.Figures = append(p.Figures, Figure{Name: name, Text: text})
}

// Note records a setting the run chose.
func (p *Phase) Note(format string, args ...any) {
	p.Notes = append(p.Notes, fmt.Sprintf(format, args...))
}

// Check records a check.
func (p *Phase) Check(c Check) { p.Checks = append(p.Checks, c) }

// Fail records why the phase could not finish.
func (p *Phase) Fail(err error) {
	if err != nil {
		p.Error = err.Error()
	}
}

// Passed reports whether the phase finished and every check held. A phase
// with no checks did not show anything, so it does not pass.
func (p *Phase) Passed() bool {
	if p.Error != "" || len(p.Checks) == 0 {
		return false
	}
	for _, c := range p.Checks {
		if !c.OK {
			return false
		}
	}
	return true
}

// Result is a whole soak run.
type Result struct {
	Started time.Time `json:"started"`
	// LoadAvg is the host's /proc/loadavg at the start: figures from a
	// busy machine read differently.
	LoadAvg    string        `json:"loadavg,omitempty"`
	LoadAvgEnd string        `json:"loadavg_end,omitempty"`
	Elapsed    time.Duration `json:"elapsed_ns"`
	Phases     []Phase       `json:"phases"`
	Passed     bool          `json:"passed"`
}

// Finish sets Passed: every phase passed, and there was at least one.
func (r *Result) Finish(elapsed time.Duration) {
	r.Elapsed = elapsed
	r.Passed = len(r.Phases) > 0
	for i := range r.Phases {
		if !r.Phases[i].Passed() {
			r.Passed = false
		}
	}
}

// WriteJSON writes the run as one indented JSON document.
func (r *Result) WriteJSON(w io.Writer) error { return cli.WriteJSON(w, r) }

// WritePhase prints one phase as two tables: figures, then checks.
func WritePhase(w io.Writer, p Phase) {
	fmt.Fprintf(w, "\n== %s: %s ==\n", p.Name, p.About)
	for _, n := range p.Notes {
		fmt.Fprintf(w, "   note: %s\n", n)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range p.Figures {
		fmt.Fprintf(tw, "   %s\t%s\n", f.Name, FormatFigure(f))
	}
	tw.Flush()
	if len(p.Checks) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "   check\tgot\tlimit\tresult\n")
		for _, c := range p.Checks {
			fmt.Fprintf(tw, "   %s\t%s\t%s %s\t%s\n", c.Name, format(c.Got, c.Unit), c.Op, format(c.Limit, c.Unit), verdict(c.OK))
		}
		tw.Flush()
	}
	if p.Error != "" {
		fmt.Fprintf(w, "   ERROR: %s\n", p.Error)
	}
	fmt.Fprintf(w, "   phase %s in %s\n", verdict(p.Passed()), p.Elapsed.Round(100*time.Millisecond))
}

// WriteSummary prints one line per phase and the verdict.
func WriteSummary(w io.Writer, r *Result) {
	fmt.Fprintln(w, "\n== summary ==")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range r.Phases {
		failed := 0
		for _, c := range p.Checks {
			if !c.OK {
				failed++
			}
		}
		line := fmt.Sprintf("%d/%d checks", len(p.Checks)-failed, len(p.Checks))
		if p.Error != "" {
			line += ", error: " + firstLine(p.Error)
		}
		fmt.Fprintf(tw, "   %s\t%s\t%s\t%s\n", p.Name, verdict(p.Passed()), p.Elapsed.Round(100*time.Millisecond), line)
	}
	tw.Flush()
	if r.LoadAvg != "" {
		fmt.Fprintf(w, "host load average (/proc/loadavg) at start: %s; at end: %s\n", r.LoadAvg, r.LoadAvgEnd)
	}
	fmt.Fprintf(w, "soak %s in %s\n", verdict(r.Passed), r.Elapsed.Round(100*time.Millisecond))
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "FAIL"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// FormatFigure renders a figure with its unit.
func FormatFigure(f Figure) string {
	if f.Text != "" {
		return f.Text
	}
	return format(f.Value, f.Unit)
}

// format renders a value: whole numbers without decimals, others with as
// many as their size needs.
func format(v float64, unit string) string {
	var s string
	switch {
	case v == float64(int64(v)):
		s = strconv.FormatInt(int64(v), 10)
	case v >= 100 || v <= -100:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	default:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	}
	if unit == "" {
		return s
	}
	return s + " " + unit
}

// MiB converts bytes to mebibytes.
func MiB(bytes int64) float64 { return float64(bytes) / (1 << 20) }

// Ms converts a duration to milliseconds.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Percentile is the q-th (0..1) of sorted values, by nearest rank; 0 for
// none.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
