package shaper

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"syscall"

	"github.com/vishvananda/netlink"
)

// Shaper applies, reads back and removes impairments through a Kernel.
type Shaper struct {
	k    Kernel
	caps *Caps
}

// New returns a Shaper over k.
func New(k Kernel) *Shaper { return &Shaper{k: k} }

// Caps probes the kernel once and returns what it offers.
func (sh *Shaper) Caps() Caps {
	if sh.caps == nil {
		c := Caps{Netem: true}
		if err := sh.k.ProbeNetem(); err != nil {
			c = Caps{NetemWhy: err.Error()}
		}
		sh.caps = &c
	}
	return *sh.caps
}

// Plan validates s, picks its device when none is named, and chooses the
// mechanism of every impairment.
func (sh *Shaper) Plan(s Spec) (Plan, error) {
	if err := s.Validate(); err != nil {
		return Plan{}, err
	}
	if s.Empty() {
		return Plan{}, &FieldError{Field: "spec", Err: errors.New("no impairment given")}
	}
	if s.Device == "" {
		dev, err := sh.k.DeviceFor(s.To)
		if err != nil {
			return Plan{}, &FieldError{Field: "device", Err: err}
		}
		s.Device = dev
	}
	caps := sh.Caps()
	if strings.Contains(caps.NetemWhy, syscall.EPERM.Error()) {
		return Plan{}, fmt.Errorf("needs CAP_NET_ADMIN in this network namespace: %s", caps.NetemWhy)
	}
	return Choose(s, caps)
}

// Apply carries out the kernel's share of a plan on its device, replacing
// any shape the shaper had set there; the delayer's share is Delayer's.
// On an error it removes what it had applied, so the device is left
// unshaped rather than half shaped.
func (sh *Shaper) Apply(p Plan) error {
	if err := sh.ResetShape(p.Spec.Device); err != nil {
		return fmt.Errorf("clear the previous shape: %w", err)
	}
	if err := sh.apply(p); err != nil {
		if rerr := sh.ResetShape(p.Spec.Device); rerr != nil {
			return errors.Join(err, fmt.Errorf("roll back: %w", rerr))
		}
		return fmt.Errorf("%w (rolled back)", err)
	}
	return nil
}

func (sh *Shaper) apply(p Plan) error {
	s := p.Spec
	link, err := sh.k.LinkByName(s.Device)
	if err != nil {
		return &FieldError{Field: "device", Err: err}
	}
	if err := sh.checkForeign(link); err != nil {
		return err
	}
	if s.Direction.egress() {
		if err := applyTC(sh.k, link, p, Egress); err != nil {
			return err
		}
	}
	if s.Direction.ingress() && (s.Rate > 0 || p.Netem) {
		ifb, err := sh.k.AddIFB(ifbName(s.Device))
		if err != nil {
			return err
		}
		if err := redirectIngress(sh.k, link, ifb); err != nil {
			return err
		}
		if err := applyTC(sh.k, ifb, p, Ingress); err != nil {
			return err
		}
	}
	if chains := lossChains(p); len(chains) > 0 {
		return sh.k.NftAdd(chains)
	}
	return nil
}

// checkForeign refuses a device whose root or ingress qdisc someone else
// set: replacing it would destroy their setup, and reset could not restore it.
func (sh *Shaper) checkForeign(link netlink.Link) error {
	qs, err := sh.k.QdiscList(link)
	if err != nil {
		return fmt.Errorf("qdiscs of %s: %w", link.Attrs().Name, err)
	}
	for _, q := range qs {
		a := q.Attrs()
		if a.Parent == netlink.HANDLE_ROOT && a.Handle != 0 && !owned(q) {
			return fmt.Errorf("%s has a root qdisc %s %s that netlab did not set; remove it first", link.Attrs().Name, q.Type(), netlink.HandleStr(a.Handle))
		}
		if a.Parent == netlink.HANDLE_INGRESS || q.Type() == "clsact" {
			return fmt.Errorf("%s has an ingress qdisc %s that netlab did not set; remove it first", link.Attrs().Name, q.Type())
		}
	}
	return nil
}

// Chain names: per device for a shape, one pair for partitions.
func chainName(kind string, dir Direction, dev string) string {
	return kind + "_" + string(dir) + "_" + dev
}

const (
	partitionOut = "partition_egress"
	partitionIn  = "partition_ingress"
)

func lossChains(p Plan) []Chain {
	s := p.Spec
	if s.Loss == 0 || p.Netem {
		return nil
	}
	return dirChains(s, "loss", prioLoss, Rule{Device: s.Device, Peer: s.To, Percent: s.Loss, Verdict: VerdictDrop})
}

// DelayerChains are the chains that queue the shaped traffic to the
// delayer; the delayer adds them once it listens and removes them before
// it stops (with nothing listening the kernel would drop queued packets;
// the rules bypass then, but an idle queue is not left behind).
func DelayerChains(p Plan, comment string) []Chain {
	s := p.Spec
	return dirChains(s, "delay", prioDelay, Rule{Device: s.Device, Peer: s.To, Verdict: VerdictQueue, Comment: comment})
}

func dirChains(s Spec, kind string, prio int32, r Rule) []Chain {
	var out []Chain
	if s.Direction.egress() {
		out = append(out, Chain{Name: chainName(kind, Egress, s.Device), Hook: HookEgress, Priority: prio, Rules: []Rule{r}})
	}
	if s.Direction.ingress() {
		out = append(out, Chain{Name: chainName(kind, Ingress, s.Device), Hook: HookIngress, Priority: prio, Rules: []Rule{r}})
	}
	return out
}

// AttachDelayer adds the chains that queue the plan's traffic to the delayer.
func (sh *Shaper) AttachDelayer(p Plan, comment string) error {
	return sh.k.NftAdd(DelayerChains(p, comment))
}

// DetachDelayer removes the delayer's chains of dev.
func (sh *Shaper) DetachDelayer(dev string) error {
	return sh.k.NftDel([]string{chainName("delay", Egress, dev), chainName("delay", Ingress, dev)})
}

// ResetShape removes every impairment the shaper set on dev (every device
// when dev is empty): its qdiscs, its ifb device, its chains. Partitions stay.
func (sh *Shaper) ResetShape(dev string) error {
	links, err := sh.k.LinkList()
	if err != nil {
		return fmt.Errorf("list devices: %w", err)
	}
	var errs []error
	var chains []string
	for _, l := range links {
		name := l.Attrs().Name
		if (dev != "" && name != dev) || strings.HasPrefix(name, IFBPrefix) {
			continue
		}
		errs = append(errs, sh.resetLink(l, links))
		for _, kind := range []string{"loss", "delay"} {
			chains = append(chains, chainName(kind, Egress, name), chainName(kind, Ingress, name))
		}
	}
	if dev == "" { // ifb devices whose device is gone, and a probe's leftover
		links, err = sh.k.LinkList()
		errs = append(errs, err)
		for _, l := range links {
			if strings.HasPrefix(l.Attrs().Name, IFBPrefix) {
				errs = append(errs, sh.k.LinkDel(l))
			}
		}
	}
	errs = append(errs, sh.k.NftDel(chains))
	return errors.Join(errs...)
}

func (sh *Shaper) resetLink(l netlink.Link, links []netlink.Link) error {
	qs, err := sh.k.QdiscList(l)
	if err != nil {
		return fmt.Errorf("qdiscs of %s: %w", l.Attrs().Name, err)
	}
	var errs []error
	for _, q := range qs {
		if q.Attrs().Parent == netlink.HANDLE_ROOT && owned(q) {
			errs = append(errs, sh.k.QdiscDel(q)) // the tree below goes with it
		}
	}
	i := slices.IndexFunc(links, func(x netlink.Link) bool { return x.Attrs().Name == ifbName(l.Attrs().Name) })
	if i < 0 {
		return errors.Join(errs...)
	}
	ifb := links[i]
	for _, q := range qs {
		if q.Attrs().Parent == netlink.HANDLE_INGRESS && sh.redirectsTo(l, ifb) {
			errs = append(errs, sh.k.QdiscDel(q))
		}
	}
	errs = append(errs, sh.k.LinkDel(ifb))
	return errors.Join(errs...)
}

// redirectsTo reports whether l's ingress filters send packets to ifb, or
// there are none (an apply failed between the qdisc and its filter): only
// then is the ingress qdisc the shaper's.
func (sh *Shaper) redirectsTo(l, ifb netlink.Link) bool {
	fs, err := sh.k.FilterList(l, ingressQdisc)
	if err != nil {
		return false
	}
	if len(fs) == 0 {
		return true
	}
	for _, f := range fs {
		u, ok := f.(*netlink.U32)
		if !ok {
			continue
		}
		for _, a := range u.Actions {
			if m, ok := a.(*netlink.MirredAction); ok && m.Ifindex == ifb.Attrs().Index {
				return true
			}
		}
	}
	return false
}

// Partition drops every packet to and from addrs, both ways, on every
// device, and deletes their conntrack flows so established connections
// are cut too. It replaces an earlier partition.
func (sh *Shaper) Partition(addrs []netip.Addr) (Item, error) {
	if len(addrs) == 0 || len(addrs) > MaxPartition {
		return Item{}, &FieldError{Field: "peers", Err: fmt.Errorf("want 1..%d addresses, got %d", MaxPartition, len(addrs))}
	}
	out := Chain{Name: partitionOut, Hook: HookEgress, Priority: prioPartition}
	in := Chain{Name: partitionIn, Hook: HookIngress, Priority: prioPartition}
	var vals []string
	for _, a := range addrs {
		if !a.IsValid() || a.IsUnspecified() || a.IsLoopback() {
			return Item{}, &FieldError{Field: "peers", Err: fmt.Errorf("%v is not a peer address", a)}
		}
		a = a.Unmap()
		out.Rules = append(out.Rules, Rule{Peer: a, Verdict: VerdictDrop})
		in.Rules = append(in.Rules, Rule{Peer: a, Verdict: VerdictDrop})
		vals = append(vals, a.String())
	}
	if err := sh.k.NftAdd([]Chain{out, in}); err != nil {
		return Item{}, errors.Join(err, sh.Heal())
	}
	n, err := sh.k.ConntrackFlush(addrs)
	if err != nil {
		return Item{}, errors.Join(fmt.Errorf("partition: %w", err), sh.Heal())
	}
	return Item{Impairment: "partition", Value: strings.Join(vals, ","), Direction: Both,
		Mechanism: MechDrop + " + " + MechConntrak, Note: fmt.Sprintf("%d flows flushed", n)}, nil
}

// Heal removes the partition.
func (sh *Shaper) Heal() error { return sh.k.NftDel([]string{partitionOut, partitionIn}) }

// Reset removes everything the shaper set in this network namespace.
func (sh *Shaper) Reset() error {
	err := sh.ResetShape("")
	chains, lerr := sh.k.NftList()
	var names []string
	for _, c := range chains {
		names = append(names, c.Name)
	}
	return errors.Join(err, lerr, sh.k.NftDel(names))
}
