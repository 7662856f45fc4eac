package udpsoak

import (
	"testing"
)

func TestProbe_ReplyRoundTrip(t *testing.T) {
	buf := make([]byte, probeSize)
	encodeProbe(buf, 42, 7, 1700000000)
	if _, err := parseReply(buf, 42); err == nil {
		t.Error("a request parsed as a reply")
	}
	buf[5] |= flagReply // what the responder does
	seq, err := parseReply(buf, 42)
	if err != nil || seq != 7 {
		t.Errorf("parseReply = %d, %v; want 7", seq, err)
	}
	if _, err := parseReply(buf, 43); err == nil {
		t.Error("a reply of another run accepted")
	}
	buf[40] ^= 1
	if _, err := parseReply(buf, 42); err == nil {
		t.Error("a damaged reply accepted")
	}
}

// TestProbe_MatchesTheDocumentedFormat pins one encoding, so a change to
// either side of the copy is noticed (docs/udp-responder.md).
func TestProbe_MatchesTheDocumentedFormat(t *testing.T) {
	buf := make([]byte, 40)
	encodeProbe(buf, 1, 2, 3)
	want := "4e4c504201000000" + "0000000000000001" + "0000000000000002" + "0000000000000003"
	got := ""
	for _, b := range buf[:32] {
		got += string("0123456789abcdef"[b>>4]) + string("0123456789abcdef"[b&15])
	}
	if got != want {
		t.Errorf("header = %s, want %s", got, want)
	}
}

func TestSNMPField(t *testing.T) {
	snmp := "Ip: Forwarding DefaultTTL\nIp: 1 64\n" +
		"Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n" +
		"Udp: 100 2 7 90 5 0\n" +
		"UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\nUdpLite: 0 0 0 0 0 0\n"
	got, err := snmpField(snmp, "Udp", "RcvbufErrors")
	if err != nil || got != 5 {
		t.Errorf("RcvbufErrors = %d, %v; want 5", got, err)
	}
	if _, err := snmpField(snmp, "Udp", "Nope"); err == nil {
		t.Error("missing field: no error")
	}
}

func TestSocketDrops(t *testing.T) {
	table := `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 0100007F:3039 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1001 2 0000000000000000 120
  101: 0100007F:3039 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1002 2 0000000000000000 30
  102: C800007F:D431 0100007F:3039 01 00000000:00000000 00:00000000 00000000     0        0 1003 2 0000000000000000 0
`
	if got, err := socketDrops(table, 12345); err != nil || got != 150 {
		t.Errorf("drops on 12345 = %d, %v; want 150 (both reuseport sockets)", got, err)
	}
	if got, err := socketDrops(table, 0xD431); err != nil || got != 0 {
		t.Errorf("drops on the client port = %d, %v; want 0", got, err)
	}
	if _, err := socketDrops(table, 9); err == nil {
		t.Error("no socket on port 9: no error")
	}
}
