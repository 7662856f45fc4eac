package shaper_test

import (
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/shaper"
	"github.com/vishvananda/netlink"
)

// fakeKernel holds links, qdiscs, classes, filters and chains in memory;
// failOn makes the named call fail.
type fakeKernel struct {
	netem   bool
	failOn  string
	links   []netlink.Link
	qdiscs  []netlink.Qdisc
	classes []netlink.Class
	filters []netlink.Filter
	chains  map[string]shaper.Chain
	flushed []netip.Addr
}

func newFake(netem bool) *fakeKernel {
	eth := &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: "eth0", Index: 2}}
	return &fakeKernel{netem: netem, links: []netlink.Link{eth}, chains: map[string]shaper.Chain{}}
}

func (f *fakeKernel) fail(call string) error {
	if f.failOn == call {
		return errors.New(call + ": injected failure")
	}
	return nil
}

// add appends v to list, unless the call is the one to fail.
func add[T any](f *fakeKernel, call string, list *[]T, v T) error {
	if err := f.fail(call); err != nil {
		return err
	}
	*list = append(*list, v)
	return nil
}

func (f *fakeKernel) ProbeNetem() error {
	if f.netem {
		return nil
	}
	return errors.New("tc qdisc netem: no such file or directory")
}
func (f *fakeKernel) DeviceFor(netip.Addr) (string, error) { return "eth0", nil }
func (f *fakeKernel) LinkByName(name string) (netlink.Link, error) {
	for _, l := range f.links {
		if l.Attrs().Name == name {
			return l, nil
		}
	}
	return nil, errors.New("no such device")
}
func (f *fakeKernel) LinkList() ([]netlink.Link, error) { return slices.Clone(f.links), nil }
func (f *fakeKernel) AddIFB(name string) (netlink.Link, error) {
	if err := f.fail("AddIFB"); err != nil {
		return nil, err
	}
	l := &netlink.Ifb{LinkAttrs: netlink.LinkAttrs{Name: name, Index: 100 + len(f.links)}}
	f.links = append(f.links, l)
	return l, nil
}
func (f *fakeKernel) LinkDel(l netlink.Link) error {
	f.links = slices.DeleteFunc(f.links, func(x netlink.Link) bool { return x.Attrs().Index == l.Attrs().Index })
	f.qdiscs = slices.DeleteFunc(f.qdiscs, func(q netlink.Qdisc) bool { return q.Attrs().LinkIndex == l.Attrs().Index })
	return nil
}
func (f *fakeKernel) QdiscReplace(q netlink.Qdisc) error {
	if err := f.fail("QdiscReplace " + q.Type()); err != nil {
		return err
	}
	f.qdiscs = slices.DeleteFunc(f.qdiscs, func(x netlink.Qdisc) bool {
		return x.Attrs().LinkIndex == q.Attrs().LinkIndex && x.Attrs().Parent == q.Attrs().Parent
	})
	f.qdiscs = append(f.qdiscs, q)
	return nil
}

// QdiscDel removes the qdisc and, as the kernel does, everything below it.
func (f *fakeKernel) QdiscDel(q netlink.Qdisc) error {
	idx := q.Attrs().LinkIndex
	f.qdiscs = slices.DeleteFunc(f.qdiscs, func(x netlink.Qdisc) bool {
		return x.Attrs().LinkIndex == idx && (x.Attrs().Handle == q.Attrs().Handle || q.Attrs().Parent == netlink.HANDLE_ROOT && x.Attrs().Parent != netlink.HANDLE_INGRESS)
	})
	under := func(parent uint32) bool { return q.Attrs().Parent == netlink.HANDLE_ROOT || parent == q.Attrs().Handle }
	f.classes = slices.DeleteFunc(f.classes, func(c netlink.Class) bool { return c.Attrs().LinkIndex == idx && under(c.Attrs().Parent) })
	f.filters = slices.DeleteFunc(f.filters, func(x netlink.Filter) bool {
		return x.Attrs().LinkIndex == idx && (x.Attrs().Parent == q.Attrs().Handle || q.Attrs().Parent == netlink.HANDLE_ROOT && x.Attrs().Parent != q.Attrs().Handle&0xffff0000 && x.Attrs().Parent != 0xffff0000)
	})
	return nil
}
func (f *fakeKernel) QdiscList(l netlink.Link) ([]netlink.Qdisc, error) {
	var out []netlink.Qdisc
	for _, q := range f.qdiscs {
		if q.Attrs().LinkIndex == l.Attrs().Index {
			out = append(out, q)
		}
	}
	return out, nil
}
func (f *fakeKernel) ClassReplace(c netlink.Class) error {
	return add(f, "ClassReplace", &f.classes, c)
}
func (f *fakeKernel) ClassList(l netlink.Link, parent uint32) ([]netlink.Class, error) {
	return f.classes, nil
}
func (f *fakeKernel) FilterAdd(x netlink.Filter) error { return add(f, "FilterAdd", &f.filters, x) }
func (f *fakeKernel) FilterList(l netlink.Link, parent uint32) ([]netlink.Filter, error) {
	var out []netlink.Filter
	for _, x := range f.filters {
		if x.Attrs().LinkIndex == l.Attrs().Index && x.Attrs().Parent == parent {
			out = append(out, x)
		}
	}
	return out, nil
}
func (f *fakeKernel) NftAdd(chains []shaper.Chain) error {
	if err := f.fail("NftAdd"); err != nil {
		return err
	}
	for _, c := range chains {
		f.chains[c.Name] = c
	}
	return nil
}
func (f *fakeKernel) NftDel(names []string) error {
	for _, n := range names {
		delete(f.chains, n)
	}
	return nil
}
func (f *fakeKernel) NftList() ([]shaper.Chain, error) {
	var out []shaper.Chain
	for _, c := range f.chains {
		out = append(out, c)
	}
	return out, nil
}
func (f *fakeKernel) ConntrackFlush(addrs []netip.Addr) (int, error) {
	f.flushed = append(f.flushed, addrs...)
	return len(addrs), nil
}

// empty reports what the fake still holds of the shaper's.
func (f *fakeKernel) leftovers() []string {
	var out []string
	for _, q := range f.qdiscs {
		out = append(out, "qdisc "+q.Type())
	}
	for _, l := range f.links {
		if strings.HasPrefix(l.Attrs().Name, shaper.IFBPrefix) {
			out = append(out, "link "+l.Attrs().Name)
		}
	}
	for n := range f.chains {
		out = append(out, "chain "+n)
	}
	return out
}

func applyFake(t *testing.T, k *fakeKernel, s shaper.Spec) (*shaper.Shaper, shaper.Plan, error) {
	t.Helper()
	sh := shaper.New(k)
	p, err := sh.Plan(s)
	if err != nil {
		t.Fatal(err)
	}
	return sh, p, sh.Apply(p)
}

// On a kernel with netem, delay, jitter, loss, duplication, reordering and
// corruption go into one netem qdisc per direction, with tbf below it for
// the rate; ingress goes through the ifb device; show reads it all back.
func TestFake_NetemPath(t *testing.T) {
	k := newFake(true)
	s := shaper.Spec{Direction: shaper.Both, Delay: 50 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 2, Duplicate: 1, Reorder: 5, Corrupt: 0.5, Rate: 20e6}
	sh, p, err := applyFake(t, k, s)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Netem || p.Delayer {
		t.Fatalf("plan netem %v delayer %v, want netem alone", p.Netem, p.Delayer)
	}
	var netems, tbfs int
	for _, q := range k.qdiscs {
		switch q := q.(type) {
		case *netlink.Netem:
			netems++
			if q.Attrs().Parent != netlink.HANDLE_ROOT || q.Loss != netlink.Percentage2u32(2) || q.Duplicate != netlink.Percentage2u32(1) || q.ReorderProb != netlink.Percentage2u32(5) || q.CorruptProb != netlink.Percentage2u32(0.5) || q.Latency == 0 || q.Jitter == 0 {
				t.Errorf("netem %+v", q)
			}
		case *netlink.Tbf:
			tbfs++
			if q.Rate != 20e6/8 || netlink.MakeHandle(0x4e4c, 1) != q.Attrs().Parent {
				t.Errorf("tbf rate %d parent %s, want 2500000 B/s below netem", q.Rate, netlink.HandleStr(q.Attrs().Parent))
			}
		}
	}
	if netems != 2 || tbfs != 2 {
		t.Errorf("%d netem and %d tbf qdiscs, want 2 of each (egress and ifb)", netems, tbfs)
	}
	if len(k.chains) != 0 {
		t.Errorf("chains %v, want none: netem carries the loss", k.chains)
	}
	st, err := sh.Show()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range st.Items {
		got = append(got, it.Impairment+" "+it.Value+" "+string(it.Direction)+" "+it.Mechanism)
	}
	for _, want := range []string{"delay 50ms ± 10ms egress netem", "loss 2% ingress netem", "duplicate 1% egress netem", "rate 20mbit burst 25000B queue 250000B ingress tbf"} {
		if !slices.Contains(got, want) {
			t.Errorf("show lacks %q: %q", want, got)
		}
	}
	if err := sh.Reset(); err != nil {
		t.Fatal(err)
	}
	if l := k.leftovers(); len(l) > 0 {
		t.Errorf("after reset: %v", l)
	}
}

// With a peer, an htb root picks the peer's packets by a u32 filter into a
// class that holds netem; the rest is untouched.
func TestFake_NetemForOnePeer(t *testing.T) {
	k := newFake(true)
	peer := netip.MustParseAddr("172.18.0.3")
	_, _, err := applyFake(t, k, shaper.Spec{To: peer, Delay: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	types := []string{}
	for _, q := range k.qdiscs {
		types = append(types, q.Type()+"@"+netlink.HandleStr(q.Attrs().Parent))
	}
	if !slices.Equal(types, []string{"htb@root", "netem@4e4c:1"}) {
		t.Errorf("qdiscs %v, want htb at root and netem below its class", types)
	}
	if len(k.classes) != 1 || len(k.filters) != 1 {
		t.Fatalf("%d classes and %d filters, want 1 each", len(k.classes), len(k.filters))
	}
	u := k.filters[0].(*netlink.U32)
	if u.ClassId != netlink.MakeHandle(0x4e4c, 1) || len(u.Sel.Keys) != 1 || u.Sel.Keys[0].Off != 16 || u.Sel.Keys[0].Val != 0xac120003 {
		t.Errorf("filter %+v keys %+v, want destination 172.18.0.3 to 4e4c:1", u, u.Sel.Keys)
	}
}

// Without netem: tbf for the rate, an nft numgen rule for the loss, and
// the delay left to the delayer's chains.
func TestFake_FallbackPath(t *testing.T) {
	k := newFake(false)
	sh, p, err := applyFake(t, k, shaper.Spec{Loss: 10, Rate: 1e6, Delay: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if p.Netem || !p.Delayer {
		t.Fatalf("plan netem %v delayer %v", p.Netem, p.Delayer)
	}
	if len(k.qdiscs) != 1 || k.qdiscs[0].Type() != "tbf" {
		t.Errorf("qdiscs %v, want one tbf", k.qdiscs)
	}
	loss, ok := k.chains["loss_egress_eth0"]
	if !ok || len(loss.Rules) != 1 || loss.Rules[0].Percent != 10 || loss.Rules[0].Verdict != shaper.VerdictDrop || loss.Rules[0].Device != "eth0" {
		t.Errorf("loss chain %+v", loss)
	}
	if err := sh.AttachDelayer(p, "cfg"); err != nil {
		t.Fatal(err)
	}
	if q := k.chains["delay_egress_eth0"]; len(q.Rules) != 1 || q.Rules[0].Verdict != shaper.VerdictQueue {
		t.Errorf("delay chain %+v", q)
	}
	if c := p.DelayerConfig(); c.Delay != 50*time.Millisecond {
		t.Errorf("delayer config %+v", c)
	}
}

// Show reads the delayer's settings back from its queue rule and writes
// them as the plan does, one line per impairment, not as the rule's JSON.
func TestFake_ShowsDelayerLikeThePlan(t *testing.T) {
	k := newFake(false)
	spec := shaper.Spec{Direction: shaper.Both, Delay: 50 * time.Millisecond, Jitter: 10 * time.Millisecond, Reorder: 5, Corrupt: 0.1}
	sh, p, err := applyFake(t, k, spec)
	if err != nil {
		t.Fatal(err)
	}
	comment, err := json.Marshal(p.DelayerConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.AttachDelayer(p, string(comment)); err != nil {
		t.Fatal(err)
	}
	st, err := sh.Show()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range st.Items {
		got = append(got, it.String())
	}
	var want []string
	for _, dir := range []string{"egress", "ingress"} {
		for _, it := range p.Items {
			want = append(want, it.Impairment+" "+it.Value+" "+dir+": nfqueue delayer (0 packets queued on eth0)")
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("show:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A queue rule whose comment is not the delayer's still shows, as is.
	k2 := newFake(false)
	sh2, p2, err := applyFake(t, k2, shaper.Spec{Delay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := sh2.AttachDelayer(p2, "foreign"); err != nil {
		t.Fatal(err)
	}
	if st, err := sh2.Show(); err != nil || len(st.Items) != 1 || st.Items[0].Impairment != "delayer" || st.Items[0].Value != "foreign" {
		t.Errorf("foreign comment: %+v, %v", st.Items, err)
	}
}

// A failure half way through rolls back what was applied.
func TestFake_RollbackOnError(t *testing.T) {
	for _, call := range []string{"AddIFB", "FilterAdd", "QdiscReplace tbf", "NftAdd"} {
		t.Run(call, func(t *testing.T) {
			k := newFake(false)
			k.failOn = call
			_, _, err := applyFake(t, k, shaper.Spec{Direction: shaper.Both, Loss: 5, Rate: 1e6})
			if err == nil || !strings.Contains(err.Error(), "injected failure") || !strings.Contains(err.Error(), "rolled back") {
				t.Fatalf("Apply = %v, want the failure, rolled back", err)
			}
			if l := k.leftovers(); len(l) > 0 {
				t.Errorf("left after rollback: %v", l)
			}
		})
	}
}

// A root qdisc someone else set is refused, not replaced.
func TestFake_RefusesForeignQdisc(t *testing.T) {
	k := newFake(false)
	k.qdiscs = append(k.qdiscs, &netlink.Htb{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: 2, Parent: netlink.HANDLE_ROOT, Handle: netlink.MakeHandle(1, 0)}})
	_, _, err := applyFake(t, k, shaper.Spec{Rate: 1e6})
	if err == nil || !strings.Contains(err.Error(), "did not set") {
		t.Fatalf("Apply = %v, want a refusal", err)
	}
	if len(k.qdiscs) != 1 || k.qdiscs[0].Attrs().Handle != netlink.MakeHandle(1, 0) {
		t.Errorf("the foreign qdisc was touched: %v", k.qdiscs)
	}
}

// Partition drops both ways and flushes the flows; heal removes only it.
func TestFake_PartitionAndHeal(t *testing.T) {
	k := newFake(false)
	sh, _, err := applyFake(t, k, shaper.Spec{Loss: 1})
	if err != nil {
		t.Fatal(err)
	}
	peers := []netip.Addr{netip.MustParseAddr("172.18.0.3"), netip.MustParseAddr("fd00::3")}
	it, err := sh.Partition(peers)
	if err != nil {
		t.Fatal(err)
	}
	if it.Value != "172.18.0.3,fd00::3" || !slices.Equal(k.flushed, peers) {
		t.Errorf("partition %+v, flushed %v", it, k.flushed)
	}
	for _, name := range []string{"partition_egress", "partition_ingress"} {
		if c := k.chains[name]; len(c.Rules) != 2 {
			t.Errorf("%s: %+v, want a drop rule per peer", name, c)
		}
	}
	if err := sh.Heal(); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.chains["loss_egress_eth0"]; !ok || len(k.chains) != 1 {
		t.Errorf("after heal: chains %v, want only the loss chain", k.chains)
	}
	if _, err := sh.Partition(nil); err == nil {
		t.Error("an empty partition was accepted")
	}
}
