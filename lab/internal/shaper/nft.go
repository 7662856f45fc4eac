package shaper

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/google/nftables/xt"
	"golang.org/x/sys/unix"
)

// numgenModulus is the resolution of a rule's random share: 1 in a million,
// so 0.0001 % steps.
const numgenModulus = 1_000_000

// queueInfo is xt_NFQ_info_v3 (queue number, queues in total, flags) padded
// to 8 bytes: the NFQUEUE target reached through nft_compat, because this
// kernel refuses nft's own queue expression. Bypass: packets pass when
// nothing listens, so a delayer that died leaves traffic flowing.
func queueInfo() *xt.Unknown {
	const bypass = 1
	b := make(xt.Unknown, 8)
	binary.NativeEndian.PutUint16(b[0:], QueueNum)
	binary.NativeEndian.PutUint16(b[2:], 1)
	binary.NativeEndian.PutUint16(b[4:], bypass)
	return &b
}

// ruleExprs turns a Rule into nftables expressions for a chain on hook.
func ruleExprs(r Rule, hook Hook) []expr.Any {
	var es []expr.Any
	if r.Device != "" {
		key := expr.MetaKeyOIFNAME
		if hook == HookIngress {
			key = expr.MetaKeyIIFNAME
		}
		name := make([]byte, unix.IFNAMSIZ)
		copy(name, r.Device)
		es = append(es, &expr.Meta{Key: key, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: name})
	}
	if r.Peer.IsValid() {
		proto, off := byte(unix.NFPROTO_IPV4), uint32(16)
		if r.Peer.Is6() {
			proto, off = unix.NFPROTO_IPV6, 24
		}
		addr := r.Peer.AsSlice()
		if hook == HookIngress {
			off -= uint32(len(addr))
		}
		es = append(es,
			&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: uint32(len(addr))},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: addr})
	}
	if r.Percent > 0 && r.Percent < 100 {
		// numgen's value is in host order; cmp compares bytes, so swap first.
		es = append(es,
			&expr.Numgen{Register: 1, Modulus: numgenModulus, Type: unix.NFT_NG_RANDOM},
			&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
			&expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: binaryutil.BigEndian.PutUint32(threshold(r.Percent))})
	}
	es = append(es, &expr.Counter{})
	if r.Verdict == VerdictQueue {
		return append(es, &expr.Target{Name: "NFQUEUE", Rev: 3, Info: queueInfo()})
	}
	return append(es, &expr.Verdict{Kind: expr.VerdictDrop})
}

func threshold(percent float64) uint32 {
	return uint32(math.Round(percent * numgenModulus / 100))
}

// decodeRule reads a rule back from the kernel's expressions.
func decodeRule(r *nftables.Rule) Rule {
	var out Rule
	var last expr.Any
	for _, e := range r.Exprs {
		switch e := e.(type) {
		case *expr.Cmp:
			decodeCmp(&out, last, e)
		case *expr.Counter:
			out.Packets = e.Packets
		case *expr.Verdict:
			if e.Kind == expr.VerdictDrop {
				out.Verdict = VerdictDrop
			}
		case *expr.Target:
			if e.Name == "NFQUEUE" {
				out.Verdict = VerdictQueue
			}
		}
		last = e
	}
	if out.Percent == 0 {
		out.Percent = 100
	}
	if c, ok := userdata.GetString(r.UserData, userdata.TypeComment); ok {
		out.Comment = c
	}
	return out
}

func decodeCmp(out *Rule, last expr.Any, c *expr.Cmp) {
	switch l := last.(type) {
	case *expr.Meta:
		if l.Key == expr.MetaKeyOIFNAME || l.Key == expr.MetaKeyIIFNAME {
			out.Device = string(bytes.TrimRight(c.Data, "\x00"))
		}
	case *expr.Payload:
		if a, ok := netip.AddrFromSlice(c.Data); ok {
			out.Peer = a
		}
	default:
		// The library decodes neither numgen nor byteorder: the rule's one
		// "less than" compare is the numgen threshold.
		if c.Op == expr.CmpOpLt && len(c.Data) == 4 {
			out.Percent = float64(binary.BigEndian.Uint32(c.Data)) * 100 / numgenModulus
		}
	}
}

// nftKernel is the shaper's nftables table, reached over netlink.
type nftKernel struct{}

var table = &nftables.Table{Family: nftables.TableFamilyINet, Name: TableName}

func (nftKernel) add(chains []Chain) error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	defer c.CloseLasting()
	t := c.AddTable(table)
	accept := nftables.ChainPolicyAccept
	for _, ch := range chains {
		hook := nftables.ChainHookPostrouting
		if ch.Hook == HookIngress {
			hook = nftables.ChainHookPrerouting
		}
		prio := nftables.ChainPriority(ch.Priority)
		nc := &nftables.Chain{Name: ch.Name, Table: t, Type: nftables.ChainTypeFilter, Hooknum: hook, Priority: &prio, Policy: &accept}
		c.AddChain(nc)
		c.FlushChain(nc) // replace: the chain's old rules go
		for _, r := range ch.Rules {
			rule := &nftables.Rule{Table: t, Chain: nc, Exprs: ruleExprs(r, ch.Hook)}
			if r.Comment != "" {
				rule.UserData = userdata.AppendString(nil, userdata.TypeComment, r.Comment)
			}
			c.AddRule(rule)
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: add chains to table inet %s: %w", TableName, err)
	}
	return nil
}

func (k nftKernel) del(names []string) error {
	have, err := k.list()
	if err != nil || len(have) == 0 {
		return err
	}
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	defer c.CloseLasting()
	left := len(have)
	for _, ch := range have {
		for _, n := range names {
			if ch.Name == n {
				c.DelChain(&nftables.Chain{Name: n, Table: table})
				left--
			}
		}
	}
	if left == 0 {
		c.DelTable(table)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: delete chains %v: %w", names, err)
	}
	return nil
}

func (nftKernel) list() ([]Chain, error) {
	c, err := nftables.New()
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	defer c.CloseLasting()
	if _, err := c.ListTableOfFamily(TableName, nftables.TableFamilyINet); errors.Is(err, unix.ENOENT) {
		return nil, nil // no table: nothing of ours
	} else if err != nil {
		return nil, fmt.Errorf("nftables: table inet %s: %w", TableName, err)
	}
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil {
		return nil, fmt.Errorf("nftables: list chains: %w", err)
	}
	var out []Chain
	for _, ch := range chains {
		if ch.Table.Name != TableName {
			continue
		}
		oc := Chain{Name: ch.Name, Hook: HookEgress}
		if ch.Hooknum != nil && *ch.Hooknum == *nftables.ChainHookPrerouting {
			oc.Hook = HookIngress
		}
		if ch.Priority != nil {
			oc.Priority = int32(*ch.Priority)
		}
		rules, err := c.GetRules(table, ch)
		if err != nil {
			return nil, fmt.Errorf("nftables: rules of %s: %w", ch.Name, err)
		}
		for _, r := range rules {
			oc.Rules = append(oc.Rules, decodeRule(r))
		}
		out = append(out, oc)
	}
	return out, nil
}
