package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/wire"
)

var errConnClosed = errors.New("connection closed")

// peerConn is this node's connection to one peer, on which it sends
// requests. Requests may be pipelined: the peer answers them in order, so
// each reply goes to the oldest request still waiting.
type peerConn struct {
	addr  string
	hello wire.Hello
	wc    *wire.Conn
	// onAnnounce takes the pieces the peer announces (version 2); an
	// error is the peer's fault and closes the connection.
	onAnnounce func(addr string, m *wire.Announce) error
	// idleWait is how long the read loop waits for a frame at a time
	// while no request is waiting for its answer.
	idleWait time.Duration
	// metrics count the error frames and bad frames the peer sends.
	metrics *metrics

	sendMu  sync.Mutex
	pending chan *call

	closeOnce sync.Once
	closed    chan struct{}
	mu        sync.Mutex
	err       error

	// pieceBuf is the pooled buffer the read loop's current Receive reads
	// piece data into (see pieceBuffer); only the read loop uses it.
	pieceBuf *[]byte
}

type call struct {
	done chan reply
}

// reply is an answer detached from the connection's read buffer: piece
// data is in a pooled buffer the caller returns with release.
type reply struct {
	msg wire.Message
	buf *[]byte
	err error
}

func (r reply) release() {
	if r.buf != nil {
		putBuffer(r.buf)
	}
}

// dial connects to addr and runs the handshake.
func (n *Node) dial(ctx context.Context, addr string) (*peerConn, error) {
	d := net.Dialer{Timeout: n.cfg.DialTimeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	wc := wire.NewConn(c, n.cfg.IOTimeout)
	hello, err := n.greet(wc)
	if err != nil {
		n.metrics.countFault(err, func(e *wire.Error) { _ = wc.Send(e) })
		wc.Close()
		return nil, err
	}
	pc := &peerConn{
		addr: addr, hello: *hello, wc: wc, onAnnounce: n.downloads.announced,
		idleWait: min(time.Second, n.cfg.IOTimeout), metrics: n.metrics,
		// Enough for every download's requests plus the periodic polls.
		pending: make(chan *call, n.cfg.RequestsPerPeer*n.cfg.MaxDownloads+16),
		closed:  make(chan struct{}),
	}
	wc.SetPieceBuffers(pc.pieceBuffer)
	go pc.readLoop()
	return pc, nil
}

// do sends req and waits for its answer. A Reject is an answer, not an
// error; Error frames and I/O failures close the connection.
func (pc *peerConn) do(ctx context.Context, req wire.Message) reply {
	c := &call{done: make(chan reply, 1)}
	pc.sendMu.Lock()
	select {
	case pc.pending <- c:
	case <-pc.closed:
		pc.sendMu.Unlock()
		return reply{err: pc.closeErr()}
	case <-ctx.Done():
		pc.sendMu.Unlock()
		return reply{err: ctx.Err()}
	}
	err := pc.wc.Send(req)
	pc.sendMu.Unlock()
	if err != nil {
		pc.close(fmt.Errorf("send %s: %w", req.Type(), err))
	}
	select {
	case r := <-c.done:
		return r
	case <-ctx.Done():
		// The reply, when it comes, is dropped by the read loop's buffered send.
		return reply{err: ctx.Err()}
	case <-pc.closed:
		select {
		case r := <-c.done:
			return r
		default:
			return reply{err: pc.closeErr()}
		}
	}
}

// readLoop reads the peer's frames until the connection ends: each answer
// goes to the oldest request still waiting (the peer answers in order),
// and announcements go to onAnnounce whenever they come.
func (pc *peerConn) readLoop() {
	var waiting *call // the oldest request not answered yet
	for {
		if waiting == nil {
			waiting = pc.nextCall()
		}
		if waiting == nil {
			// Nothing asked: wait for a frame the peer sends unasked.
			err := pc.wc.Wait(pc.idleWait)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			if err != nil {
				pc.fail(nil, fmt.Errorf("receive: %w", err))
				return
			}
			waiting = pc.nextCall() // a request sent while it waited
		}
		msg, err := pc.wc.Receive(0)
		if err == nil {
			err = pc.unasked(msg, waiting)
		}
		if err != nil {
			pc.metrics.countFault(err, pc.tell)
			pc.fail(waiting, err)
			return
		}
		if _, ok := msg.(*wire.Announce); !ok {
			waiting.done <- pc.detach(msg)
			waiting = nil
		}
	}
}

// nextCall returns the oldest request waiting for its answer, or nil.
func (pc *peerConn) nextCall() *call {
	select {
	case c := <-pc.pending:
		return c
	default:
		return nil
	}
}

// unasked handles a frame that answers no request: an announcement, an
// error, or an answer when none is due (a protocol error).
func (pc *peerConn) unasked(msg wire.Message, waiting *call) error {
	switch m := msg.(type) {
	case *wire.Announce:
		if err := pc.onAnnounce(pc.addr, m); err != nil {
			pc.tellProtocolError(err)
			return err
		}
	case *wire.Error:
		return newPeerError(m)
	default:
		if waiting == nil {
			err := fmt.Errorf("%w %s: no request is waiting for an answer", errUnexpected, msg.Type())
			pc.tellProtocolError(err)
			return err
		}
	}
	return nil
}

// tellProtocolError sends the peer error(protocol) before the connection
// closes.
func (pc *peerConn) tellProtocolError(err error) {
	pc.tell(&wire.Error{Code: wire.ErrorProtocol, Message: err.Error()})
}

// tell sends the peer an error before the connection closes, unless a
// request is being sent (best effort: it is closing anyway).
func (pc *peerConn) tell(e *wire.Error) {
	if pc.sendMu.TryLock() {
		_ = pc.wc.Send(e)
		pc.sendMu.Unlock()
	}
}

// leave tells the peer the node is shutting down, within shutdownNotice
// once the request being sent (if any) is out, and closes the connection.
func (pc *peerConn) leave() {
	pc.sendMu.Lock()
	if !pc.isClosed() {
		_ = pc.wc.SendWithin(goodbye(), shutdownNotice)
	}
	pc.sendMu.Unlock()
	pc.close(errors.New("node shutting down"))
}

// fail closes the connection with err and fails every request waiting.
func (pc *peerConn) fail(waiting *call, err error) {
	pc.close(err)
	if waiting != nil {
		waiting.done <- reply{err: pc.closeErr()}
	}
	pc.failPending()
}

// pieceBuffer hands Receive a pooled buffer to read piece data into, so
// the data outlives the next Receive without a copy. A length no piece
// has is left to the connection's buffer (it fails verification anyway).
func (pc *peerConn) pieceBuffer(n int) []byte {
	if n > content.MaxPieceSize {
		return nil
	}
	pc.pieceBuf = getBuffer(n)
	return *pc.pieceBuf
}

// detach copies what aliases the read buffer; piece data read into a
// pooled buffer (pieceBuffer) goes with the reply as it is.
func (pc *peerConn) detach(msg wire.Message) reply {
	own := pc.pieceBuf
	pc.pieceBuf = nil
	switch m := msg.(type) {
	case *wire.Piece:
		if own != nil && len(m.Data) > 0 && &m.Data[0] == &(*own)[0] {
			return reply{msg: m, buf: own}
		}
		if len(m.Data) > content.MaxPieceSize {
			// Too long for any piece: it fails verification by its length.
			return reply{msg: &wire.Piece{ID: m.ID, Index: m.Index, Data: append([]byte(nil), m.Data...)}}
		}
		bufp := getBuffer(len(m.Data))
		data := (*bufp)[:copy(*bufp, m.Data)]
		return reply{msg: &wire.Piece{ID: m.ID, Index: m.Index, Data: data}, buf: bufp}
	case *wire.Have:
		return reply{msg: &wire.Have{ID: m.ID, Pieces: m.Pieces, Bits: append([]byte(nil), m.Bits...)}}
	}
	return reply{msg: msg}
}

func (pc *peerConn) failPending() {
	for {
		select {
		case c := <-pc.pending:
			c.done <- reply{err: pc.closeErr()}
		default:
			return
		}
	}
}

func (pc *peerConn) close(err error) {
	pc.closeOnce.Do(func() {
		pc.mu.Lock()
		pc.err = err
		pc.mu.Unlock()
		close(pc.closed)
		pc.wc.Close()
	})
}

func (pc *peerConn) closeErr() error {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.err == nil {
		return errConnClosed
	}
	return pc.err
}

func (pc *peerConn) isClosed() bool {
	select {
	case <-pc.closed:
		return true
	default:
		return false
	}
}
