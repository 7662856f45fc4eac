// Package shaper applies, reads back and removes network impairments
// (rate, loss, delay and jitter, reordering, corruption, duplication,
// partitions) inside the current network namespace. It prefers netem
// where the kernel has it and falls back to tbf/htb, nftables and an
// NFQUEUE delayer where it does not, and reports the mechanism behind
// every impairment. Everything it adds lives under names it owns, so a
// reset removes exactly what it added.
package shaper

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Limits on every value of a Spec.
const (
	MaxDelay     = 10 * time.Second
	MinRate      = 8_000           // bit/s
	MaxRate      = 100_000_000_000 // bit/s
	MinBurst     = 1_600           // bytes: one full-size frame
	MaxBurst     = 64 << 20        // bytes
	MaxQueue     = 64 << 20        // bytes
	MaxPartition = 256             // addresses
	maxPercent   = 100.0
)

// Direction says which traffic of a device an impairment acts on.
type Direction string

// Directions.
const (
	Egress  Direction = "egress"  // packets leaving the device
	Ingress Direction = "ingress" // packets arriving on it
	Both    Direction = "both"    // each way, each with the full value
)

func (d Direction) egress() bool  { return d == Egress || d == Both }
func (d Direction) ingress() bool { return d == Ingress || d == Both }

// GE is a Gilbert–Elliott loss model, in netem's terms: P is the chance to
// go from the good state to the bad one, R back, H1 the loss in the bad
// state (1-h) and K1 the loss in the good state (1-k). All in percent.
type GE struct {
	P, R, H1, K1 float64
}

// Spec is one set of impairments of one device. Zero values mean "none".
type Spec struct {
	Device    string     `json:"device,omitempty"`
	Direction Direction  `json:"direction,omitempty"`
	To        netip.Addr `json:"to,omitzero"` // only traffic to/from this peer

	Delay     time.Duration `json:"delay,omitempty"`
	Jitter    time.Duration `json:"jitter,omitempty"`
	Loss      float64       `json:"loss,omitempty"`    // percent, independent
	LossGE    *GE           `json:"loss_ge,omitempty"` // bursty loss instead
	Rate      uint64        `json:"rate,omitempty"`    // bit/s
	Burst     uint32        `json:"burst,omitempty"`   // bytes; 0 picks one
	Queue     uint32        `json:"queue,omitempty"`   // bytes waiting; 0 picks one
	Duplicate float64       `json:"duplicate,omitempty"`
	Reorder   float64       `json:"reorder,omitempty"`
	Corrupt   float64       `json:"corrupt,omitempty"`
}

// FieldError is a bad value of one named field.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field, format string, a ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, a...)}
}

// Empty reports whether the spec asks for no impairment at all.
func (s *Spec) Empty() bool {
	return s.Delay == 0 && s.Jitter == 0 && s.Loss == 0 && s.LossGE == nil && s.Rate == 0 &&
		s.Duplicate == 0 && s.Reorder == 0 && s.Corrupt == 0
}

// Percent is one of a Spec's percentages, named as its flag.
type Percent struct {
	Name  string
	Value float64
}

// Percents are the spec's independent percentages (loss, duplicate,
// reorder, corrupt), in the order of their flags.
func (s *Spec) Percents() []Percent {
	return []Percent{{"loss", s.Loss}, {"duplicate", s.Duplicate}, {"reorder", s.Reorder}, {"corrupt", s.Corrupt}}
}

// Validate checks every value against its limit and the combinations that
// mean nothing; the error names the field. It fills the default direction.
func (s *Spec) Validate() error {
	if s.Direction == "" {
		s.Direction = Egress
	}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	switch s.Direction {
	case Egress, Ingress, Both:
	default:
		add(fieldErr("direction", "%q is not egress, ingress or both", s.Direction))
	}
	if len(s.Device) > 15 || strings.ContainsAny(s.Device, "/ \t\n") {
		add(fieldErr("device", "%q is not an interface name", s.Device))
	}
	add(checkDuration("delay", s.Delay))
	add(checkDuration("jitter", s.Jitter))
	if s.Jitter > s.Delay {
		add(fieldErr("jitter", "%v is above the delay %v", s.Jitter, s.Delay))
	}
	for _, p := range s.Percents() {
		add(checkPercent(p.Name, p.Value))
	}
	if s.LossGE != nil {
		add(s.LossGE.validate())
		if s.Loss > 0 {
			add(fieldErr("loss-ge", "use either loss or loss-ge, not both"))
		}
	}
	if s.Reorder > 0 && s.Delay == 0 {
		add(fieldErr("reorder", "needs a delay: reordered packets are the ones sent without it"))
	}
	add(s.validateRate())
	if s.To.IsValid() && (s.To.IsUnspecified() || s.To.IsMulticast()) {
		add(fieldErr("to", "%v is not a peer address", s.To))
	}
	return errors.Join(errs...)
}

func (s *Spec) validateRate() error {
	if s.Rate == 0 {
		if s.Burst != 0 || s.Queue != 0 {
			return fieldErr("burst", "burst and queue need a rate")
		}
		return nil
	}
	if s.Rate < MinRate || s.Rate > MaxRate {
		return fieldErr("rate", "%s is outside %s..%s", FormatRate(s.Rate), FormatRate(MinRate), FormatRate(MaxRate))
	}
	if s.Burst != 0 && (s.Burst < MinBurst || s.Burst > MaxBurst) {
		return fieldErr("burst", "%d bytes is outside %d..%d", s.Burst, MinBurst, MaxBurst)
	}
	if s.Queue != 0 && (s.Queue < MinBurst || s.Queue > MaxQueue) {
		return fieldErr("queue", "%d bytes is outside %d..%d", s.Queue, MinBurst, MaxQueue)
	}
	return nil
}

func (g *GE) validate() error {
	for _, p := range []struct {
		name string
		v    float64
	}{{"loss-ge p", g.P}, {"loss-ge r", g.R}, {"loss-ge 1-h", g.H1}, {"loss-ge 1-k", g.K1}} {
		if err := checkPercent(p.name, p.v); err != nil {
			return err
		}
	}
	if g.P == 0 || g.R == 0 {
		return fieldErr("loss-ge", "p and r must be above 0 (p=0 never loses, r=0 never recovers)")
	}
	return nil
}

func checkDuration(field string, d time.Duration) error {
	if d < 0 || d > MaxDelay {
		return fieldErr(field, "%v is outside 0..%v", d, MaxDelay)
	}
	return nil
}

func checkPercent(field string, v float64) error {
	if math.IsNaN(v) || v < 0 || v > maxPercent {
		return fieldErr(field, "%v%% is outside 0..100%%", v)
	}
	return nil
}

// BurstOrDefault is the token bucket size: at least one frame, or 10 ms at
// the rate (what the kernel needs to keep up with its timer at high rates).
func (s *Spec) BurstOrDefault() uint32 {
	if s.Burst != 0 {
		return s.Burst
	}
	return uint32(max(uint64(MinBurst)*2, min(s.Rate/8/100, MaxBurst)))
}

// QueueOrDefault is the bytes the rate limiter lets wait: 100 ms at the
// rate, at least a few frames.
func (s *Spec) QueueOrDefault() uint32 {
	if s.Queue != 0 {
		return s.Queue
	}
	return uint32(max(uint64(MinBurst)*8, min(s.Rate/8/10, MaxQueue)))
}

// ParseRate reads a rate the way tc writes it: bit, kbit, mbit, gbit (bits
// per second, powers of 1000) or bps, kbps, mbps, gbps (bytes per second).
// A bare number is bits per second.
func ParseRate(s string) (uint64, error) {
	num, unit := splitUnit(strings.ToLower(strings.TrimSpace(s)))
	units := map[string]float64{
		"": 1, "bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9,
		"bps": 8, "kbps": 8e3, "mbps": 8e6, "gbps": 8e9,
	}
	mult, ok := units[unit]
	v, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || v < 0 || math.IsInf(v, 0) || v*mult > math.MaxUint64/2 {
		return 0, fmt.Errorf("%q is not a rate (like 20mbit, 500kbit, 1gbit, 2mbps)", s)
	}
	return uint64(math.Round(v * mult)), nil
}

// ParseSize reads a byte size: b, k/kb (KiB), m/mb (MiB); bare is bytes.
func ParseSize(s string) (uint32, error) {
	num, unit := splitUnit(strings.ToLower(strings.TrimSpace(s)))
	units := map[string]float64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20}
	mult, ok := units[unit]
	v, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || v < 0 || v*mult > math.MaxUint32 {
		return 0, fmt.Errorf("%q is not a size (like 32kb, 1mb, 1500)", s)
	}
	return uint32(math.Round(v * mult)), nil
}

// ParsePercent reads "2%", "0.1%" or "2".
func ParsePercent(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a percentage (like 2%% or 0.1%%)", s)
	}
	return v, nil
}

// ParseGE reads "p,r[,1-h[,1-k]]" in percent, as netem's "loss gemodel".
// 1-h defaults to 100 % (the bad state loses everything), 1-k to 0.
func ParseGE(s string) (*GE, error) {
	parts := strings.Split(s, ",")
	if len(parts) < 2 || len(parts) > 4 {
		return nil, fmt.Errorf("%q is not p,r[,1-h[,1-k]] (like 5%%,50%%)", s)
	}
	vals := []float64{0, 0, 100, 0}
	for i, p := range parts {
		v, err := ParsePercent(p)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	return &GE{P: vals[0], R: vals[1], H1: vals[2], K1: vals[3]}, nil
}

func splitUnit(s string) (num, unit string) {
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// FormatRate writes bits per second the way ParseRate reads them.
func FormatRate(bps uint64) string {
	switch {
	case bps >= 1e9 && bps%1e7 == 0:
		return strconv.FormatFloat(float64(bps)/1e9, 'f', -1, 64) + "gbit"
	case bps >= 1e6 && bps%1e4 == 0:
		return strconv.FormatFloat(float64(bps)/1e6, 'f', -1, 64) + "mbit"
	case bps >= 1e3 && bps%10 == 0:
		return strconv.FormatFloat(float64(bps)/1e3, 'f', -1, 64) + "kbit"
	}
	return strconv.FormatUint(bps, 10) + "bit"
}
