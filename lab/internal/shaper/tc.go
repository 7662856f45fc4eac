package shaper

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

var (
	rootHandle   = netlink.MakeHandle(HandleMajor, 0)
	classHandle  = netlink.MakeHandle(HandleMajor, 1) // htb class of the peer, netem's only class
	leafHandle   = netlink.MakeHandle(leafMajor, 0)
	leaf2Handle  = netlink.MakeHandle(leaf2Major, 0)
	ingressQdisc = netlink.MakeHandle(0xffff, 0)
)

// netemLimit is netem's queue in packets: enough for 10 s of delay at a
// few thousand packets per second.
const netemLimit = 50_000

// applyTC builds the qdiscs that carry the plan's rate and netem items on
// link, for one direction (link is the device on egress, its ifb on
// ingress): netem when it carries something, with tbf below it for the
// rate. With a peer, an htb root sends the peer's traffic (picked by a u32
// filter) to a class holding that tree; the rest passes by htb's direct
// queue, untouched.
func applyTC(k Kernel, link netlink.Link, p Plan, dir Direction) error {
	s := p.Spec
	if s.Rate == 0 && !p.Netem {
		return nil
	}
	idx, name := link.Attrs().Index, link.Attrs().Name
	parent, handles := uint32(netlink.HANDLE_ROOT), []uint32{rootHandle, leafHandle}
	if s.To.IsValid() {
		if err := k.QdiscReplace(netlink.NewHtb(netlink.QdiscAttrs{LinkIndex: idx, Parent: netlink.HANDLE_ROOT, Handle: rootHandle})); err != nil {
			return fmt.Errorf("htb on %s: %w", name, err)
		}
		class := netlink.NewHtbClass(netlink.ClassAttrs{LinkIndex: idx, Parent: rootHandle, Handle: classHandle},
			netlink.HtbClassAttrs{Rate: MaxRate, Ceil: MaxRate})
		if err := k.ClassReplace(class); err != nil {
			return fmt.Errorf("htb class on %s: %w", name, err)
		}
		if err := k.FilterAdd(peerFilter(idx, p, dir)); err != nil {
			return fmt.Errorf("u32 filter for %v on %s: %w", s.To, name, err)
		}
		parent, handles = classHandle, []uint32{leafHandle, leaf2Handle}
	}
	if p.Netem {
		if err := k.QdiscReplace(netemQdisc(idx, parent, handles[0], s)); err != nil {
			return fmt.Errorf("netem on %s: %w", name, err)
		}
		if s.Rate == 0 {
			return nil
		}
		// netem's one class is <handle>:1.
		parent, handles = handles[0]|1, handles[1:]
	}
	if err := k.QdiscReplace(tbfQdisc(idx, parent, handles[0], s)); err != nil {
		return fmt.Errorf("tbf on %s: %w", name, err)
	}
	return nil
}

// peerFilter sends the peer's packets to the htb class: by destination on
// egress, by source on ingress.
func peerFilter(idx int, p Plan, dir Direction) *netlink.U32 {
	a := p.Spec.To.AsSlice()
	var keys []netlink.TcU32Key
	proto := uint16(unix.ETH_P_IP)
	off := int32(16) // IPv4 destination
	if dir == Ingress {
		off = 12
	}
	if len(a) == 16 {
		proto, off = unix.ETH_P_IPV6, 24
		if dir == Ingress {
			off = 8
		}
	}
	for i := 0; i < len(a); i += 4 {
		keys = append(keys, netlink.TcU32Key{Mask: 0xffffffff, Val: binary.BigEndian.Uint32(a[i:]), Off: off + int32(i)})
	}
	return &netlink.U32{
		FilterAttrs: netlink.FilterAttrs{LinkIndex: idx, Parent: rootHandle, Priority: 1, Protocol: proto},
		ClassId:     classHandle,
		Sel:         &netlink.TcU32Sel{Flags: netlink.TC_U32_TERMINAL, Nkeys: uint8(len(keys)), Keys: keys},
	}
}

func tbfQdisc(idx int, parent, handle uint32, s Spec) *netlink.Tbf {
	rate := s.Rate / 8
	return &netlink.Tbf{
		QdiscAttrs: netlink.QdiscAttrs{LinkIndex: idx, Parent: parent, Handle: handle},
		Rate:       rate,
		Limit:      s.QueueOrDefault(),
		Buffer:     netlink.Xmittime(rate, s.BurstOrDefault()),
	}
}

func netemQdisc(idx int, parent, handle uint32, s Spec) *netlink.Netem {
	return netlink.NewNetem(netlink.QdiscAttrs{LinkIndex: idx, Parent: parent, Handle: handle}, netlink.NetemQdiscAttrs{
		Latency:     uint32(s.Delay.Microseconds()),
		Jitter:      uint32(s.Jitter.Microseconds()),
		Loss:        float32(s.Loss),
		Duplicate:   float32(s.Duplicate),
		ReorderProb: float32(s.Reorder),
		CorruptProb: float32(s.Corrupt),
		Limit:       netemLimit,
	})
}

// redirectIngress sends everything arriving on dev to ifb, where the
// ingress qdiscs sit.
func redirectIngress(k Kernel, dev, ifb netlink.Link) error {
	idx := dev.Attrs().Index
	if err := k.QdiscReplace(&netlink.Ingress{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: idx, Parent: netlink.HANDLE_INGRESS, Handle: ingressQdisc}}); err != nil {
		return fmt.Errorf("ingress qdisc on %s: %w", dev.Attrs().Name, err)
	}
	f := &netlink.U32{
		FilterAttrs: netlink.FilterAttrs{LinkIndex: idx, Parent: ingressQdisc, Priority: 1, Protocol: unix.ETH_P_ALL},
		Actions:     []netlink.Action{netlink.NewMirredAction(ifb.Attrs().Index)},
	}
	if err := k.FilterAdd(f); err != nil {
		return fmt.Errorf("redirect %s to %s: %w", dev.Attrs().Name, ifb.Attrs().Name, err)
	}
	return nil
}

// ifbName is the name of the ifb device that carries dev's ingress.
func ifbName(dev string) string {
	name := IFBPrefix + dev
	if len(name) > 15 {
		name = name[:15]
	}
	return name
}

// owned reports whether a qdisc is one the shaper set.
func owned(q netlink.Qdisc) bool {
	major, _ := netlink.MajorMinor(q.Attrs().Handle)
	return major == HandleMajor || major == leafMajor || major == leaf2Major
}

func netipFromBytes(b []byte) any {
	if a, ok := netip.AddrFromSlice(b); ok {
		return a
	}
	return b
}
