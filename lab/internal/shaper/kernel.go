package shaper

import (
	"net/netip"

	"github.com/vishvananda/netlink"
)

// Names and numbers the shaper owns: reset removes exactly these.
const (
	TableName = "netlab" // the nftables table (family inet)
	// HandleMajor is the major number of every qdisc the shaper sets ("NL").
	HandleMajor = 0x4e4c
	// leafMajor and leaf2Major are the majors of qdiscs below the root.
	leafMajor  = 0x4e4d
	leaf2Major = 0x4e4e
	// IFBPrefix starts the name of the ifb device that carries a device's
	// ingress traffic to a qdisc.
	IFBPrefix = "nlifb-"
	// QueueNum is the NFQUEUE number the delayer binds.
	QueueNum = 0x4e4c
)

// Kernel is what the shaper asks of the network namespace it runs in: the
// netlink route calls (links, qdiscs, classes, filters), the shaper's
// nftables chains, and conntrack. Tests pass a fake that records calls.
type Kernel interface {
	// ProbeNetem returns nil when a netem qdisc can be created, else why not.
	ProbeNetem() error
	// DeviceFor is the device traffic to addr leaves by (the default
	// route's device when addr is invalid).
	DeviceFor(addr netip.Addr) (string, error)
	LinkByName(name string) (netlink.Link, error)
	LinkList() ([]netlink.Link, error)
	// AddIFB creates an ifb device and sets it up.
	AddIFB(name string) (netlink.Link, error)
	LinkDel(link netlink.Link) error

	QdiscReplace(q netlink.Qdisc) error
	QdiscDel(q netlink.Qdisc) error
	QdiscList(link netlink.Link) ([]netlink.Qdisc, error)
	ClassReplace(c netlink.Class) error
	ClassList(link netlink.Link, parent uint32) ([]netlink.Class, error)
	FilterAdd(f netlink.Filter) error
	FilterList(link netlink.Link, parent uint32) ([]netlink.Filter, error)

	// NftAdd adds the chains (replacing any of the same name) to the
	// shaper's table, creating the table when absent, in one transaction.
	NftAdd(chains []Chain) error
	// NftDel deletes the named chains, and the table when none is left.
	NftDel(names []string) error
	// NftList reads back the shaper's chains (none when there is no table).
	NftList() ([]Chain, error)
	// ConntrackFlush deletes the flows from or to any of addrs.
	ConntrackFlush(addrs []netip.Addr) (int, error)
}

// Hook is where a chain sees packets.
type Hook string

// Hooks: egress chains hook postrouting (locally sent and forwarded
// packets), ingress chains prerouting (everything that arrives).
const (
	HookEgress  Hook = "postrouting"
	HookIngress Hook = "prerouting"
)

// Verdicts of a rule.
const (
	VerdictDrop  = "drop"
	VerdictQueue = "queue" // to the delayer's NFQUEUE, bypassed when nothing listens
)

// Chain is one of the shaper's nftables chains.
type Chain struct {
	Name     string `json:"name"`
	Hook     Hook   `json:"hook"`
	Priority int32  `json:"priority"`
	Rules    []Rule `json:"rules"`
}

// Rule is one rule of a chain: every match it has must hold.
type Rule struct {
	Device  string     `json:"device,omitempty"`  // oifname (egress) or iifname (ingress)
	Peer    netip.Addr `json:"peer,omitzero"`     // daddr (egress) or saddr (ingress)
	Percent float64    `json:"percent,omitempty"` // 0: every packet, else a random share
	Verdict string     `json:"verdict"`
	Comment string     `json:"comment,omitempty"`
	Packets uint64     `json:"packets"` // read back from the rule's counter
}

// Chain priorities: partitions drop first, then loss, then the delayer
// queues what is left.
const (
	prioPartition = -10
	prioLoss      = 0
	prioDelay     = 10
)
