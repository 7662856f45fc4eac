package tcpinfo

import (
	"fmt"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Supported reports whether Read works on this system.
const Supported = true

// Read takes one reading of c's TCP state. It is safe while other
// goroutines read from and write to c; once c is closed it fails.
func Read(c syscall.Conn) (Info, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return Info{}, fmt.Errorf("tcp_info: %w", err)
	}
	var (
		ti   *unix.TCPInfo
		gerr error
	)
	if err := rc.Control(func(fd uintptr) {
		ti, gerr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil {
		return Info{}, fmt.Errorf("tcp_info: %w", err)
	}
	if gerr != nil {
		return Info{}, fmt.Errorf("tcp_info: %w", gerr)
	}
	return Info{
		Retransmits:  int64(ti.Total_retrans),
		Cwnd:         int64(ti.Snd_cwnd),
		RTT:          time.Duration(ti.Rtt) * time.Microsecond,
		DeliveryRate: int64(min(ti.Delivery_rate, 1<<60)) * 8,
	}, nil
}
