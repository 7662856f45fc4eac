package chaos

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/netlab/netlab/lab/internal/shaper"
)

// shapeFields are the fields of a shape step, named as netlab shape's
// flags, in the order they are passed on.
var shapeFields = []string{"delay", "jitter", "loss", "loss-ge", "rate", "burst", "queue",
	"duplicate", "reorder", "corrupt", "direction", "to"}

// shapeFlags reads a shape step's impairments and checks them with the
// shaper's own limits, so a timeline is refused for what netlab shape
// would refuse.
func shapeFlags(s *Step, fields map[string]*yaml.Node) []error {
	var spec shaper.Spec
	impairments := flag.NewFlagSet("shape", flag.ContinueOnError)
	shaper.ImpairmentFlags(impairments, &spec)
	var errs []error
	fail := func(field string, err error) { errs = append(errs, &StepError{s.N, fields[field].Line, field, err}) }
	for _, name := range shapeFields {
		n := fields[name]
		if n == nil {
			continue
		}
		v, err := scalar(n)
		if err == nil {
			err = setSpec(impairments, &spec, name, v)
		}
		if err != nil {
			fail(name, err)
			continue
		}
		s.Shape = append(s.Shape, Flag{name, v})
	}
	if len(errs) > 0 {
		return errs
	}
	if spec.Empty() {
		return []error{&StepError{s.N, s.Line, "shape", errors.New("no impairment: give delay, jitter, loss, loss-ge, rate, duplicate, reorder or corrupt")}}
	}
	err := spec.Validate()
	var fe *shaper.FieldError
	if errors.As(err, &fe) && fields[fe.Field] != nil {
		return []error{&StepError{s.N, fields[fe.Field].Line, fe.Field, fe.Err}}
	}
	if err != nil {
		return []error{&StepError{s.N, s.Line, "shape", err}}
	}
	return nil
}

// setSpec parses one shape field into spec: an impairment as netlab
// shape's flag of that name reads it (impairments: shaper.ImpairmentFlags
// filling spec).
func setSpec(impairments *flag.FlagSet, spec *shaper.Spec, name, v string) error {
	switch name {
	case "delay", "jitter":
		if _, err := time.ParseDuration(v); err != nil {
			return fmt.Errorf("%q is not a duration (like 50ms)", v)
		}
	case "direction":
		spec.Direction = shaper.Direction(v)
		return nil
	case "to":
		if !validTarget(v) {
			return fmt.Errorf("%q is not a service, replica or container name", v)
		}
		return nil
	}
	return impairments.Set(name, v)
}

// externArgs is the netlab command line (without "netlab") that does
// step's action, or undoes it when undo is set.
func externArgs(s *Step, undo bool) [][]string {
	switch {
	case s.Action == Shape && !undo:
		args := []string{"shape", s.Targets[0]}
		for _, f := range s.Shape {
			args = append(args, "--"+f.Name, f.Value)
		}
		return [][]string{args}
	case s.Action == Shape, s.Action == Reset && len(s.Targets) > 0:
		return [][]string{{"shape", s.Targets[0], "--reset"}}
	case s.Action == Reset:
		return [][]string{{"reset"}}
	case s.Action == Partition && undo:
		var out [][]string
		for _, t := range s.Targets {
			out = append(out, []string{"heal", t})
		}
		return out
	case s.Action == Partition:
		args := append([]string{"partition"}, s.Targets...)
		if s.FromAll {
			args = append(args, "--from-all")
		}
		return [][]string{args}
	}
	return [][]string{append([]string{"heal"}, s.Targets...)}
}
