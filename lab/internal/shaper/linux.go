package shaper

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/ti-mo/conntrack"
	"github.com/vishvananda/netlink"
)

// Linux is the Kernel of the current network namespace.
type Linux struct {
	nft nftKernel
}

// NewLinux returns the kernel of the network namespace the caller's
// thread is in.
func NewLinux() *Linux { return &Linux{} }

// probeIFB is the throwaway device a netem probe is tried on.
const probeIFB = IFBPrefix + "probe"

// ProbeNetem tries a netem qdisc on a throwaway ifb device, so nothing in
// use is touched.
func (l *Linux) ProbeNetem() error {
	link, err := l.AddIFB(probeIFB)
	if err != nil {
		return fmt.Errorf("probe device: %w", err)
	}
	defer netlink.LinkDel(link)
	q := netlink.NewNetem(netlink.QdiscAttrs{LinkIndex: link.Attrs().Index, Parent: netlink.HANDLE_ROOT, Handle: rootHandle}, netlink.NetemQdiscAttrs{Latency: 1000})
	if err := netlink.QdiscAdd(q); err != nil {
		return fmt.Errorf("tc qdisc netem: %w", err)
	}
	return nil
}

// DeviceFor is the device of the route to addr, or of the default route.
func (l *Linux) DeviceFor(addr netip.Addr) (string, error) {
	if !addr.IsValid() {
		addr = netip.MustParseAddr("192.0.2.1") // TEST-NET-1: only a default route reaches it
	}
	routes, err := netlink.RouteGet(addr.AsSlice())
	if err != nil || len(routes) == 0 {
		return "", fmt.Errorf("no route to %v (name the device): %w", addr, err)
	}
	link, err := netlink.LinkByIndex(routes[0].LinkIndex)
	if err != nil {
		return "", fmt.Errorf("device of the route to %v: %w", addr, err)
	}
	return link.Attrs().Name, nil
}

func (l *Linux) LinkByName(name string) (netlink.Link, error) { return netlink.LinkByName(name) }
func (l *Linux) LinkList() ([]netlink.Link, error)            { return netlink.LinkList() }
func (l *Linux) LinkDel(link netlink.Link) error              { return netlink.LinkDel(link) }

// AddIFB creates an ifb device and sets it up.
func (l *Linux) AddIFB(name string) (netlink.Link, error) {
	ifb := &netlink.Ifb{LinkAttrs: netlink.LinkAttrs{Name: name, TxQLen: 1000}}
	if err := netlink.LinkAdd(ifb); err != nil {
		return nil, fmt.Errorf("add ifb %s: %w", name, err)
	}
	link, err := netlink.LinkByName(name)
	if err == nil {
		err = netlink.LinkSetUp(link)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("set up ifb %s: %w", name, err), netlink.LinkDel(ifb))
	}
	return link, nil
}

func (l *Linux) QdiscReplace(q netlink.Qdisc) error { return netlink.QdiscReplace(q) }
func (l *Linux) QdiscDel(q netlink.Qdisc) error     { return netlink.QdiscDel(q) }
func (l *Linux) QdiscList(link netlink.Link) ([]netlink.Qdisc, error) {
	return netlink.QdiscList(link)
}
func (l *Linux) ClassReplace(c netlink.Class) error { return netlink.ClassReplace(c) }
func (l *Linux) ClassList(link netlink.Link, parent uint32) ([]netlink.Class, error) {
	return netlink.ClassList(link, parent)
}
func (l *Linux) FilterAdd(f netlink.Filter) error { return netlink.FilterAdd(f) }
func (l *Linux) FilterList(link netlink.Link, parent uint32) ([]netlink.Filter, error) {
	return netlink.FilterList(link, parent)
}

func (l *Linux) NftAdd(chains []Chain) error { return l.nft.add(chains) }
func (l *Linux) NftDel(names []string) error { return l.nft.del(names) }
func (l *Linux) NftList() ([]Chain, error)   { return l.nft.list() }

// ConntrackFlush deletes every flow whose original direction comes from
// or goes to one of addrs.
func (l *Linux) ConntrackFlush(addrs []netip.Addr) (int, error) {
	c, err := conntrack.Dial(nil)
	if err != nil {
		return 0, fmt.Errorf("conntrack: %w", err)
	}
	defer c.Close()
	flows, err := c.Dump(nil)
	if err != nil {
		return 0, fmt.Errorf("conntrack dump: %w", err)
	}
	match := func(a netip.Addr) bool {
		for _, x := range addrs {
			if a.Unmap() == x.Unmap() {
				return true
			}
		}
		return false
	}
	n := 0
	for _, f := range flows {
		ip := f.TupleOrig.IP
		if !match(ip.SourceAddress) && !match(ip.DestinationAddress) {
			continue
		}
		if err := c.Delete(f); err != nil {
			return n, fmt.Errorf("conntrack delete %v→%v: %w", ip.SourceAddress, ip.DestinationAddress, err)
		}
		n++
	}
	return n, nil
}
