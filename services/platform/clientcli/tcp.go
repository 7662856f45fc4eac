package clientcli

import (
	"fmt"
	"time"

	"github.com/netlab/netlab/services/platform/latency"
)

// TCPConn is what the kernel says of one TCP connection of a run (Linux
// TCP_INFO; see platform/tcpinfo).
type TCPConn struct {
	Retransmits  int64         // retransmitted segments: so far in Totals, in the interval in an Interval
	Cwnd         int64         // congestion window, segments
	RTT          time.Duration // smoothed round-trip time
	DeliveryRate int64         // bit/s, the kernel's latest estimate
}

// TCP is the optional TCP part of Totals and Interval: the retransmits
// summed over the run's connections (so far, or in the interval), and the
// congestion window and RTT as a mean over them, the delivery rates as a
// sum, as sampled last. Conns keeps each connection's own figures when the
// mode reports them one by one (bulk streams); nil otherwise.
type TCP struct {
	Connections  int
	Retransmits  int64
	Cwnd         int64
	RTT          time.Duration
	DeliveryRate int64
	Conns        []TCPConn
}

// TCPOf sums up conns; with perConn it keeps them too. nil when conns is
// empty (nothing could be read).
func TCPOf(conns []TCPConn, perConn bool) *TCP {
	if len(conns) == 0 {
		return nil
	}
	t := &TCP{Connections: len(conns)}
	var rtt time.Duration
	for _, c := range conns {
		t.Retransmits += c.Retransmits
		t.Cwnd += c.Cwnd
		rtt += c.RTT
		t.DeliveryRate += c.DeliveryRate
	}
	t.Cwnd = (t.Cwnd + int64(len(conns))/2) / int64(len(conns))
	t.RTT = rtt / time.Duration(len(conns))
	if perConn {
		t.Conns = conns
	}
	return t
}

// since is t with the retransmits of each connection since prev (an earlier
// sample of the same connections) in place of their totals.
func (t *TCP) since(prev *TCP) *TCP {
	if t == nil {
		return nil
	}
	d := *t
	if prev != nil {
		d.Retransmits -= prev.Retransmits
	}
	if t.Conns != nil {
		d.Conns = make([]TCPConn, len(t.Conns))
		for i, c := range t.Conns {
			if prev != nil && i < len(prev.Conns) {
				c.Retransmits -= prev.Conns[i].Retransmits
			}
			d.Conns[i] = c
		}
	}
	return &d
}

// String renders t as in iperf3's columns: "retr 3 cwnd 10 rtt 120µs rate
// 1.20 Gbit/s", with "(4 conns: cwnd, rtt mean; retr, rate sum)" after it
// for several connections.
func (t *TCP) String() string {
	s := fmt.Sprintf("retr %d cwnd %d rtt %s rate %s", t.Retransmits, t.Cwnd, latency.Format(t.RTT), FormatBits(t.DeliveryRate))
	if t.Connections > 1 {
		s += fmt.Sprintf(" (%d conns: cwnd, rtt mean; retr, rate sum)", t.Connections)
	}
	return s
}

// FormatBits renders a rate in bit/s with an SI prefix: "950 kbit/s",
// "1.20 Gbit/s".
func FormatBits(bps int64) string {
	v := float64(bps)
	for _, u := range []string{"bit/s", "kbit/s", "Mbit/s", "Gbit/s"} {
		if v < 1000 {
			if u == "bit/s" {
				return fmt.Sprintf("%.0f %s", v, u)
			}
			return fmt.Sprintf("%.2f %s", v, u)
		}
		v /= 1000
	}
	return fmt.Sprintf("%.2f Tbit/s", v)
}

// TCPConnJSON is one connection's TCP figures in JSON.
type TCPConnJSON struct {
	Retransmits     int64 `json:"retransmits"`
	Cwnd            int64 `json:"cwnd"`
	RTTNs           int64 `json:"rtt_ns"`
	DeliveryRateBps int64 `json:"delivery_rate_bps"`
}

// TCPJSON is TCP as every client writes it, under the key "tcp".
type TCPJSON struct {
	Connections     int           `json:"connections"`
	Retransmits     int64         `json:"retransmits"`
	Cwnd            int64         `json:"cwnd"`
	RTTNs           int64         `json:"rtt_ns"`
	DeliveryRateBps int64         `json:"delivery_rate_bps"`
	Conns           []TCPConnJSON `json:"conns,omitempty"`
}

// JSON returns t in its JSON shape; nil for nil.
func (t *TCP) JSON() *TCPJSON {
	if t == nil {
		return nil
	}
	j := &TCPJSON{Connections: t.Connections, Retransmits: t.Retransmits, Cwnd: t.Cwnd,
		RTTNs: int64(t.RTT), DeliveryRateBps: t.DeliveryRate}
	for _, c := range t.Conns {
		j.Conns = append(j.Conns, TCPConnJSON{c.Retransmits, c.Cwnd, int64(c.RTT), c.DeliveryRate})
	}
	return j
}
