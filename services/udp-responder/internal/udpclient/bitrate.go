package udpclient

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/netlab/netlab/services/platform/clientcli"
)

// ParseBitrate reads a bit rate in bits per second, as iperf3's -b takes
// it: a number with an optional SI suffix k, M, G or T (powers of 1000),
// e.g. 500k, 10M, 1.5G. It must be above 0.
func ParseBitrate(s string) (float64, error) {
	num, mult := s, 1.0
	if i := strings.IndexAny(s, "kKmMgGtT"); i >= 0 && i == len(s)-1 {
		num = s[:i]
		mult = map[byte]float64{'k': 1e3, 'm': 1e6, 'g': 1e9, 't': 1e12}[s[i]|0x20]
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 || strings.ContainsAny(num, "xXpP_") {
		return 0, fmt.Errorf("%q is not a bit rate: want bits per second above 0, e.g. 1000000, 500k, 10M or 1.5G", s)
	}
	return v * mult, nil
}

// PacketsPerSecond is the probe rate that carries bitrate (bits per
// second) in datagrams of size bytes (their UDP payload).
func PacketsPerSecond(bitrate float64, size int) float64 { return bitrate / (8 * float64(size)) }

// formatBits is bps as every client writes a bit rate ("544.00 kbit/s").
func formatBits(bps float64) string { return clientcli.FormatBits(int64(math.Round(bps))) }
