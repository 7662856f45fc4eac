package chaos

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Limits of a timeline.
const (
	MaxFileSize = 256 << 10 // bytes
	MaxSteps    = 1000
	MaxTime     = 24 * time.Hour // the latest at, and at + for
	maxErrors   = 20             // reported at once
)

// Step is one step of a timeline (or the one step of a command line).
type Step struct {
	N       int // position in the file, from 1
	Line    int // line in the file; 0 for a command line
	At      time.Duration
	For     time.Duration // 0: not undone by itself
	Action  Action
	Targets []string // what the action acts on; empty for heal/reset of everything
	Signal  string   // kill: the signal docker is given; "" is docker's (SIGKILL)
	FromAll bool     // partition: the one target against every other container
	Shape   []Flag   // shape: the impairments, as netlab shape's flags
}

// Flag is a flag of netlab shape and its value.
type Flag struct{ Name, Value string }

// StepError is a bad field of a step.
type StepError struct {
	Step, Line int
	Field      string
	Err        error
}

func (e *StepError) Error() string {
	if e.Line == 0 { // a command line's one step
		return e.Field + ": " + e.Err.Error()
	}
	where := fmt.Sprintf("step %d (line %d)", e.Step, e.Line)
	if e.Field == "" {
		return where + ": " + e.Err.Error()
	}
	return where + ", " + e.Field + ": " + e.Err.Error()
}

func (e *StepError) Unwrap() error { return e.Err }

// ParseTimeline reads a timeline file: a mapping with `steps:`, a list of
// steps in time order, each with `at:` and one action. Unknown fields are
// refused; every error names the step, its line and the field.
func ParseTimeline(data []byte) ([]Step, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%d bytes, more than the %d a timeline may have", len(data), MaxFileSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, errors.New("empty: want a mapping with a list of steps")
	} else if err != nil {
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one YAML document: a timeline is one")
	}
	seq, err := stepsNode(&doc)
	if err != nil {
		return nil, err
	}
	if len(seq.Content) > MaxSteps {
		return nil, fmt.Errorf("line %d: %d steps, more than %d", seq.Line, len(seq.Content), MaxSteps)
	}
	var errs []error
	steps := make([]Step, 0, len(seq.Content))
	var prev *Step // the last step whose at: is known
	for i, n := range seq.Content {
		s, atOK, serrs := parseStep(i+1, n)
		errs = append(errs, serrs...)
		if atOK && prev != nil && s.At < prev.At {
			errs = append(errs, &StepError{s.N, s.Line, "at", fmt.Errorf("%v is before step %d's %v: list the steps in time order", s.At, prev.N, prev.At)})
		}
		if atOK {
			prev = &s
		}
		if len(serrs) == 0 {
			steps = append(steps, s)
		}
	}
	if len(errs) > maxErrors {
		errs = append(errs[:maxErrors], fmt.Errorf("and %d more errors", len(errs)-maxErrors))
	}
	return steps, errors.Join(errs...)
}

// stepsNode is the steps: list of a parsed file.
func stepsNode(doc *yaml.Node) (*yaml.Node, error) {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: want a mapping with a list of steps", root.Line)
	}
	var seq *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], deref(root.Content[i+1])
		if k.Value != "steps" {
			return nil, fmt.Errorf("line %d: unknown field %q (a timeline has only steps:)", k.Line, k.Value)
		}
		seq = v
	}
	switch {
	case seq == nil:
		return nil, fmt.Errorf("line %d: no list of steps", root.Line)
	case seq.Kind != yaml.SequenceNode:
		return nil, fmt.Errorf("line %d: steps: want a list of steps", seq.Line)
	case len(seq.Content) == 0:
		return nil, fmt.Errorf("line %d: steps: the list is empty", seq.Line)
	}
	return seq, nil
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// fieldsOf is each field of a step with the actions that take it; nil
// means every action.
var fieldsOf = stepFields()

func stepFields() map[string][]Action {
	m := map[string][]Action{"at": nil, "signal": {Kill}, "from-all": {Partition}}
	for _, a := range stepActions {
		m[string(a)] = nil
		if actions[a].undo != "" {
			m["for"] = append(m["for"], a)
		}
	}
	for _, f := range shapeFields {
		m[f] = []Action{Shape}
	}
	return m
}

// parseStep reads step n; its errors name the step and the field. atOK
// says whether s.At was read, for the check of the order.
func parseStep(n int, node *yaml.Node) (s Step, atOK bool, errs []error) {
	node = deref(node)
	s = Step{N: n, Line: node.Line}
	if node.Kind != yaml.MappingNode {
		return s, false, []error{&StepError{n, node.Line, "", errors.New("want a mapping: at: and an action")}}
	}
	fields := map[string]*yaml.Node{}
	defer func() {
		if at := fields["at"]; at != nil {
			var err error
			s.At, err = durationField(at)
			atOK = err == nil
			if err != nil && !slices.ContainsFunc(errs, func(e error) bool { return e.(*StepError).Field == "at" }) {
				errs = append(errs, &StepError{n, at.Line, "at", err})
			}
		}
	}()
	for i := 0; i+1 < len(node.Content); i += 2 {
		k := node.Content[i]
		if _, ok := fieldsOf[k.Value]; !ok {
			errs = append(errs, &StepError{n, k.Line, k.Value, fmt.Errorf("unknown field (a step has at:, one of %s, and what that action takes)", actionList())})
			continue
		}
		fields[k.Value] = deref(node.Content[i+1])
	}
	if len(errs) > 0 {
		return s, false, errs
	}
	var named []Action
	for _, a := range stepActions {
		if fields[string(a)] != nil {
			named = append(named, a)
		}
	}
	if len(named) != 1 {
		return s, false, []error{&StepError{n, node.Line, "", fmt.Errorf("want exactly one action (%s), got %d", actionList(), len(named))}}
	}
	s.Action = named[0]
	for f := range fields {
		if only := fieldsOf[f]; only != nil && !slices.Contains(only, s.Action) {
			errs = append(errs, &StepError{n, fields[f].Line, f, fmt.Errorf("%s does not take it", s.Action)})
		}
	}
	if len(errs) > 0 {
		return s, false, errs
	}
	return s, false, fillStep(&s, fields)
}

func actionList() string {
	names := make([]string, len(stepActions))
	for i, a := range stepActions {
		names[i] = string(a)
	}
	return strings.Join(names, ", ")
}

// fillStep reads the fields of a step whose action is known.
func fillStep(s *Step, fields map[string]*yaml.Node) []error {
	var errs []error
	fail := func(field string, err error) { errs = append(errs, &StepError{s.N, fields[field].Line, field, err}) }
	if fields["at"] == nil {
		errs = append(errs, &StepError{s.N, s.Line, "at", errors.New("missing: when the step happens, like 5s")})
	} else if d, err := durationField(fields["at"]); err != nil {
		fail("at", err)
	} else {
		s.At = d
	}
	if f := fields["for"]; f != nil {
		if d, err := durationField(f); err != nil {
			fail("for", err)
		} else if d == 0 {
			fail("for", errors.New("0: leave for: out to keep the change"))
		} else if s.At+d > MaxTime {
			fail("for", fmt.Errorf("ends at %v, after %v", s.At+d, MaxTime))
		} else {
			s.For = d
		}
	}
	if f := fields["signal"]; f != nil {
		v, err := scalar(f)
		if err == nil {
			v, err = ParseSignal(v)
		}
		if err != nil {
			fail("signal", err)
		}
		s.Signal = v
	}
	if err := targetsField(s, fields[string(s.Action)], fields["from-all"]); err != nil {
		fail(string(s.Action), err)
	}
	if s.Action == Shape {
		errs = append(errs, shapeFlags(s, fields)...)
	}
	return errs
}

func durationField(n *yaml.Node) (time.Duration, error) {
	v, err := scalar(n)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (like 5s, 1m30s, 500ms)", v)
	}
	if d < 0 || d > MaxTime {
		return 0, fmt.Errorf("%v is outside 0..%v", d, MaxTime)
	}
	return d, nil
}

func scalar(n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", errors.New("want a value")
	}
	return n.Value, nil
}

// targetsField reads the target(s) of the step's action: one name; for
// partition a list of two or more (or one with from-all: true); for heal
// and reset one name or "all".
func targetsField(s *Step, n, fromAll *yaml.Node) error {
	var names []string
	if n.Kind == yaml.SequenceNode && s.Action == Partition {
		for _, item := range n.Content {
			v, err := scalar(deref(item))
			if err != nil {
				return fmt.Errorf("want a list of targets: %w", err)
			}
			names = append(names, v)
		}
	} else {
		v, err := scalar(n)
		if err != nil && (s.Action == Heal || s.Action == Reset) {
			return errors.New("want a target (a service, a replica like peer-2, or a container), or all")
		} else if err != nil {
			return errors.New("want a target (a service, a replica like peer-2, or a container)")
		}
		names = []string{v}
	}
	for _, t := range names {
		if !validTarget(t) {
			return fmt.Errorf("%q is not a service, replica or container name", t)
		}
	}
	if fromAll != nil {
		if err := fromAll.Decode(&s.FromAll); err != nil {
			return fmt.Errorf("from-all: want true or false")
		}
	}
	switch {
	case (s.Action == Heal || s.Action == Reset) && names[0] == "all":
		names = nil
	case s.Action == Partition && s.FromAll && len(names) != 1:
		return fmt.Errorf("with from-all: true, name one target (got %d)", len(names))
	case s.Action == Partition && !s.FromAll && len(names) < 2:
		return errors.New("name two or more targets (every pair is cut), or one with from-all: true")
	case s.Action == Partition && len(slices.Compact(slices.Sorted(slices.Values(names)))) != len(names):
		return errors.New("a target is named twice")
	}
	s.Targets = names
	return nil
}
