package chaos

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/netlab/netlab/lab/internal/stack"
)

// actionTimeout bounds one docker or shaping command; a stop or restart
// waits for the service's grace period (15 s in docker-compose.yml).
const actionTimeout = 2 * time.Minute

// ExternFunc runs one of netlab's own commands (shape, partition, heal,
// reset) with its arguments: that command's Main.
type ExternFunc func(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int

// Extern holds the shaping commands by name; a missing one is not part of
// this build, and a timeline that needs it is refused.
type Extern map[string]ExternFunc

// mark is a change a step made to a container that is still in place.
type mark struct {
	c    stack.Container
	ch   change
	step *Step
}

// runner runs a plan's events at their times and keeps the ledger of what
// they changed, to undo it when interrupted.
type runner struct {
	docker  stack.Docker
	extern  Extern
	getenv  func(string) string
	out     *printer
	project string
	ledger  []mark
	failed  int
}

// run runs events in order, each at its time. When ctx ends it stops,
// undoes at once what a remaining event would have undone, and returns
// true.
func (r *runner) run(ctx context.Context, events []Event) (interrupted bool) {
	for i := range events {
		e := &events[i]
		if !r.out.clock.SleepUntil(ctx, r.out.start.Add(e.At)) {
			r.interrupt(ctx, events[i:])
			return true
		}
		cs := e.Containers
		if e.Undo {
			cs = r.changedBy(e.Step, actions[e.Step.Action].makes)
		}
		r.act(ctx, e, cs, e.why())
		if ctx.Err() != nil {
			r.interrupt(ctx, events[i+1:])
			return true
		}
	}
	return false
}

// act does e to cs and prints what happened. An action under way is not
// cut short by an interrupt, so what it changed is known.
func (r *runner) act(ctx context.Context, e *Event, cs []stack.Container, why string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), actionTimeout)
	defer cancel()
	kind := "action"
	if e.Undo {
		kind = "undo"
	}
	rec := Record{Event: kind, Step: e.Step.N, At: seconds(e.At), Action: string(e.Action), Command: e.describe()}
	for _, c := range cs {
		rec.Containers = append(rec.Containers, c.Label())
	}
	began := r.out.clock.Now()
	if late := began.Sub(r.out.start.Add(e.At)); late >= 100*time.Millisecond && why != "interrupted" {
		rec.Late = late.Seconds()
	}
	var errs []string
	if len(cs) == 0 && e.Undo {
		rec.Result = "nothing to undo"
	} else if actions[e.Action].docker {
		errs = r.dockerAct(ctx, e, cs)
	} else {
		errs = r.externAct(ctx, e)
	}
	rec.Took = r.out.clock.Now().Sub(began).Seconds()
	if len(errs) > 0 {
		r.failed++
		rec.Error = strings.Join(errs, "; ")
	} else if rec.Result == "" {
		rec.Result = actions[e.Action].done
	}
	rec.Message = message(rec, why)
	r.out.printAt(rec, began)
}

func message(rec Record, why string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: ", rec.Command)
	if rec.Error != "" {
		fmt.Fprintf(&b, "FAILED: %s", rec.Error)
	} else {
		b.WriteString(rec.Result)
		if len(rec.Containers) > 0 && rec.Result != "nothing to undo" {
			b.WriteString(" " + strings.Join(rec.Containers, ", "))
		}
	}
	fmt.Fprintf(&b, " (took %s", time.Duration(rec.Took*float64(time.Second)).Round(time.Millisecond))
	if rec.Late > 0 {
		fmt.Fprintf(&b, ", %.1fs late", rec.Late)
	}
	if why != "" {
		b.WriteString("; " + why)
	}
	b.WriteString(")")
	return b.String()
}

// dockerAct runs the docker command of e on every container at once and
// updates the ledger for those it worked on.
func (r *runner) dockerAct(ctx context.Context, e *Event, cs []stack.Container) []string {
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		args := []string{string(e.Action), c.ID}
		if e.Action == Kill && e.Step.Signal != "" {
			args = []string{"kill", "--signal", e.Step.Signal, c.ID}
		}
		wg.Go(func() { _, errs[i] = r.docker.Run(ctx, args...) })
	}
	wg.Wait()
	var msgs []string
	for i, c := range cs {
		if errs[i] != nil {
			msgs = append(msgs, c.Label()+": "+errs[i].Error())
			continue
		}
		r.record(e, c)
	}
	return msgs
}

// externAct runs the shaping command(s) of e.
func (r *runner) externAct(ctx context.Context, e *Event) []string {
	var msgs []string
	for _, args := range externArgs(e.Step, e.Undo) {
		var out bytes.Buffer
		if code := r.extern[args[0]](ctx, args, &out, &out, r.getenv); code != 0 {
			msgs = append(msgs, fmt.Sprintf("netlab %s: exit %d: %s", strings.Join(args, " "), code, strings.TrimSpace(out.String())))
		}
	}
	if len(msgs) == 0 {
		for _, c := range e.Containers {
			r.record(e, c)
		}
	}
	return msgs
}

// record enters into the ledger what e did to c.
func (r *runner) record(e *Event, c stack.Container) {
	info := actions[e.Action]
	r.ledger = slices.DeleteFunc(r.ledger, func(m mark) bool {
		return m.c.ID == c.ID && slices.Contains(info.clears, m.ch)
	})
	if info.makes != "" && !e.Undo {
		r.ledger = slices.DeleteFunc(r.ledger, func(m mark) bool { return m.c.ID == c.ID && m.ch == info.makes })
		r.ledger = append(r.ledger, mark{c, info.makes, e.Step})
	}
}

// changedBy are the containers step left in state ch that are still so.
func (r *runner) changedBy(s *Step, ch change) []stack.Container {
	var cs []stack.Container
	for _, m := range r.ledger {
		if m.step == s && m.ch == ch {
			cs = append(cs, m.c)
		}
	}
	return cs
}

// interrupt undoes at once every change in the ledger that one of the
// remaining events would have undone (its for:, or a later step that
// takes that change back on that container); the rest stays, as the
// timeline would have left it.
func (r *runner) interrupt(ctx context.Context, remaining []Event) {
	r.out.print(Record{Event: "interrupted", Message: "interrupted: undoing now what the timeline changed and would have undone itself"})
	type group struct {
		step *Step
		cs   []stack.Container
	}
	var groups []*group
	for _, m := range r.ledger {
		if !undoneLater(m, remaining) {
			continue
		}
		i := slices.IndexFunc(groups, func(g *group) bool { return g.step == m.step })
		if i < 0 {
			groups, i = append(groups, &group{step: m.step}), len(groups)
		}
		groups[i].cs = append(groups[i].cs, m.c)
	}
	for _, g := range groups {
		e := &Event{At: r.out.clock.Now().Sub(r.out.start), Step: g.step, Undo: true, Action: actions[g.step.Action].undo, Containers: g.cs}
		r.act(ctx, e, g.cs, "interrupted")
	}
}

// undoneLater reports whether one of events takes back m.
func undoneLater(m mark, events []Event) bool {
	for _, e := range events {
		if e.Undo && e.Step == m.step {
			return true
		}
		if !e.Undo && slices.Contains(actions[e.Action].clears, m.ch) &&
			slices.ContainsFunc(e.Containers, func(c stack.Container) bool { return c.ID == m.c.ID }) {
			return true
		}
	}
	return false
}

// left prints what stays changed, and the command that takes each back.
func (r *runner) left() {
	for _, m := range r.ledger {
		cmd := undoCommand(m.ch, m.c.Label())
		if r.project != DefaultProject {
			cmd += " --project " + r.project
		}
		r.out.print(Record{Event: "left", Step: m.step.N, Containers: []string{m.c.Label()}, Result: string(m.ch), Command: cmd,
			Message: fmt.Sprintf("%s stays %s until `%s`", m.c.Label(), m.ch, cmd)})
	}
}
