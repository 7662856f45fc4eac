package chaos

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/internal/stack"
)

// Event is one thing a timeline does at its time: a step, or the undo that
// a step's for: schedules.
type Event struct {
	At         time.Duration
	Step       *Step
	Undo       bool   // the undo of Step, for: after it
	Action     Action // Step.Action, or the action that undoes it
	Containers []stack.Container
}

// NewPlan is the events of steps in the order they happen. An undo falls
// before a step at the same time: what ends at t ends before what starts
// at t; otherwise the file's order holds.
func NewPlan(steps []Step) []Event {
	var events []Event
	for i := range steps {
		s := &steps[i]
		events = append(events, Event{At: s.At, Step: s, Action: s.Action})
		if s.For > 0 {
			events = append(events, Event{At: s.At + s.For, Step: s, Undo: true, Action: actions[s.Action].undo})
		}
	}
	slices.SortStableFunc(events, func(a, b Event) int {
		if c := cmp.Compare(a.At, b.At); c != 0 {
			return c
		}
		switch {
		case a.Undo && !b.Undo:
			return -1
		case b.Undo && !a.Undo:
			return 1
		}
		return 0
	})
	return events
}

// resolve finds the containers of every event among the stack's. An
// unknown name is an error naming the step, its field and what exists.
func resolve(events []Event, cs []stack.Container) error {
	for i := range events {
		e := &events[i]
		s := e.Step
		if len(s.Targets) == 0 { // heal or reset of everything
			e.Containers = cs
			continue
		}
		field := string(s.Action)
		if s.Line == 0 {
			field = "TARGET"
		}
		for _, t := range s.Targets {
			found, err := stack.Match(cs, t)
			if err != nil {
				return &StepError{s.N, s.Line, field, err}
			}
			e.Containers = append(e.Containers, found...)
		}
		for _, f := range s.Shape {
			if f.Name != "to" {
				continue
			}
			found, err := stack.Match(cs, f.Value)
			if err == nil && len(found) != 1 {
				err = fmt.Errorf("%q is %d containers: name one (like %s)", f.Value, len(found), found[0].Label())
			}
			if err != nil {
				return &StepError{s.N, s.Line, "to", err}
			}
		}
	}
	return nil
}

// describe is the event as the output names it: the command it amounts to.
func (e *Event) describe() string {
	s := e.Step
	if !actions[e.Action].docker {
		var cmds []string
		for _, args := range externArgs(s, e.Undo) {
			cmds = append(cmds, strings.Join(args, " "))
		}
		return strings.Join(cmds, "; ")
	}
	var b strings.Builder
	b.WriteString(string(e.Action))
	if e.Action == Kill && s.Signal != "" {
		b.WriteString(" -s " + s.Signal)
	}
	b.WriteString(" " + strings.Join(s.Targets, " "))
	return b.String()
}

// why is what scheduled the event, for the output.
func (e *Event) why() string {
	s := e.Step
	switch {
	case e.Undo && s.Line == 0:
		return fmt.Sprintf("--for %v", s.For)
	case e.Undo:
		return fmt.Sprintf("step %d's for: %v", s.N, s.For)
	case s.Line == 0 && s.At > 0:
		return fmt.Sprintf("--after %v", s.At)
	case s.Line > 0:
		return fmt.Sprintf("step %d", s.N)
	}
	return ""
}
