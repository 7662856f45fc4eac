package soak

// The kernel's UDP counters the udp phase reports beside the responder's:
// datagrams dropped because a socket's receive buffer was full.

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// udpRcvbufErrors is the host's count of UDP datagrams dropped because a
// socket's receive buffer was full.
func udpRcvbufErrors() (int64, error) {
	data, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0, err
	}
	return snmpField(string(data), "Udp", "RcvbufErrors")
}

func cpuList(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}

// udpSocketDrops sums the drops column of /proc/net/udp over the sockets
// bound to local port port: datagrams the kernel discarded at those
// sockets because their receive buffers were full.
func udpSocketDrops(port int) (int64, error) {
	data, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return 0, err
	}
	return socketDrops(string(data), port)
}

func socketDrops(table string, port int) (int64, error) {
	want := fmt.Sprintf(":%04X", port)
	var total int64
	found := false
	for line := range strings.Lines(table) {
		f := strings.Fields(line)
		if len(f) < 13 || !strings.HasSuffix(f[1], want) {
			continue
		}
		n, err := strconv.ParseInt(f[len(f)-1], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/net/udp: %w", err)
		}
		total += n
		found = true
	}
	if !found {
		return 0, fmt.Errorf("/proc/net/udp: no socket on port %d", port)
	}
	return total, nil
}

// snmpField reads one counter of /proc/net/snmp, where each protocol has a
// line of names followed by a line of values.
func snmpField(snmp, proto, field string) (int64, error) {
	var names []string
	for line := range strings.Lines(snmp) {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != proto+":" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == field && i < len(f) {
				return strconv.ParseInt(f[i], 10, 64)
			}
		}
		break
	}
	return 0, fmt.Errorf("/proc/net/snmp: no %s %s", proto, field)
}
