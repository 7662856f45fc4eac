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
	if err := validateValues("sweep.values", s.Sweep.Parameter, s.Sweep.Values); err != nil {
		return err
	}
	if _, ok := Parameters[s.Sweep.Parameter]; !ok {
		return bad("sweep.parameter", "%q: want loss, rate or delay", s.Sweep.Parameter)
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
	if len(im.Targets) == 0 || len(im.Targets) > len(Services) {
		return bad("impairment.targets", "want 1 to %d services", len(Services))
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
	}
	for i, v := range vs {
		if !finite(v) || v < lo || v > hi {
			return bad(fmt.Sprintf("%s[%d]", field, i), "%v: want %v to %v %s", v, lo, hi, Parameters[param])
		}
	}
	return nil
}

func (s *Spec) validateWorkload(f string, w Workload) error {
	if !nameRE.MatchString(w.Name) {
		return bad(f+".name", "%q: want 1 to 40 lowercase letters, digits and dashes", w.Name)
	}
	need := map[string]string{UDPProbe: "udp-responder", UDPBitrate: "udp-responder", TCPBulk: "tcp-echo"}[w.Client]
	if need == "" {
		return bad(f+".client", "%q: want %s, %s or %s", w.Client, UDPProbe, TCPBulk, UDPBitrate)
	}
	if !slices.ContainsFunc(s.Services, func(sv Service) bool { return sv.Name == need }) {
		return bad(f+".client", "%s talks to %s: add it to services", w.Client, need)
	}
	swept := s.Sweep.Parameter == "rate"
	switch w.Client {
	case UDPProbe:
		return checkProbe(f, w)
	case TCPBulk:
		switch {
		case (w.Seconds > 0) == (w.Bytes > 0):
			return bad(f+".seconds", "give seconds (with the rate swept) or bytes, one of them")
		case w.Seconds > 0 && !swept:
			return bad(f+".seconds", "seconds sizes the transfer from the cap: sweep the rate, or give bytes")
		case w.Seconds < 0 || w.Seconds > MaxSeconds:
			return bad(f+".seconds", "want up to %d", MaxSeconds)
		case w.Bytes < 0 || w.Bytes > MaxBytes:
			return bad(f+".bytes", "want up to %d", int64(MaxBytes))
		}
	case UDPBitrate:
		switch {
		case w.Seconds <= 0 || w.Seconds > MaxSeconds:
			return bad(f+".seconds", "want above 0, up to %d", MaxSeconds)
		case (w.Over > 0) == (w.BitrateMbit > 0):
			return bad(f+".over", "give over (a multiple of the swept cap) or bitrate_mbit, one of them")
		case w.Over > 0 && !swept:
			return bad(f+".over", "over multiplies the cap: sweep the rate, or give bitrate_mbit")
		case !finite(w.Over) || w.Over > 4:
			return bad(f+".over", "want up to 4")
		case !finite(w.BitrateMbit) || w.BitrateMbit > 10_000:
			return bad(f+".bitrate_mbit", "want up to 10000")
		case w.Size < 68 || w.Size > 1472:
			return bad(f+".size", "%d: want 68 to 1472 bytes", w.Size)
		}
	}
	return nil
}

func checkProbe(f string, w Workload) error {
	switch {
	case w.Count < 1 || w.Count > MaxCount:
		return bad(f+".count", "%d: want 1 to %d", w.Count, MaxCount)
	case !finite(w.Rate) || w.Rate < 1 || w.Rate > MaxProbeRate:
		return bad(f+".rate", "%v: want 1 to %d probes per second", w.Rate, MaxProbeRate)
	case w.Size < 68 || w.Size > 1472:
		return bad(f+".size", "%d: want 68 to 1472 bytes", w.Size)
	case float64(w.Count)/w.Rate > MaxSeconds:
		return bad(f+".count", "%d probes at %v/s take more than %ds", w.Count, w.Rate, MaxSeconds)
	}
	return nil
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
	if err := validateValues("quick.values", s.Sweep.Parameter, q.Values); err != nil {
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
	if !quick {
		return &e
	}
	e.Sweep.Values = slices.Clone(s.Quick.Values)
	e.Repetitions = s.Quick.Repetitions
	k := s.Quick.Scale
	for i := range e.Workloads {
		w := &e.Workloads[i]
		if w.Count > 0 {
			w.Count = max(1, int(math.Round(float64(w.Count)*k)))
		}
		w.Seconds *= k
		w.Bytes = int64(float64(w.Bytes) * k)
	}
	return &e
}

// Estimate is about how long a run takes: every workload at every point
// and repetition, plus the shaping and the stack's start and stop.
func (s *Spec) Estimate(quick bool) time.Duration {
	e := s.Effective(quick)
	per := 2 * time.Second // one shape, the clients' start
	for _, w := range e.Workloads {
		per += e.WorkloadTime(w, 0) + time.Second
	}
	points := time.Duration(len(e.Sweep.Values) * e.Repetitions)
	return StackTime + points*(per+e.Warmup.D())
}

// WorkloadTime is how long w sends for at a point whose parameter is v
// (the cap in Mbit/s when the rate is swept).
func (s *Spec) WorkloadTime(w Workload, v float64) time.Duration {
	switch {
	case w.Client == UDPProbe:
		return time.Duration(float64(w.Count) / w.Rate * float64(time.Second))
	case w.Seconds > 0:
		return time.Duration(w.Seconds * float64(time.Second))
	case w.Bytes > 0 && v > 0 && s.Sweep.Parameter == "rate":
		return time.Duration(float64(w.Bytes*8) / (v * 1e6) * float64(time.Second))
	}
	return 5 * time.Second
}
