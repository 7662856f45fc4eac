package soak

import (
	"testing"

	"github.com/netlab/netlab/services/udp-responder/probe"
)

func TestReplySeq_OnlyIntactRepliesOfTheRun(t *testing.T) {
	encode := func(run, seq uint64, reply bool) []byte {
		b := make([]byte, probeSize)
		if err := probe.Encode(b, probe.Probe{RunID: run, Seq: seq, SentUnix: 1700000000, Reply: reply}); err != nil {
			t.Fatal(err)
		}
		return b
	}
	damaged := encode(42, 7, true)
	damaged[40] ^= 1
	tests := []struct {
		name string
		b    []byte
		ok   bool
	}{
		{"a reply of the run", encode(42, 7, true), true},
		{"the request itself", encode(42, 7, false), false},
		{"a reply of another run", encode(43, 7, true), false},
		{"a damaged reply", damaged, false},
		{"not a probe", []byte("Hello, client!"), false},
	}
	for _, tt := range tests {
		seq, ok := replySeq(tt.b, 42)
		if ok != tt.ok || (ok && seq != 7) {
			t.Errorf("%s: replySeq = %d, %v; want 7, %v", tt.name, seq, ok, tt.ok)
		}
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
