// Package tcpinfo reads what the kernel knows of one TCP connection — the
// figures iperf3 shows beside its throughput: retransmitted segments, the
// congestion window, the smoothed round-trip time and the delivery rate.
// On Linux it is the TCP_INFO socket option; elsewhere Read says the
// system offers nothing (ErrUnsupported) and callers leave the figures out.
package tcpinfo

import (
	"errors"
	"time"
)

// Info is one reading of a connection's TCP state.
type Info struct {
	// Retransmits is every segment the connection retransmitted since it
	// opened (tcpi_total_retrans), SYN retransmissions included.
	Retransmits int64
	// Cwnd is the congestion window, in segments (tcpi_snd_cwnd).
	Cwnd int64
	// RTT is the smoothed round-trip time (tcpi_rtt, microseconds).
	RTT time.Duration
	// DeliveryRate is the kernel's latest estimate of the rate at which
	// the peer acknowledges data, in bits per second (tcpi_delivery_rate,
	// bytes per second, times 8; 0 before Linux 4.9).
	DeliveryRate int64
}

// ErrUnsupported is Read's error where the system has no TCP_INFO.
var ErrUnsupported = errors.ErrUnsupported
