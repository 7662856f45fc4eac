package config

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/netlab/netlab/services/platform/config"
)

// Networks is a comma-separated list of networks in CIDR form, such as
// SHUTDOWN_ALLOW's "127.0.0.0/8,::1/128", parsed once when the
// configuration loads. Spaces around an entry and empty entries are
// ignored; host bits are cleared.
//
// It is a struct rather than a []netip.Prefix because env/v11 reads a
// slice of structs (netip.Prefix is one) as a list of nested
// configurations too, and would append an empty prefix for each variable
// named 0_…, 1_… in the environment.
type Networks struct {
	prefixes []netip.Prefix
}

// ParseNetworks parses a comma-separated list of networks.
func ParseNetworks(s string) (Networks, error) {
	var n Networks
	for entry := range strings.SplitSeq(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		p, err := netip.ParsePrefix(entry)
		if err != nil {
			// A *config.Error without a variable: config.Load names it.
			return Networks{}, &config.Error{Reason: fmt.Sprintf("%q is not a network in CIDR form (e.g. 10.0.0.0/8)", entry)}
		}
		// Sources are compared unmapped, so an IPv4-mapped network
		// (::ffff:10.0.0.0/104) must be its IPv4 form to match anything.
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		n.prefixes = append(n.prefixes, p.Masked())
	}
	return n, nil
}

// UnmarshalText parses the list for env/v11.
func (n *Networks) UnmarshalText(text []byte) error {
	parsed, err := ParseNetworks(string(text))
	if err != nil {
		return err
	}
	*n = parsed
	return nil
}

// Contains reports whether a, unmapped, is in one of the networks.
func (n Networks) Contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range n.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// String lists the networks in their parsed form, comma separated.
func (n Networks) String() string {
	s := make([]string, len(n.prefixes))
	for i, p := range n.prefixes {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// ValueKind names the type in configuration errors.
func (Networks) ValueKind() string { return "list of networks in CIDR form (e.g. 10.0.0.0/8,::1/128)" }
