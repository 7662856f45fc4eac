package shaper

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Mechanisms an impairment can be carried by.
const (
	MechNetem    = "netem"
	MechTbf      = "tbf"
	MechHtb      = "htb+u32" // a class for one peer's traffic
	MechNumgen   = "nft numgen"
	MechDelayer  = "nfqueue delayer"
	MechDrop     = "nft drop"
	MechIFB      = "ifb redirect" // how ingress reaches a qdisc
	MechConntrak = "conntrack flush"
)

// Caps is what the kernel offers, as probed.
type Caps struct {
	Netem    bool   `json:"netem"`
	NetemWhy string `json:"netem_unavailable,omitempty"` // the probe's error when !Netem
}

// Item is one impairment and the mechanism that carries it.
type Item struct {
	Impairment string    `json:"impairment"`
	Value      string    `json:"value"`
	Direction  Direction `json:"direction,omitempty"`
	Mechanism  string    `json:"mechanism"`
	Note       string    `json:"note,omitempty"` // why this mechanism, or what it counted
	// Names are the containers the addresses of Value (comma-separated)
	// belong to, one per address, "" for one unknown; the lab fills them in.
	Names []string `json:"names,omitempty"`
}

func (it Item) String() string {
	s := it.Impairment + " " + it.value()
	if it.Direction != "" {
		s += " " + string(it.Direction)
	}
	s += ": " + it.Mechanism
	if it.Note != "" {
		s += " (" + it.Note + ")"
	}
	return s
}

// value is Value, each address followed by its container's name.
func (it Item) value() string {
	addrs := strings.Split(it.Value, ",")
	if len(it.Names) != len(addrs) {
		return it.Value
	}
	for i, n := range it.Names {
		if n != "" {
			addrs[i] += " (" + n + ")"
		}
	}
	return strings.Join(addrs, ", ")
}

// Plan is how a Spec will be carried out on this kernel.
type Plan struct {
	Spec  Spec   `json:"spec"`
	Items []Item `json:"items"`
	// Netem: one netem qdisc per direction carries the netem items.
	Netem bool `json:"-"`
	// Delayer: the NFQUEUE delayer must run for the delayer items.
	Delayer bool `json:"delayer"`
}

// ErrUnsupported marks an impairment no mechanism here can carry.
var ErrUnsupported = errors.New("not possible here")

// Choose decides the mechanism of every impairment of a validated spec.
// It returns an error wrapping ErrUnsupported, naming each impairment that
// cannot be carried and why, instead of a plan that silently skips it.
func Choose(s Spec, caps Caps) (Plan, error) {
	p := Plan{Spec: s}
	fallback := "netem unavailable: " + caps.NetemWhy
	kernel := func(name, value, mech, note string) {
		p.Items = append(p.Items, Item{Impairment: name, Value: value, Direction: s.Direction, Mechanism: mech, Note: note})
	}
	emu := func(name, value string) { // netem when present, else the delayer
		if caps.Netem {
			p.Netem = true
			kernel(name, value, MechNetem, "")
			return
		}
		p.Delayer = true
		kernel(name, value, MechDelayer, fallback)
	}
	if s.Rate > 0 {
		mech := MechTbf
		if s.To.IsValid() {
			mech = MechHtb
		}
		kernel("rate", FormatRate(s.Rate)+" burst "+strconv.Itoa(int(s.BurstOrDefault()))+"B queue "+strconv.Itoa(int(s.QueueOrDefault()))+"B", mech, "")
	}
	if s.Delay > 0 {
		emu("delay", delayValue(s.Delay, s.Jitter))
	}
	switch {
	case s.Loss > 0 && caps.Netem:
		p.Netem = true
		kernel("loss", pct(s.Loss), MechNetem, "")
	case s.Loss > 0:
		kernel("loss", pct(s.Loss), MechNumgen, fallback)
	case s.LossGE != nil:
		p.Delayer = true
		kernel("loss", geValue(s.LossGE), MechDelayer, geNote)
	}
	if s.Reorder > 0 {
		emu("reorder", pct(s.Reorder))
	}
	if s.Corrupt > 0 {
		emu("corrupt", pct(s.Corrupt))
	}
	var errs []error
	if s.Duplicate > 0 {
		if caps.Netem {
			p.Netem = true
			kernel("duplicate", pct(s.Duplicate), MechNetem, "")
		} else {
			errs = append(errs, fmt.Errorf("duplicate %s: %w because %s, and a process holding only CAP_NET_ADMIN cannot send a packet's copy (NFQUEUE can pass, drop or rewrite a packet, never send a second one)", pct(s.Duplicate), ErrUnsupported, fallback))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Plan{}, err
	}
	return p, nil
}

func pct(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "%" }

// The values of the delayer's impairments, written the same way when
// planned and when read back.
func delayValue(d, jitter time.Duration) string {
	if jitter > 0 {
		return d.String() + " ± " + jitter.String()
	}
	return d.String()
}

func geValue(g *GE) string {
	return fmt.Sprintf("gemodel p=%s r=%s 1-h=%s 1-k=%s", pct(g.P), pct(g.R), pct(g.H1), pct(g.K1))
}

const geNote = "a Gilbert–Elliott state machine per direction in user space"

// DelayerConfig is what the delayer applies to every queued packet.
type DelayerConfig struct {
	Delay   time.Duration `json:"delay"`
	Jitter  time.Duration `json:"jitter"`
	Reorder float64       `json:"reorder,omitempty"` // percent sent at once, ahead of the delayed
	Corrupt float64       `json:"corrupt,omitempty"` // percent with one bit flipped
	LossGE  *GE           `json:"loss_ge,omitempty"`
}

// Items are the impairments the delayer carries, one each, as the plan
// names them; note goes on every one.
func (c DelayerConfig) Items(dir Direction, note string) []Item {
	var items []Item
	add := func(name, value string) {
		items = append(items, Item{Impairment: name, Value: value, Direction: dir, Mechanism: MechDelayer, Note: note})
	}
	if c.Delay > 0 {
		add("delay", delayValue(c.Delay, c.Jitter))
	}
	if c.LossGE != nil {
		add("loss", geValue(c.LossGE))
	}
	if c.Reorder > 0 {
		add("reorder", pct(c.Reorder))
	}
	if c.Corrupt > 0 {
		add("corrupt", pct(c.Corrupt))
	}
	return items
}

// DelayerConfig is the delayer's share of the plan (zero when it has none).
func (p Plan) DelayerConfig() DelayerConfig {
	if !p.Delayer {
		return DelayerConfig{}
	}
	c := DelayerConfig{LossGE: p.Spec.LossGE}
	if !p.Netem {
		c.Delay, c.Jitter, c.Reorder, c.Corrupt = p.Spec.Delay, p.Spec.Jitter, p.Spec.Reorder, p.Spec.Corrupt
	}
	return c
}
