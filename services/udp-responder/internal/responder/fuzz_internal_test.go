package responder

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/netlab/netlab/services/udp-responder/internal/config"
	"github.com/netlab/netlab/services/udp-responder/probe"
)

// FuzzDecide: whatever arrives, from wherever, the responder never answers
// with more than MAX_AMPLIFICATION times the request, never answers a
// datagram that is empty, too large, from its own port, an exit command or
// one of its own replies, answers only with the request itself (a probe
// marked as a reply) or the greeting, and shuts down only for exactly
// "exit <token>" from an allowed network.
func FuzzDecide(f *testing.F) {
	pr := make([]byte, 64)
	_ = probe.Encode(pr, probe.Probe{RunID: 1, Seq: 2})
	reply := bytes.Clone(pr)
	probe.MarkReply(reply)
	for _, req := range [][]byte{[]byte("Hello"), []byte("exit"), []byte("exit s3cretToken"), []byte("exit s3cretToken\r\n"),
		[]byte("exit s3cretToken\n\n"), []byte("exit  s3cretToken"), []byte("exit wrong"), []byte("Hello, client!"), pr, reply, {}, []byte("x")} {
		f.Add(req, []byte{127, 0, 0, 1}, uint16(40000), false, "s3cretToken", "127.0.0.0/8,::1/128", uint8(99))
		f.Add(req, []byte{10, 0, 0, 1}, uint16(40000), true, "s3cretToken", "127.0.0.0/8", uint8(0))
	}
	f.Add([]byte("exit s3cretToken"), []byte(netip.MustParseAddr("::ffff:127.0.0.1").AsSlice()), uint16(1), false, "s3cretToken", "127.0.0.0/8", uint8(99))
	f.Add([]byte("exit s3cretToken"), []byte(netip.MustParseAddr("::1").AsSlice()), uint16(1), false, "s3cretToken", "::ffff:127.0.0.0/104", uint8(99))
	f.Add([]byte("exit s3cretToken"), []byte{127, 0, 0, 1}, uint16(1), false, "s3cretToken", "::ffff:127.0.0.0/104", uint8(99))
	f.Add([]byte("ping"), []byte{127, 0, 0, 1}, uint16(12345), true, "", "", uint8(99))
	f.Fuzz(func(t *testing.T, req, srcIP []byte, srcPort uint16, echo bool, token, allow string, amp uint8) {
		if len(req) > 4096 {
			return
		}
		cfg := config.Config{
			Mode: config.ModeGreet, Greeting: "Hello, client!", MaxDatagram: 2048,
			MaxAmplification: float64(amp%100+1) / 100,
			RateLimit:        1e7, RateBurst: 1_000_000, RateTableSize: 64,
			ShutdownToken: token,
		}
		if echo {
			cfg.Mode = config.ModeEcho
		}
		nets, err := config.ParseNetworks(allow)
		if err != nil {
			return
		}
		cfg.ShutdownAllow = nets
		p := newPolicy(cfg, 12345)
		ip, ok := netip.AddrFromSlice(srcIP)
		if !ok {
			ip = netip.IPv4Unspecified()
		}
		src := netip.AddrPortFrom(ip, srcPort)
		in := bytes.Clone(req)
		v := p.decide(src, req)

		if v.reply == nil && v.dropped == "" || v.reply != nil && v.dropped != "" {
			t.Fatalf("verdict %+v: a reply or a reason, not both or neither", v)
		}
		if v.shutdown {
			cmd := bytes.TrimRight(in, "\r\n")
			if token == "" || string(cmd) != "exit "+token || !nets.Contains(ip) || v.reply != nil {
				t.Fatalf("shut down on %q from %v (token %q, allow %q)", in, src, token, allow)
			}
		}
		if cmd := bytes.TrimRight(in, "\r\n"); token != "" && string(cmd) == "exit "+token && len(in) <= cfg.MaxDatagram &&
			srcPort != 12345 && allowedAsWritten(allow, ip) && !v.shutdown {
			t.Fatalf("no shut down on %q from %v (allow %q): %+v", in, src, allow, v)
		}
		if v.reply == nil {
			return
		}
		if float64(len(v.reply)) > float64(len(in))*cfg.MaxAmplification {
			t.Fatalf("%d-byte reply to %d bytes with MAX_AMPLIFICATION %v", len(v.reply), len(in), cfg.MaxAmplification)
		}
		switch {
		case len(in) == 0 || len(in) > cfg.MaxDatagram || srcPort == 12345:
			t.Fatalf("answered a datagram of %d bytes from %v", len(in), src)
		case isExit(bytes.TrimRight(in, "\r\n")):
			t.Fatalf("answered the exit command %q", in)
		case probe.IsReply(in) || string(in) == cfg.Greeting:
			t.Fatalf("answered what looks like our own reply: %q", in)
		}
		switch {
		case probe.IsProbe(in):
			want := bytes.Clone(in)
			probe.MarkReply(want)
			if !bytes.Equal(v.reply, want) {
				t.Fatal("a probe was not answered with itself marked as a reply")
			}
		case echo:
			if !bytes.Equal(v.reply, in) {
				t.Fatal("echo mode did not echo")
			}
		case string(v.reply) != cfg.Greeting:
			t.Fatalf("greet mode replied %q", v.reply)
		}
	})
}

// allowedAsWritten reports whether one of the networks in allow contains ip,
// an IPv4 address and its IPv4-mapped IPv6 form counting as the same inside
// an IPv4-mapped network (::ffff:a.b.c.d/96 and longer); a wider IPv6
// network such as ::/0 is for IPv6 sources only.
func allowedAsWritten(allow string, ip netip.Addr) bool {
	for _, f := range strings.Split(allow, ",") {
		q, err := netip.ParsePrefix(strings.TrimSpace(f))
		if err != nil {
			continue
		}
		mapped := q.Addr().Is4In6() && q.Bits() >= 96
		if q.Contains(ip.Unmap()) || mapped && q.Contains(netip.AddrFrom16(ip.Unmap().As16())) {
			return true
		}
	}
	return false
}
