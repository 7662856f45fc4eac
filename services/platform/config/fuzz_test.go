package config_test

import (
	"errors"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/netlab/netlab/services/platform/config"
	"github.com/netlab/netlab/services/platform/config/configtest"
)

// FuzzParseByteSize: a parsed size is never negative, a plain integer
// parses to itself, and every non-negative size formats (String) to text
// that parses back to the same size.
func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"0", "1048576", "512KiB", "4MiB", "1GiB", "1.5GB", "10MB", "1 TiB",
		"-1", "-0B", "NaNB", "InfKiB", "1e308TiB", "9223372036854775807", "9223372036854775808",
		"8EiB", "0x10B", "1_000", " 7 ", "KiB", "B", "1e3kB", ".5KiB"} {
		f.Add(s, int64(len(s))<<20)
	}
	f.Add("", int64(-1))
	f.Add("1", int64(1<<62))
	f.Fuzz(func(t *testing.T, s string, n int64) {
		v, err := config.ParseByteSize(s)
		if err == nil && v < 0 {
			t.Fatalf("ParseByteSize(%q) = %d", s, v)
		}
		if i, ierr := strconv.ParseInt(strings.TrimSpace(s), 10, 64); ierr == nil && i >= 0 && (err != nil || int64(v) != i) {
			t.Fatalf("ParseByteSize(%q) = %d, %v; want %d", s, v, err, i)
		}
		for _, b := range []config.ByteSize{v, config.ByteSize(n)} {
			if b < 0 {
				continue
			}
			got, err := config.ParseByteSize(b.String())
			if err != nil || got != b {
				t.Fatalf("ParseByteSize(%q) = %d, %v; want %d", b.String(), got, err, b)
			}
			var u config.ByteSize
			if err := u.UnmarshalText([]byte(b.String())); err != nil || u != b {
				t.Fatalf("UnmarshalText(%q) = %d, %v", b.String(), u, err)
			}
		}
	})
}

// FuzzListenAddr: an accepted address splits into a host a server can bind
// (empty, an IP address or a host name) and a port from 0 to 65535; a
// rejected one gives a *config.Error naming the variable and quoting the value.
func FuzzListenAddr(f *testing.F) {
	for _, s := range []string{":8000", "0.0.0.0:8000", "127.0.0.1:0", "[::1]:80", "[fe80::1%eth0]:1",
		"localhost:65535", "my-host.example:9090", ":65536", ":-1", ":+80", "8000", "", ":",
		"a b:80", "[::1:80", "host:port", "[]:80", "a/b:80", "\x00:1", "[10.0.0.1]:80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := config.ListenAddr("LISTEN_ADDR", s)
		if err != nil {
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Var != "LISTEN_ADDR" || ce.Value != s {
				t.Fatalf("ListenAddr(%q) = %v; want a *config.Error for LISTEN_ADDR", s, err)
			}
			return
		}
		host, port, serr := net.SplitHostPort(s)
		if serr != nil {
			t.Fatalf("ListenAddr accepted %q: %v", s, serr)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			t.Fatalf("ListenAddr accepted %q with port %q", s, port)
		}
		if _, err := netip.ParseAddr(host); host != "" && err != nil && !isHostname(host) {
			t.Fatalf("ListenAddr accepted %q: host %q is neither an IP address nor a host name", s, host)
		}
	})
}

// hostName is a DNS name (RFC 1123 labels; underscores allowed, as resolvers
// accept them; an optional trailing dot), written as a pattern so that the
// fuzz target checks ListenAddr against a second, independent definition.
var hostName = regexp.MustCompile(`^(` + hostLabel + `\.)*` + hostLabel + `\.?$`)

const hostLabel = `[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?`

func isHostname(s string) bool {
	return len(s) <= 253 && hostName.MatchString(s)
}

// FuzzLoad: whatever the environment holds, Load returns errors that each
// name one of the configuration's variables, and never panics.
func FuzzLoad(f *testing.F) {
	configtest.Fuzz(f, configtest.Keys(&testConfig{}), func(environ map[string]string) error {
		var c testConfig
		return config.Load(&c, environ)
	})
}
