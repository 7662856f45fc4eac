package chaos

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/netlab/netlab/lab/internal/cli"
	"github.com/netlab/netlab/lab/internal/stack"
)

// execute resolves the steps' targets on the stack, prints the plan and,
// unless o.check, runs it. Times count from its start.
func (cfg Config) execute(ctx context.Context, prog string, o options, steps []Step, stdout, stderr io.Writer, getenv func(string) string) int {
	events := NewPlan(steps)
	var note string
	cs, err := stack.Stack{Project: o.project, Docker: cfg.Docker}.Containers(ctx)
	switch {
	case err != nil && o.check:
		note = "targets not checked: " + err.Error()
	case err != nil:
		return cli.Failure(stderr, prog, err)
	default:
		if err := resolve(events, cs); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", prog, err)
			return cli.ExitUsage
		}
	}
	missing := cfg.unavailable(steps)
	if len(missing) > 0 && !o.check {
		return cli.Failure(stderr, prog, fmt.Errorf("%s: not available in this build (it has no netlab shape, partition, heal or reset); --check shows the plan",
			joinNames(missing)))
	}
	// Times count from here, once the targets are known.
	out := &printer{w: stdout, json: o.json, clock: cfg.Clock, start: cfg.Clock.Now()}
	msg := fmt.Sprintf("%s: compose project %s", prog, o.project)
	if last := events[len(events)-1].At; last > 0 {
		msg += fmt.Sprintf(", %d events over %v; times are since now, then the wall clock", len(events), last)
	}
	out.print(Record{Event: "start", Message: msg})
	if o.check || len(events) > 1 || events[0].At > 0 {
		printPlan(out, events, missing)
	}
	if o.check {
		msg := "check: the timeline is valid; nothing was done"
		if note != "" {
			msg += " (" + note + ")"
		}
		out.print(Record{Event: "done", Message: msg})
		return cli.ExitOK
	}
	r := &runner{docker: cfg.Docker, extern: cfg.Extern, getenv: getenv, out: out, project: o.project}
	interrupted := r.run(ctx, events)
	r.left()
	switch {
	case interrupted:
		out.print(Record{Event: "done", Error: "interrupted", Message: "done: interrupted; the rest of the plan did not run"})
	case r.failed > 0:
		out.print(Record{Event: "done", Error: fmt.Sprintf("%d event(s) failed", r.failed), Message: fmt.Sprintf("done: %d of %d event(s) failed", r.failed, len(events))})
	default:
		out.print(Record{Event: "done", Message: "done: every event succeeded"})
	}
	if interrupted || r.failed > 0 {
		return cli.ExitFailure
	}
	return cli.ExitOK
}

// printPlan prints each event with its time, command and containers.
func printPlan(out *printer, events []Event, missing []string) {
	for i := range events {
		e := &events[i]
		rec := Record{Event: "plan", Step: e.Step.N, At: seconds(e.At), Action: string(e.Action), Command: e.describe()}
		for _, c := range e.Containers {
			rec.Containers = append(rec.Containers, c.Label())
		}
		var b strings.Builder
		fmt.Fprintf(&b, "plan: at +%v %s", e.At, rec.Command)
		if len(rec.Containers) > 0 && !e.Undo && len(e.Step.Targets) > 0 {
			fmt.Fprintf(&b, " → %s", strings.Join(rec.Containers, ", "))
		}
		if why := e.why(); why != "" {
			fmt.Fprintf(&b, " (%s)", why)
		}
		for _, m := range missing {
			if strings.HasPrefix(m, fmt.Sprintf("step %d ", e.Step.N)) {
				b.WriteString(": not available in this build")
				rec.Error = "not available in this build"
				break
			}
		}
		rec.Message = b.String()
		out.print(rec)
	}
}
