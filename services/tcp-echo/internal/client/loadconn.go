package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netlab/netlab/services/platform/loadgen"
	"github.com/netlab/netlab/services/platform/neterr"
)

// errStopped ends a connection's loop when the run is over.
var errStopped = errors.New("load run stopped")

// loadConn is one connection of a load run, driven by one goroutine. Each
// message is the next Size bytes of the pattern stream, from an offset that
// differs between connections, so an echo that is shifted, repeated or
// crossed with another connection's does not match.
type loadConn struct {
	nc      net.Conn
	id      int // the connection's number in the run
	pat     []byte
	off     int // of the next message in pat, < patternPeriod
	size    int
	timeout time.Duration
	buf     []byte // min(size, loadReadChunk) bytes
	tt      *loadgen.Timetable
	sent    *atomic.Int64 // messages of the run handed to the connection
	stop    *atomic.Bool
	watch   *tcpWatch // nil: no TCP readings

	// mu orders an interrupt against the start of the graceful close, so
	// that no interrupt lands on the drain.
	mu       sync.Mutex
	draining bool

	// A writer goroutine for messages too large to write before reading.
	wreq  chan []byte
	wres  chan error
	wdone chan struct{}
}

// loadShared is what every connection of a run shares.
type loadShared struct {
	size    int
	timeout time.Duration
	tt      *loadgen.Timetable
	sent    *atomic.Int64
	stop    *atomic.Bool
	watch   *tcpWatch
}

func newLoadConn(nc net.Conn, i int, sh loadShared) *loadConn {
	lc := &loadConn{
		nc:      nc,
		id:      i,
		pat:     loadPattern(),
		off:     int(uint64(i) * patternSeed % patternPeriod),
		size:    sh.size,
		timeout: sh.timeout,
		buf:     make([]byte, min(sh.size, loadReadChunk)),
		tt:      sh.tt,
		sent:    sh.sent,
		stop:    sh.stop,
		watch:   sh.watch,
	}
	if sh.size > inlineWriteMax {
		lc.wreq = make(chan []byte)
		lc.wres = make(chan error, 1)
		lc.wdone = make(chan struct{})
		go func() {
			defer close(lc.wdone)
			for msg := range lc.wreq {
				_, err := nc.Write(msg)
				lc.wres <- err
			}
		}()
	}
	return lc
}

// close closes the connection at once and waits for the writer goroutine.
func (lc *loadConn) close() {
	lc.stopWriter()
	lc.lastReading()
	_ = lc.nc.Close()
}

func (lc *loadConn) stopWriter() {
	if lc.wreq != nil {
		close(lc.wreq)
		<-lc.wdone
		lc.wreq = nil
	}
}

func (lc *loadConn) lastReading() {
	if lc.watch != nil {
		lc.watch.done(lc.id)
	}
}

// interrupt makes a blocked read or write return at once without closing
// the connection, so that it can still be closed gracefully; a connection
// already draining is left alone.
func (lc *loadConn) interrupt() {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if !lc.draining {
		_ = lc.nc.SetDeadline(time.Unix(1, 0))
	}
}

// closeGracefully ends a connection whose run is over: it half-closes,
// reads and discards the echo of whatever was still in flight until the
// server closes too, and only then closes. Closing with bytes unread would
// send a reset, and the server would count a clean run as read and write
// errors. The last TCP reading is taken once the server has closed, when
// nothing is left to retransmit.
func (lc *loadConn) closeGracefully() {
	lc.stopWriter()
	defer lc.nc.Close()
	defer lc.lastReading()
	lc.mu.Lock()
	lc.draining = true
	lc.mu.Unlock()
	cw, ok := lc.nc.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	if lc.nc.SetDeadline(time.Now().Add(min(lc.timeout, maxDrain))) != nil {
		return
	}
	_, _ = io.Copy(io.Discard, lc.nc)
}

// run claims a slot of the timetable and does its round trip until the
// timetable has no more for it (the count is reached, the end has come or
// ctx ended: nil) or a round trip fails, then closes the connection:
// gracefully after a stop, at once after a failure.
func (lc *loadConn) run(ctx context.Context) error {
	for {
		slot, ok := lc.tt.Next(ctx)
		if !ok {
			lc.closeGracefully()
			return nil
		}
		if err := lc.step(slot); err != nil {
			if err == errStopped || lc.stop.Load() {
				lc.closeGracefully()
				return nil // an error caused by the stop is not a failure
			}
			lc.close()
			return err
		}
	}
}

// step does the round trip of slot and records it. It allocates nothing
// unless it fails.
func (lc *loadConn) step(slot loadgen.Slot) error {
	msg := lc.pat[lc.off : lc.off+lc.size]
	if err := lc.nc.SetDeadline(time.Now().Add(lc.timeout)); err != nil {
		return &neterr.OpError{Op: "send", Err: err}
	}
	// Checked after setting the deadline: a stop that came before it has
	// been seen here, and one that comes after it interrupts this step.
	if lc.stop.Load() {
		return errStopped
	}
	lc.sent.Add(1)
	if lc.wreq == nil {
		if _, err := lc.nc.Write(msg); err != nil {
			return writeError(err, lc.timeout)
		}
	} else {
		lc.wreq <- msg
	}
	err := lc.readEcho(msg)
	if lc.wreq != nil {
		if err != nil {
			_ = lc.nc.SetWriteDeadline(time.Unix(1, 0)) // unblock the writer now
		}
		if werr := <-lc.wres; werr != nil && err == nil {
			err = writeError(werr, lc.timeout)
		}
	}
	if err != nil {
		return err
	}
	end := time.Now()
	if lc.stop.Load() {
		return errStopped // finished after the end of the run: not counted
	}
	lc.tt.Record(lc.id, slot, end)
	lc.off += lc.size
	if lc.off >= patternPeriod {
		lc.off -= patternPeriod
	}
	return nil
}

func (lc *loadConn) readEcho(msg []byte) error {
	got := 0
	for got < len(msg) {
		n, err := lc.nc.Read(lc.buf[:min(len(lc.buf), len(msg)-got)])
		if n > 0 {
			if want := msg[got : got+n]; !bytes.Equal(lc.buf[:n], want) {
				i := firstDiff(lc.buf[:n], want)
				end := min(n, i+16)
				return &MismatchError{
					Offset:   int64(got + i),
					At:       int64(got + i),
					Sent:     bytes.Clone(want[i:end]),
					Received: bytes.Clone(lc.buf[i:end]),
				}
			}
			got += n
		}
		if err != nil && got < len(msg) {
			return readError(err, lc.timeout, int64(got), int64(len(msg)), false)
		}
	}
	return nil
}
