package spec

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Validate checks every field against its limits; the first bad one is a
// *FieldError naming it.
func (s *Spec) Validate() error {
	switch {
	case !nameRE.MatchString(s.Name):
		return bad("name", "%q: want 1 to 40 lowercase letters, digits and dashes, starting with a letter", s.Name)
	case s.Title == "" || len(s.Title) > 200:
		return bad("title", "want 1 to 200 bytes")
	case len(s.Description) > 4000:
		return bad("description", "at most 4000 bytes")
	}
	if err := s.validateServices(); err != nil {
		return err
	}
	if err := s.validateImpairment(); err != nil {
		return err
	}
	if err := s.validateSweep(); err != nil {
		return err
	}
	if len(s.Workloads) == 0 || len(s.Workloads) > MaxWorkloads {
		return bad("workloads", "want 1 to %d, got %d", MaxWorkloads, len(s.Workloads))
	}
	names := map[string]bool{}
	for i, w := range s.Workloads {
		f := fmt.Sprintf("workloads[%d]", i)
		if err := s.validateWorkload(f, w); err != nil {
			return err
		}
		if names[w.Name] {
			return bad(f+".name", "%q is used twice", w.Name)
		}
		names[w.Name] = true
	}
	if err := s.validateRun(); err != nil {
		return err
	}
	if err := s.validateQuick(); err != nil {
		return err
	}
	if d := s.Estimate(false); d > MaxTotal {
		return bad("repetitions", "the run would take about %v, more than %v: fewer values, repetitions or shorter workloads", d.Round(time.Minute), MaxTotal)
	}
	return nil
}

func (s *Spec) validateServices() error {
	if len(s.Services) == 0 || len(s.Services) > len(Services) {
		return bad("services", "want 1 to %d services, got %d", len(Services), len(s.Services))
	}
	seen := map[string]bool{}
	for i, sv := range s.Services {
		f := fmt.Sprintf("services[%d]", i)
		if !slices.Contains(Services, sv.Name) {
			return bad(f+".name", "%q: want one of %v", sv.Name, Services)
		}
		if seen[sv.Name] {
			return bad(f+".name", "%q is listed twice", sv.Name)
		}
		seen[sv.Name] = true
		limit := MaxOtherReplica
		if sv.Name == "peer" {
			limit = MaxPeers
		}
		if sv.Replicas < 1 || sv.Replicas > limit {
			return bad(f+".replicas", "%d: want 1 to %d", sv.Replicas, limit)
		}
		if len(sv.Env) > MaxEnv {
			return bad(f+".env", "at most %d settings", MaxEnv)
		}
		for k, v := range sv.Env {
			if !envRE.MatchString(k) {
				return bad(f+".env."+k, "not a setting name (A-Z, 0-9, _)")
			}
			if len(v) > 256 {
				return bad(f+".env."+k, "at most 256 bytes")
			}
		}
	}
	return nil
}

func (s *Spec) validateImpairment() error {
	im := s.Impairment
	shaped := im.Delay > 0 || im.Loss > 0 || im.RateMbit > 0 || slices.Contains([]string{"loss", "rate", "delay"}, s.Sweep.Parameter)
	if len(im.Targets) == 0 && shaped {
		return bad("impairment.targets", "name the services to impair")
	}
	if len(im.Targets) > len(Services) {
		return bad("impairment.targets", "want up to %d services", len(Services))
	}
	for i, t := range im.Targets {
		if !slices.ContainsFunc(s.Services, func(sv Service) bool { return sv.Name == t }) {
			return bad(fmt.Sprintf("impairment.targets[%d]", i), "%q is not one of the spec's services", t)
		}
	}
	switch {
	case !slices.Contains([]string{"", "egress", "ingress", "both"}, im.Direction):
		return bad("impairment.direction", "%q: want egress, ingress or both", im.Direction)
	case im.Delay < 0 || im.Delay.D() > 10*time.Second:
		return bad("impairment.delay", "want 0 to 10s")
	case !finite(im.Loss) || im.Loss < 0 || im.Loss > 100:
		return bad("impairment.loss", "want 0 to 100 (percent)")
	case !finite(im.RateMbit) || im.RateMbit < 0 || im.RateMbit > 100_000:
		return bad("impairment.rate_mbit", "want 0 (none) to 100000")
	}
	fixed := map[string]bool{"loss": im.Loss > 0, "rate": im.RateMbit > 0, "delay": im.Delay > 0}
	if fixed[s.Sweep.Parameter] {
		return bad("impairment", "%s is swept: set it in sweep.values only", s.Sweep.Parameter)
	}
	return nil
}

// Swept reports whether the spec varies a parameter; a spec without a
// sweep does not, nor does it as it runs (parameter none, one value 0).
func (s *Spec) Swept() bool { return s.Sweep.Parameter != "" && s.Sweep.Parameter != Single }

func (s *Spec) validateSweep() error {
	if s.Sweep.Parameter == "" && len(s.Sweep.Values) == 0 {
		return nil // one point
	}
	if s.Sweep.Parameter == Single { // as Effective writes a spec of one point
		if len(s.Sweep.Values) != 1 || s.Sweep.Values[0] != 0 {
			return bad("sweep.values", "%s has one value, 0", Single)
		}
		return nil
	}
	if _, ok := Parameters[s.Sweep.Parameter]; !ok {
		return bad("sweep.parameter", "%q: want loss, rate, delay or nodes", s.Sweep.Parameter)
	}
	return validateValues("sweep.values", s.Sweep.Parameter, s.Sweep.Values)
}

// validateValues checks a sweep's values against the parameter's range.
func validateValues(field, param string, vs []float64) error {
	if len(vs) == 0 || len(vs) > MaxValues {
		return bad(field, "want 1 to %d values, got %d", MaxValues, len(vs))
	}
	lo, hi := 0.0, 100.0
	switch param {
	case "rate":
		lo, hi = 0.008, 100_000
	case "delay":
		hi = 10_000
	case "nodes":
		lo, hi = 1, MaxPeers
	}
	for i, v := range vs {
		if !finite(v) || v < lo || v > hi {
			return bad(fmt.Sprintf("%s[%d]", field, i), "%v: want %v to %v %s", v, lo, hi, Parameters[param])
		}
		if param == "nodes" && v != math.Trunc(v) {
			return bad(fmt.Sprintf("%s[%d]", field, i), "%v: want a whole number of nodes", v)
		}
	}
	return nil
}

func (s *Spec) validateWorkload(f string, w Workload) error {
	if !nameRE.MatchString(w.Name) {
		return bad(f+".name", "%q: want 1 to 40 lowercase letters, digits and dashes", w.Name)
	}
	c, ok := Clients[w.Client]
	if !ok {
		return bad(f+".client", "%q: want one of %v", w.Client, ClientNames())
	}
	if c.Needs != "" && !slices.ContainsFunc(s.Services, func(sv Service) bool { return sv.Name == c.Needs }) {
		return bad(f+".client", "%s talks to %s: add it to services", w.Client, c.Needs)
	}
	return c.Check(f, s, w)
}

func (s *Spec) validateRun() error {
	switch {
	case s.Repetitions < 1 || s.Repetitions > MaxRepetitions:
		return bad("repetitions", "%d: want 1 to %d", s.Repetitions, MaxRepetitions)
	case s.Warmup < 0 || s.Warmup.D() > MaxWarmup:
		return bad("warmup", "want 0 to %v", MaxWarmup)
	case s.Interval != 0 && (s.Interval.D() < MinInterval || s.Interval.D() > MaxInterval):
		return bad("interval", "want %v to %v", MinInterval, MaxInterval)
	case len(s.Metrics) > MaxMetrics:
		return bad("metrics", "at most %d", MaxMetrics)
	}
	for i, m := range s.Metrics {
		if !metricRE.MatchString(m) {
			return bad(fmt.Sprintf("metrics[%d]", i), "%q is not a metric name", m)
		}
	}
	return nil
}

func (s *Spec) validateQuick() error {
	q := s.Quick
	if !s.Swept() {
		if len(q.Values) > 0 {
			return bad("quick.values", "the spec has no sweep")
		}
	} else if err := validateValues("quick.values", s.Sweep.Parameter, q.Values); err != nil {
		return err
	}
	switch {
	case len(q.Values) > 10:
		return bad("quick.values", "at most 10 in the quick form")
	case q.Repetitions < 1 || q.Repetitions > 5:
		return bad("quick.repetitions", "%d: want 1 to 5", q.Repetitions)
	case !finite(q.Scale) || q.Scale <= 0 || q.Scale > 1:
		return bad("quick.scale", "%v: want above 0, up to 1", q.Scale)
	}
	return nil
}

// StackTime is about how long starting and removing a stack takes.
const StackTime = 10 * time.Second

// DefaultInterval is the series' interval when the spec sets none.
const DefaultInterval = time.Second

// Effective is the spec as it runs: the quick form applied when quick
// (its values, repetitions, and counts and times scaled), the defaults
// filled in.
func (s *Spec) Effective(quick bool) *Spec {
	e := *s
	e.Workloads = slices.Clone(s.Workloads)
	if e.Interval == 0 {
		e.Interval = Duration(DefaultInterval)
	}
	if e.Impairment.Direction == "" {
		e.Impairment.Direction = "egress"
	}
	if e.Sweep.Parameter == "" {
		e.Sweep = Sweep{Parameter: Single, Values: []float64{0}}
	}
	if !quick {
		return &e
	}
	if len(s.Quick.Values) > 0 {
		e.Sweep.Values = slices.Clone(s.Quick.Values)
	}
	e.Repetitions = s.Quick.Repetitions
	k := s.Quick.Scale
	// The quick form's own quick form is itself: its spec.yaml runs again
	// as it ran, quick or not.
	e.Quick = Quick{Values: slices.Clone(s.Quick.Values), Repetitions: e.Repetitions, Scale: 1}
	for i := range e.Workloads {
		w := &e.Workloads[i]
		*w = w.scaled(k)
		if c, ok := Clients[w.Client]; ok && c.Quick != nil {
			*w = c.Quick(*w)
		}
	}
	return &e
}

// scaled is w with its counts, bytes and times × k, as in the quick form.
func (w Workload) scaled(k float64) Workload {
	if w.Count > 0 {
		w.Count = max(1, int(math.Round(float64(w.Count)*k)))
	}
	w.Seconds *= k
	w.Bytes = int64(float64(w.Bytes) * k)
	w.PartitionAt = Duration(float64(w.PartitionAt) * k)
	w.HealAt = Duration(float64(w.HealAt) * k)
	return w
}

// Estimate is about how long a run takes: every workload at every point
// and repetition, plus the shaping and the stack's start and stop.
func (s *Spec) Estimate(quick bool) time.Duration {
	e := s.Effective(quick)
	var sweep time.Duration // every point once
	for _, v := range e.Sweep.Values {
		sweep += 2*time.Second + e.Warmup.D() // one shape, the clients' start
		for _, w := range e.Workloads {
			sweep += e.WorkloadTime(w, v) + time.Second
		}
	}
	return StackTime + time.Duration(e.Repetitions)*sweep
}

// WorkloadTime is how long w runs at a point whose parameter is v.
func (s *Spec) WorkloadTime(w Workload, v float64) time.Duration {
	if c, ok := Clients[w.Client]; ok && c.Time != nil {
		return c.Time(s, w, v)
	}
	return 5 * time.Second
}
