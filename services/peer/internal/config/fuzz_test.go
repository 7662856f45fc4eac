package config_test

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/netlab/netlab/services/peer/internal/config"
	"github.com/netlab/netlab/services/platform/config/configtest"
)

// FuzzSeedAddr: a seed or a peer-exchange address that SeedAddr accepts is
// normalised to a host:port that splits cleanly, with a port from 1 to
// 65535 and a host without spaces, slashes or brackets, and normalising it
// again changes nothing (peers compare addresses as strings).
func FuzzSeedAddr(f *testing.F) {
	for _, s := range []string{"peer", "peer:8001", "10.0.0.2", "10.0.0.2:9", "[::1]", "[::1]:8001", "::1",
		"fe80::1%eth0", " peer ", "peer:0", "peer:65536", "peer:-1", ":8001", "a b", "a/b", "[a]b",
		"a]b", "[[x]]", "peer:+80", "peer:0x10", "", "[", "]:1", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		addr, err := config.SeedAddr(s)
		if err != nil {
			if addr != "" {
				t.Fatalf("SeedAddr(%q) = %q, %v", s, addr, err)
			}
			return
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatalf("SeedAddr(%q) = %q, which does not split: %v", s, addr, err)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			t.Fatalf("SeedAddr(%q) = %q: port %q", s, addr, port)
		}
		if host == "" || strings.ContainsAny(host, " /[]") {
			t.Fatalf("SeedAddr(%q) = %q: host %q", s, addr, host)
		}
		if again, err := config.SeedAddr(addr); err != nil || again != addr {
			t.Fatalf("SeedAddr(%q) = %q, but SeedAddr(%q) = %q, %v", s, addr, addr, again, err)
		}
	})
}

// FuzzLoad: whatever the environment holds, Load returns errors that each
// name one of the node's variables, and never panics.
func FuzzLoad(f *testing.F) { configtest.FuzzLoad(f, config.Load) }
