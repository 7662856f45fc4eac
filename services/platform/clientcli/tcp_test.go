package clientcli_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
)

// TestReporting_TCPPart: a run that reads TCP figures gets, in each
// interval, the retransmits of that interval (per connection and summed)
// and the gauges as sampled; the intervals' retransmits add up to the run's.
// A run that reads none prints no TCP part.
func TestReporting_TCPPart(t *testing.T) {
	var (
		mu   sync.Mutex
		step int64
		got  []clientcli.Interval
	)
	sample := func() clientcli.Totals {
		mu.Lock()
		defer mu.Unlock()
		step++
		conns := []clientcli.TCPConn{
			{Retransmits: step, Cwnd: 10, RTT: time.Millisecond, DeliveryRate: 1e9},
			{Retransmits: 2 * step, Cwnd: 20, RTT: 3 * time.Millisecond, DeliveryRate: 2e9},
		}
		return clientcli.Totals{Ops: step, TCP: clientcli.TCPOf(conns, true)}
	}
	stop := clientcli.Reporting{Every: 5 * time.Millisecond, Emit: func(iv clientcli.Interval) { got = append(got, iv) }}.Start(sample)
	time.Sleep(30 * time.Millisecond)
	stop()
	final := sample().TCP // one step later than the last interval's sample
	var retr int64
	for i, iv := range got {
		tcp := iv.TCP
		if tcp == nil || tcp.Connections != 2 || len(tcp.Conns) != 2 || tcp.Cwnd != 15 || tcp.RTT != 2*time.Millisecond || tcp.DeliveryRate != 3e9 {
			t.Fatalf("interval %d TCP %+v: want 2 connections, cwnd mean 15, rtt mean 2ms, rate sum 3e9", i, tcp)
		}
		if tcp.Retransmits != tcp.Conns[0].Retransmits+tcp.Conns[1].Retransmits || tcp.Conns[1].Retransmits != 2*tcp.Conns[0].Retransmits {
			t.Errorf("interval %d retransmits %d, per connection %+v", i, tcp.Retransmits, tcp.Conns)
		}
		retr += tcp.Retransmits
	}
	// Each sample adds 3 retransmits; the intervals hold those from the
	// sample Start took to the last one before final.
	if want := final.Retransmits - 3 - 3; len(got) < 2 || retr != want {
		t.Errorf("%d intervals with %d retransmits, want %d", len(got), retr, want)
	}

	var text, js bytes.Buffer
	_ = got[0].WriteText(&text)
	_ = got[0].WriteJSON(&js)
	if !strings.Contains(text.String(), " tcp retr 3 cwnd 15 rtt 2ms rate 3.00 Gbit/s (2 conns: cwnd, rtt mean; retr, rate sum)\n") {
		t.Errorf("text %q", text.String())
	}
	var v struct {
		TCP *clientcli.TCPJSON `json:"tcp"`
	}
	if err := json.Unmarshal(js.Bytes(), &v); err != nil || v.TCP == nil || v.TCP.Retransmits != 3 || len(v.TCP.Conns) != 2 || v.TCP.Conns[1].RTTNs != 3e6 {
		t.Errorf("JSON %s (%v)", js.String(), err)
	}

	text.Reset()
	js.Reset()
	plain := clientcli.Interval{End: time.Second, Ops: 1}
	_ = plain.WriteText(&text)
	_ = plain.WriteJSON(&js)
	if strings.Contains(text.String(), "tcp") || strings.Contains(js.String(), "tcp") {
		t.Errorf("an interval without TCP figures printed some: %q %s", text.String(), js.String())
	}
}

func TestFormatBits(t *testing.T) {
	for bps, want := range map[int64]string{0: "0 bit/s", 999: "999 bit/s", 950_000: "950.00 kbit/s", 1_200_000_000: "1.20 Gbit/s", 3e12: "3.00 Tbit/s"} {
		if got := clientcli.FormatBits(bps); got != want {
			t.Errorf("FormatBits(%d) = %q, want %q", bps, got, want)
		}
	}
}
