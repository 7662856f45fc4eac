package poller

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Target is a service to poll: its name on the dashboard and the host and
// port of its admin listener. The host is looked up at every round, and
// every address it resolves to is a replica (a compose service name
// resolves to every container of a scaled service).
type Target struct {
	Service string
	Host    string
	Port    string
}

// Addr is host:port.
func (t Target) Addr() string { return net.JoinHostPort(t.Host, t.Port) }

// MaxTargets bounds the list.
const MaxTargets = 256

// ParseTargets reads "name=host:port,name=host:port...". A name may come
// more than once: its addresses are replicas of one service.
func ParseTargets(s string) ([]Target, error) {
	var out []Target
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, addr, ok := strings.Cut(item, "=")
		if !ok || !validName(name) {
			return nil, fmt.Errorf("%q: want name=host:port with a name of letters, digits, '-' or '_'", item)
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host == "" {
			return nil, fmt.Errorf("%q: want name=host:port", item)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("%q: port %q is not 1-65535", item, port)
		}
		out = append(out, Target{Service: name, Host: host, Port: port})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no target")
	}
	if len(out) > MaxTargets {
		return nil, fmt.Errorf("%d targets, at most %d", len(out), MaxTargets)
	}
	return out, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
