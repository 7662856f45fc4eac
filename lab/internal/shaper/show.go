package shaper

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
)

// State is what the kernel holds of the shaper's work, read back.
type State struct {
	Caps  Caps   `json:"caps"`
	Items []Item `json:"items"`
}

// Show reads back every qdisc, chain and queue rule the shaper set: the
// values the kernel holds, and what the rules counted.
func (sh *Shaper) Show() (State, error) {
	st := State{Caps: sh.Caps()}
	links, err := sh.k.LinkList()
	if err != nil {
		return st, fmt.Errorf("list devices: %w", err)
	}
	for _, l := range links {
		name := l.Attrs().Name
		dir := Egress
		if strings.HasPrefix(name, IFBPrefix) {
			dir = Ingress
		}
		items, err := sh.showLink(l, dir)
		if err != nil {
			return st, err
		}
		st.Items = append(st.Items, items...)
	}
	chains, err := sh.k.NftList()
	if err != nil {
		return st, err
	}
	for _, c := range chains {
		st.Items = append(st.Items, chainItems(c)...)
	}
	return st, nil
}

func (sh *Shaper) showLink(l netlink.Link, dir Direction) ([]Item, error) {
	qs, err := sh.k.QdiscList(l)
	if err != nil {
		return nil, fmt.Errorf("qdiscs of %s: %w", l.Attrs().Name, err)
	}
	note := "on " + l.Attrs().Name
	var items []Item
	for _, q := range qs {
		if !owned(q) {
			continue
		}
		switch q := q.(type) {
		case *netlink.Tbf:
			burst := netlink.Xmitsize(q.Rate, q.Buffer)
			items = append(items, Item{Impairment: "rate", Direction: dir, Mechanism: MechTbf, Note: note,
				Value: fmt.Sprintf("%s burst %dB queue %dB", FormatRate(q.Rate*8), burst, q.Limit)})
		case *netlink.Netem:
			items = append(items, netemItems(q, dir, note)...)
		case *netlink.Htb:
			items = append(items, sh.peerItem(l, dir, note))
		}
	}
	return items, nil
}

// peerItem reads the peer a u32 filter sends to the shaped class.
func (sh *Shaper) peerItem(l netlink.Link, dir Direction, note string) Item {
	it := Item{Impairment: "to", Direction: dir, Mechanism: MechHtb, Note: note}
	fs, err := sh.k.FilterList(l, rootHandle)
	if err != nil {
		it.Value = "? (" + err.Error() + ")"
		return it
	}
	for _, f := range fs {
		if u, ok := f.(*netlink.U32); ok && u.Sel != nil {
			var b []byte
			for _, k := range u.Sel.Keys {
				b = append(b, byte(k.Val>>24), byte(k.Val>>16), byte(k.Val>>8), byte(k.Val))
			}
			it.Value = fmt.Sprintf("%v", netipFromBytes(b))
		}
	}
	return it
}

func netemItems(q *netlink.Netem, dir Direction, note string) []Item {
	us := func(ticks uint32) time.Duration {
		return time.Duration(float64(ticks)/netlink.TickInUsec()) * time.Microsecond
	}
	p := func(v uint32) string { return pct(math.Round(float64(v)/math.MaxUint32*1e6) / 1e4) }
	var items []Item
	add := func(name, value string) {
		items = append(items, Item{Impairment: name, Value: value, Direction: dir, Mechanism: MechNetem, Note: note})
	}
	if q.Latency > 0 {
		add("delay", fmt.Sprintf("%v ± %v", us(q.Latency).Round(time.Microsecond), us(q.Jitter).Round(time.Microsecond)))
	}
	for _, v := range []struct {
		name string
		v    uint32
	}{{"loss", q.Loss}, {"duplicate", q.Duplicate}, {"reorder", q.ReorderProb}, {"corrupt", q.CorruptProb}} {
		if v.v > 0 {
			add(v.name, p(v.v))
		}
	}
	return items
}

func chainItems(c Chain) []Item {
	dir := Egress
	if c.Hook == HookIngress {
		dir = Ingress
	}
	var items []Item
	for _, r := range c.Rules {
		it := Item{Direction: dir}
		where := ""
		if r.Device != "" {
			where = " on " + r.Device
		}
		if r.Peer.IsValid() {
			where += " to " + r.Peer.String()
		}
		switch {
		case strings.HasPrefix(c.Name, "partition"):
			it.Impairment, it.Value, it.Mechanism = "partition", r.Peer.String(), MechDrop
			it.Note = fmt.Sprintf("%d packets dropped", r.Packets)
		case r.Verdict == VerdictQueue:
			note := fmt.Sprintf("%d packets queued%s", r.Packets, where)
			if ds := delayerItems(r.Comment, dir, note); len(ds) > 0 {
				items = append(items, ds...)
				continue
			}
			it.Impairment, it.Value, it.Mechanism, it.Note = "delayer", r.Comment, MechDelayer, note
		default:
			it.Impairment, it.Value, it.Mechanism = "loss", pct(r.Percent), MechNumgen
			it.Note = fmt.Sprintf("%d packets dropped%s", r.Packets, where)
		}
		items = append(items, it)
	}
	return items
}

// delayerItems reads the delayer's settings back from the comment of its
// queue rule (the JSON of its DelayerConfig), one item per impairment as
// the plan names them; none when the comment is not one.
func delayerItems(comment string, dir Direction, note string) []Item {
	var c DelayerConfig
	if err := json.Unmarshal([]byte(comment), &c); err != nil {
		return nil
	}
	return c.Items(dir, note)
}
