package rxstamp

import (
	"syscall"
	"unsafe"

	"github.com/netlab/netlab/services/udp-responder/internal/sockopt"
)

// ControlSize is the room a receive timestamp needs in the control
// message buffer of a recvmsg.
var ControlSize = syscall.CmsgSpace(int(unsafe.Sizeof(syscall.Timespec{})))

// Enable asks the kernel to timestamp every datagram received on raw.
func Enable(raw syscall.RawConn) error {
	return sockopt.SetInt(raw, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
}

// Parse returns the receive timestamp, in Unix nanoseconds, from the
// control messages of one received datagram; false when there is none. It
// allocates nothing.
func Parse(oob []byte) (unixNs int64, ok bool) {
	for len(oob) >= syscall.SizeofCmsghdr {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
		n := int(h.Len)
		if n < syscall.SizeofCmsghdr || n > len(oob) {
			return 0, false
		}
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SCM_TIMESTAMPNS &&
			n >= syscall.CmsgLen(int(unsafe.Sizeof(syscall.Timespec{}))) {
			ts := (*syscall.Timespec)(unsafe.Pointer(&oob[syscall.CmsgLen(0)]))
			return ts.Nano(), true
		}
		oob = oob[min(syscall.CmsgSpace(n-syscall.CmsgLen(0)), len(oob)):]
	}
	return 0, false
}
