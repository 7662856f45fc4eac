package client

import (
	"net"
	"sync"
	"syscall"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/tcpinfo"
)

// tcpWatch reads what the kernel says of a run's connections (TCP_INFO on
// Linux). A connection keeps its last reading once it is done, so the
// run's sums never go back; done takes that last reading just before the
// connection closes, after its graceful end, so it counts every
// retransmission of the connection's life. Safe for concurrent use.
type tcpWatch struct {
	mu    sync.Mutex
	conns []syscall.Conn // nil: never opened, or done
	last  []clientcli.TCPConn
	seen  []bool // last holds a reading
}

func newTCPWatch(n int) *tcpWatch {
	return &tcpWatch{conns: make([]syscall.Conn, n), last: make([]clientcli.TCPConn, n), seen: make([]bool, n)}
}

// add watches nc as connection i.
func (w *tcpWatch) add(i int, nc net.Conn) {
	if sc, ok := nc.(syscall.Conn); ok && tcpinfo.Supported {
		w.mu.Lock()
		w.conns[i] = sc
		w.mu.Unlock()
	}
}

// done takes connection i's last reading; call it before closing it.
func (w *tcpWatch) done(i int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.read(i)
	w.conns[i] = nil
}

func (w *tcpWatch) read(i int) {
	if w.conns[i] == nil {
		return
	}
	if info, err := tcpinfo.Read(w.conns[i]); err == nil {
		w.last[i] = clientcli.TCPConn{Retransmits: info.Retransmits, Cwnd: info.Cwnd, RTT: info.RTT, DeliveryRate: info.DeliveryRate}
		w.seen[i] = true
	}
}

// reading is connection i's last reading, if it has one.
func (w *tcpWatch) reading(i int) (clientcli.TCPConn, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last[i], w.seen[i]
}

// sample reads every connection still open and returns the run's TCP part
// over every connection read at least once; with perConn, each one's own
// figures too. nil when none could be read (not Linux, or nothing opened).
func (w *tcpWatch) sample(perConn bool) *clientcli.TCP {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var conns []clientcli.TCPConn
	for i := range w.conns {
		w.read(i)
		if w.seen[i] {
			conns = append(conns, w.last[i])
		}
	}
	return clientcli.TCPOf(conns, perConn)
}
