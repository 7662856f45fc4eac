package responder

import (
	"encoding/binary"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/services/udp-responder/internal/rxstamp"
	"github.com/netlab/netlab/services/udp-responder/probe"
)

// batch moves up to len(hdrs) datagrams per system call with recvmmsg and
// sendmmsg (Linux). Everything it uses is allocated once per socket: the
// hot path allocates nothing, and a burst of N datagrams costs two system
// calls instead of 2N.
type batch struct {
	raw syscall.RawConn

	bufs  [][]byte
	names []unix.RawSockaddrInet6 // big enough for IPv4 and IPv6 sources
	iovs  []unix.Iovec
	hdrs  []unix.Mmsghdr
	ctrls [][]byte // control messages: the kernel's receive timestamps
	rxAt  int64    // when the last read returned, Unix ns: the fallback timestamp

	// Replies waiting for flush.
	out      int
	outIovs  []unix.Iovec
	outHdrs  []unix.Mmsghdr
	outNames []unix.RawSockaddrInet6
	outStamp [][]byte // v2 probe replies to stamp with their send time; nil for others

	// What a system call returned. The callbacks handed to RawConn are
	// made once, here, so that no call allocates a closure.
	n          int
	errno      syscall.Errno
	sendFrom   int
	recvmmsgFn func(fd uintptr) bool
	sendmmsgFn func(fd uintptr) bool

	sent   func(bytes int) // a reply went out
	failed func(err error) // a reply could not be sent
}

func newBatch(raw syscall.RawConn, size, bufSize int, sent func(int), failed func(error)) *batch {
	b := &batch{
		raw:      raw,
		sent:     sent,
		failed:   failed,
		bufs:     make([][]byte, size),
		names:    make([]unix.RawSockaddrInet6, size),
		iovs:     make([]unix.Iovec, size),
		hdrs:     make([]unix.Mmsghdr, size),
		outIovs:  make([]unix.Iovec, size),
		outHdrs:  make([]unix.Mmsghdr, size),
		outNames: make([]unix.RawSockaddrInet6, size),
		outStamp: make([][]byte, size),
		ctrls:    make([][]byte, size),
	}
	for i := range size {
		b.bufs[i] = make([]byte, bufSize)
		b.iovs[i].Base = &b.bufs[i][0]
		b.hdrs[i].Hdr.Iov = &b.iovs[i]
		b.hdrs[i].Hdr.SetIovlen(1)
		b.hdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		b.ctrls[i] = make([]byte, rxstamp.ControlSize)
		b.hdrs[i].Hdr.Control = &b.ctrls[i][0]
		b.outHdrs[i].Hdr.Iov = &b.outIovs[i]
		b.outHdrs[i].Hdr.SetIovlen(1)
		b.outHdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&b.outNames[i]))
	}
	b.recvmmsgFn = b.recvmmsg
	b.sendmmsgFn = b.sendmmsg
	return b
}

// recvmmsg and sendmmsg are RawConn callbacks: false means "wait until the
// socket is ready and call again".
func (b *batch) recvmmsg(fd uintptr) bool {
	r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.hdrs[0])),
		uintptr(len(b.hdrs)), unix.MSG_DONTWAIT, 0, 0)
	b.n, b.errno = int(r), e
	return e != syscall.EAGAIN
}

func (b *batch) sendmmsg(fd uintptr) bool {
	r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.outHdrs[b.sendFrom])),
		uintptr(b.out-b.sendFrom), unix.MSG_DONTWAIT, 0, 0)
	b.n, b.errno = int(r), e
	return e != syscall.EAGAIN
}

// read waits for datagrams and returns how many arrived (at least one).
func (b *batch) read() (int, error) {
	for i := range b.hdrs {
		b.iovs[i].SetLen(len(b.bufs[i]))
		b.hdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet6
		b.hdrs[i].Hdr.SetControllen(len(b.ctrls[i]))
		b.hdrs[i].Hdr.Flags = 0
	}
	if err := b.raw.Read(b.recvmmsgFn); err != nil {
		return 0, err
	}
	b.rxAt = time.Now().UnixNano()
	if b.errno != 0 {
		return 0, b.errno
	}
	return b.n, nil
}

// datagram returns the i-th datagram of the last read, its source and
// when it arrived. A datagram longer than the buffer is reported with the
// buffer's length plus one, so oversize datagrams are recognised.
func (b *batch) datagram(i int) ([]byte, netip.AddrPort, rxTime) {
	n := int(b.hdrs[i].Len)
	if b.hdrs[i].Hdr.Flags&unix.MSG_TRUNC != 0 {
		n = len(b.bufs[i])
	}
	rx := rxTime{unix: b.rxAt}
	if ns, ok := rxstamp.Parse(b.ctrls[i][:b.hdrs[i].Hdr.Controllen]); ok {
		rx = rxTime{unix: ns, kernel: true}
	}
	return b.bufs[i][:n], sockaddrToAddrPort(&b.names[i]), rx
}

// queue adds a reply to the i-th datagram of the last read, to be sent by
// flush. reply must stay valid until then. A v2 probe reply (stamp) gets
// its send time just before the batch is sent.
func (b *batch) queue(i int, reply []byte, stamp bool) {
	k := b.out
	b.outStamp[k] = nil
	if stamp {
		b.outStamp[k] = reply
	}
	b.outNames[k] = b.names[i]
	b.outHdrs[k].Hdr.Namelen = b.hdrs[i].Hdr.Namelen
	b.outIovs[k].Base = &reply[0]
	b.outIovs[k].SetLen(len(reply))
	b.out++
}

// flush sends the queued replies, reporting each through sent or failed.
func (b *batch) flush() {
	if b.out > 0 {
		now := time.Now().UnixNano()
		for _, r := range b.outStamp[:b.out] {
			if r != nil {
				probe.StampSend(r, now)
			}
		}
	}
	for b.sendFrom = 0; b.sendFrom < b.out; {
		err := b.raw.Write(b.sendmmsgFn)
		switch {
		case err != nil: // the socket is closed: the rest cannot be sent
			for ; b.sendFrom < b.out; b.sendFrom++ {
				b.failed(err)
			}
		case b.errno != 0: // the first queued reply failed: skip it
			b.failed(b.errno)
			b.sendFrom++
		default:
			for k := b.sendFrom; k < b.sendFrom+b.n; k++ {
				b.sent(int(b.outHdrs[k].Len))
			}
			b.sendFrom += b.n
		}
	}
	b.out = 0
}

func sockaddrToAddrPort(sa *unix.RawSockaddrInet6) netip.AddrPort {
	port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:])
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), port)
	case unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), port)
	}
	return netip.AddrPort{}
}
