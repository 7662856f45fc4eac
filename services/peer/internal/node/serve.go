package node

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/peer/api"
	"github.com/netlab/netlab/services/peer/internal/announce"
	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/share"
	"github.com/netlab/netlab/services/peer/internal/wire"
	"github.com/netlab/netlab/services/platform/netserve"
)

// startConn answers an accepted connection in a goroutine the node waits
// for at shutdown; release frees its slot in the accept loop. Called on the
// accept loop's goroutine: a connection over the handshake budget is
// refused without holding a slot.
func (n *Node) startConn(ctx context.Context, c net.Conn, release func()) {
	done, reason := n.handshakes.take(c.RemoteAddr())
	if reason != "" {
		release()
		n.metrics.connsRejected.WithLabelValues(reason).Inc()
		n.refusals.refused(c.RemoteAddr(), reason)
		go refuse(c, n.cfg.IOTimeout, "too many connections in the handshake ("+strings.ToUpper("max_"+reason)+")")
		return
	}
	n.goFunc(func() {
		defer release()
		n.serveConn(ctx, c, done)
	})
}

// refuse tells a connection over a limit why it is closed.
func refuse(c net.Conn, timeout time.Duration, why string) {
	wc := wire.NewConn(c, min(timeout, time.Second))
	_ = wc.Send(&wire.Error{Code: wire.ErrorBusy, Message: why})
	wc.Close()
}

// servedConn is a connection this node answers: the peer dialed it.
type servedConn struct {
	wc   *wire.Conn
	peer string // its address, or its remote address when it cannot be dialed
	// mu keeps frames whole: answers and announcements share the stream.
	mu sync.Mutex
	// ann queues the pieces to announce to the peer; nil on a version-1
	// connection and when this node serves no pieces.
	ann *announce.Queue
	// busy: a request is being answered. ready: the handshake is done and
	// the connection holds a MAX_CONNS slot; from then on every frame is
	// sent under mu, so shutdown may send one from another goroutine.
	busy, ready atomic.Bool
	bye         sync.Once // error(shutdown) is sent once
}

func (sc *servedConn) send(m wire.Message) error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.wc.Send(m)
}

// leave tells the peer the node is shutting down, once and within
// shutdownNotice, when the handshake is done; an error frame in the
// middle of the handshake could interleave with the handshake's own.
func (sc *servedConn) leave() {
	if !sc.ready.Load() {
		return
	}
	sc.bye.Do(func() {
		sc.mu.Lock()
		defer sc.mu.Unlock()
		_ = sc.wc.SendWithin(goodbye(), shutdownNotice)
	})
}

// serveConn answers one peer's requests in order until it leaves, idles
// out, breaks the protocol, or the node shuts down. handshakeDone gives
// back the connection's handshake budget.
func (n *Node) serveConn(ctx context.Context, c net.Conn, handshakeDone func()) {
	sc := &servedConn{wc: wire.NewConn(c, n.cfg.IOTimeout)}
	defer sc.wc.Close()
	n.inbound.Store(sc, struct{}{})
	defer n.inbound.Delete(sc)
	log := n.log.With(zap.String("remote", c.RemoteAddr().String()), zap.String("dir", "in"))

	label, ok := n.admit(sc, log)
	handshakeDone()
	if !ok {
		return
	}
	log = log.With(zap.String("peer", sc.peer))
	select {
	case n.served <- struct{}{}:
		defer func() { <-n.served }()
	default:
		n.metrics.connsRejected.WithLabelValues(netserve.ReasonMaxConns).Inc()
		n.refusals.refused(c.RemoteAddr(), netserve.ReasonMaxConns, zap.String("peer", sc.peer))
		_ = sc.send(&wire.Error{Code: wire.ErrorBusy, Message: "too many connections (MAX_CONNS)"})
		return
	}
	if n.cfg.ServePieces { // every admitted connection speaks version 4, which has announcements
		sc.ann = n.hub.Queue()
		stop := make(chan struct{})
		var announcing sync.WaitGroup
		announcing.Go(func() { n.announceLoop(sc, stop, log) })
		defer func() {
			sc.wc.Close() // a Send under way fails at once
			close(stop)
			announcing.Wait()
			sc.ann.Close()
		}()
	}
	n.metrics.uploadsActive.Inc()
	defer n.metrics.uploadsActive.Dec()
	if n.limiter != nil {
		// Unlimited (no UPLOAD_RATE), pieces go out without a throttle:
		// each in one sendfile call rather than one per 64 KiB.
		sc.wc.SetThrottle(func(size int) error { return n.limiter.Wait(ctx, size) })
	}
	sc.ready.Store(true)
	log.Debug("peer connected", zap.Uint8("version", sc.wc.Version()))
	n.answerRequests(ctx, sc, label, log)
}

// admit runs the handshake (within DIAL_TIMEOUT as a whole) and learns the
// peer's address; label is the peer's metrics label. ok is false when the
// connection is refused.
func (n *Node) admit(sc *servedConn, log *zap.Logger) (label string, ok bool) {
	c := sc.wc.NetConn()
	hello, err := n.answerHello(sc.wc)
	if err != nil {
		n.refuseHandshake(sc, log, err)
		return "", false
	}
	sc.peer = peerAddress(hello, c.RemoteAddr())
	label = sc.peer
	if sc.peer == "" {
		// It cannot be dialed back (no listen port): serve it, do not
		// remember it.
		sc.peer, label = c.RemoteAddr().String(), "other"
	} else if !n.peers.learn(sc.peer, api.PeerInbound) {
		// Not in the (full) peer table: its series would never be
		// deleted, so it shares one.
		label = "other"
	}
	return label, true
}

// refuseHandshake counts and logs a handshake that failed with err. An
// error frame from the peer is no refusal: the peer left.
func (n *Node) refuseHandshake(sc *servedConn, log *zap.Logger, err error) {
	var pe *peerError
	if errors.As(err, &pe) {
		n.peerLeft(log, pe)
		return
	}
	if n.badFrame(sc, log, err) {
		n.metrics.connsRejected.WithLabelValues("handshake").Inc()
		return
	}
	reason := "handshake"
	switch {
	case errors.Is(err, errSelf):
		reason = "self"
	case errors.Is(err, errAuth):
		reason = "auth"
	case errors.Is(err, errOldVersion):
		reason = "version"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, wire.ErrHeaderTimeout):
		// answerHello holds the whole handshake to DIAL_TIMEOUT.
		reason = "handshake_timeout"
	case errors.Is(err, errUnexpected):
		n.metrics.framesInvalid.WithLabelValues("unexpected").Inc()
	}
	n.metrics.connsRejected.WithLabelValues(reason).Inc()
	log.Info("connection refused", zap.String("reason", reason), zap.Error(err))
}

// answerRequests is serveConn's loop: one request, one answer.
func (n *Node) answerRequests(ctx context.Context, sc *servedConn, label string, log *zap.Logger) {
	for {
		sc.busy.Store(false)
		// Checked after clearing busy: a shutdown either sees this
		// connection idle and closes it, or is seen here.
		if ctx.Err() != nil {
			break
		}
		msg, err := sc.wc.Receive(n.cfg.IdleTimeout)
		sc.busy.Store(true)
		if err != nil {
			if !n.badFrame(sc, log, err) {
				log.Debug("connection ended", zap.Error(err))
			}
			return
		}
		if e, ok := msg.(*wire.Error); ok {
			// The peer is closing: nothing to answer.
			n.peerLeft(log, newPeerError(e))
			return
		}
		pieceBytes, fatal, err := n.reply(sc, msg)
		if err != nil {
			n.sendFailed(log, msg, err)
			return
		}
		if fatal {
			log.Info("connection closed", zap.String("reason", "unexpected "+msg.Type().String()))
			n.metrics.framesInvalid.WithLabelValues("unexpected").Inc()
			return
		}
		n.metrics.requests.WithLabelValues(msg.Type().String()).Inc()
		if pieceBytes >= 0 {
			n.metrics.bytesUp.WithLabelValues(label).Add(float64(pieceBytes))
			n.metrics.piecesUp.WithLabelValues(label).Inc()
			n.uploaded.add(pieceBytes)
		}
	}
	sc.leave()
}

// peerLeft counts and logs an error frame the peer closed with.
func (n *Node) peerLeft(log *zap.Logger, pe *peerError) {
	n.metrics.errorsReceived.WithLabelValues(pe.label()).Inc()
	log.Info("peer closed the connection with an error", zap.Stringer("code", pe.code), zap.String("message", pe.msg))
}

// sendFailed logs why the answer to req could not be sent: a peer that
// stopped reading is cut off (info), an answer over the protocol's limits
// is a fault of this node (warn), anything else is the connection ending.
func (n *Node) sendFailed(log *zap.Logger, req wire.Message, err error) {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		n.metrics.slowReaders.Inc()
		log.Info("connection closed: peer too slow reading", zap.String("reason", "slow_reader"),
			zap.String("request", req.Type().String()), zap.Duration("io_timeout", n.cfg.IOTimeout))
	case errors.Is(err, wire.ErrFrameTooLarge), errors.Is(err, wire.ErrInvalidMessage):
		log.Warn("answer not sent", zap.String("request", req.Type().String()), zap.Error(err))
	default:
		log.Debug("send", zap.Error(err))
	}
}

// announceLoop sends the pieces queued for sc as announce messages until
// stop. Pieces verified while it waits for the stream (a piece upload
// holds it) leave together in the next message.
func (n *Node) announceLoop(sc *servedConn, stop <-chan struct{}, log *zap.Logger) {
	for {
		select {
		case <-stop:
			return
		case <-sc.ann.Ready():
		}
		for _, a := range sc.ann.Take() {
			if err := sc.send(&a); err != nil {
				n.sendFailed(log, &a, err)
				sc.wc.Close() // the stream may be out of step; serveConn's Receive ends it
				return
			}
			n.metrics.announcedSent.Add(float64(len(a.Indexes)))
		}
	}
}

// badFrame reports whether err is the peer's bad frame; if so it counts
// it, logs the reason and tells the peer before the connection closes.
func (n *Node) badFrame(sc *servedConn, log *zap.Logger, err error) bool {
	reason, code, ok := frameFault(err)
	if !ok {
		return false
	}
	n.metrics.framesInvalid.WithLabelValues(reason).Inc()
	log.Warn("bad frame: connection closed", zap.String("reason", reason), zap.Error(err))
	_ = sc.send(&wire.Error{Code: code, Message: err.Error()})
	return true
}

func reject(code wire.RejectCode, msg string) *wire.Reject {
	return &wire.Reject{Code: code, Message: msg}
}

// reply answers one request. pieceBytes is the size of the piece sent, or
// -1 when the reply was not a piece.
func (n *Node) reply(sc *servedConn, msg wire.Message) (pieceBytes int, fatal bool, err error) {
	switch m := msg.(type) {
	case *wire.GetPiece:
		if !n.cfg.ServePieces {
			n.metrics.rejects.WithLabelValues(wire.RejectNotServing.String()).Inc()
			return -1, false, sc.send(reject(wire.RejectNotServing, "this node serves no pieces (SERVE_PIECES=false)"))
		}
		sc.mu.Lock()
		size, sent, err := n.sendSharedPiece(sc.wc, m)
		sc.mu.Unlock()
		if sent {
			return size, false, err
		}
	case *wire.GetHave:
		// Before the have list is built: a piece verified after it is
		// announced.
		if _, complete := n.share.Lookup(m.ID); sc.ann != nil && !complete {
			sc.ann.Subscribe(m.ID)
		}
	}
	reply, buf, fatal := n.answer(sc.peer, msg)
	err = sc.send(reply)
	if buf != nil {
		putBuffer(buf)
	}
	pieceBytes = -1
	if p, ok := reply.(*wire.Piece); ok {
		pieceBytes = len(p.Data)
	}
	return pieceBytes, fatal, err
}

// sendSharedPiece sends a piece of a complete shared file from the page
// cache to the socket (sendfile): on loopback that halves the copies of
// an upload. sent is false, with nothing written, when the piece takes the
// buffered path instead: it is in a download in progress, it is not here
// (the buffered path sends the Reject), or CORRUPT_UPLOADS must alter it.
func (n *Node) sendSharedPiece(wc *wire.Conn, m *wire.GetPiece) (size int, sent bool, err error) {
	if n.cfg.CorruptUploads > 0 {
		return 0, false, nil
	}
	sec, err := n.share.OpenPiece(m.ID, int(m.Index))
	if err != nil {
		return 0, false, nil
	}
	defer sec.Release()
	return sec.Size, true, wc.SendPieceFile(m.ID, m.Index, sec.File, sec.Offset, sec.Size)
}

// answer builds the reply to one request; buf, when not nil, holds the
// piece data and goes back to the pool once the reply is sent. fatal means
// the request was not a request at all and the connection must close after
// the reply.
func (n *Node) answer(peer string, msg wire.Message) (reply wire.Message, buf *[]byte, fatal bool) {
	if m, ok := msg.(*wire.GetPiece); ok {
		return n.piece(m)
	}
	reply, fatal = n.answerSmall(peer, msg)
	return reply, nil, fatal
}

func (n *Node) answerSmall(peer string, msg wire.Message) (reply wire.Message, fatal bool) {
	switch m := msg.(type) {
	case *wire.GetCatalog:
		return n.catalogMessage(), false
	case *wire.GetCatalogPage:
		return n.catalogPage(m.After), false
	case *wire.GetPeers:
		return &wire.Peers{Addrs: n.peers.exchange(peer, wire.MaxPeers)}, false
	case *wire.GetManifest:
		id, name, man, ok := n.manifestOf(m.ID)
		if !ok {
			return n.reject(wire.RejectNotFound, "no such file"), false
		}
		if manifestLen(name, len(man.Pieces)) > wire.MaxPayload {
			return n.reject(wire.RejectBadRequest, "manifest larger than one frame: ask get_manifest_page (protocol version 3)"), false
		}
		return manifestMessage(id, name, man), false
	case *wire.GetManifestPage:
		id, name, man, ok := n.manifestOf(m.ID)
		if !ok {
			return n.reject(wire.RejectNotFound, "no such file"), false
		}
		if np := len(man.Pieces); int64(m.First) > int64(np) || (int(m.First) == np && np > 0) {
			return n.reject(wire.RejectBadRequest, "first piece beyond the file's piece count"), false
		}
		return manifestPage(id, name, man, int(m.First)), false
	case *wire.GetHave:
		id := m.ID
		if e, ok := n.share.Lookup(id); ok {
			np := e.Manifest.NumPieces()
			all := content.NewBitfield(np)
			for i := range np {
				all.Set(i)
			}
			return n.haveMessage(m.ID, np, all), false
		}
		if p, ok := n.share.Partial(id); ok {
			return n.haveMessage(m.ID, p.Manifest().NumPieces(), p.Have()), false
		}
		return n.reject(wire.RejectNotFound, "no such file"), false
	default:
		return &wire.Error{Code: wire.ErrorProtocol, Message: "not a request: " + msg.Type().String()}, true
	}
}

// reject counts a reject by its code and returns it.
func (n *Node) reject(code wire.RejectCode, msg string) *wire.Reject {
	n.metrics.rejects.WithLabelValues(code.String()).Inc()
	return reject(code, msg)
}

// manifestOf finds the manifest of a shared file or a download in
// progress.
func (n *Node) manifestOf(id content.ID) (content.ID, string, content.Manifest, bool) {
	if e, ok := n.share.Lookup(id); ok {
		return id, e.Name, e.Manifest, true
	}
	if p, ok := n.share.Partial(id); ok {
		return id, p.Name(), p.Manifest(), true
	}
	return id, "", content.Manifest{}, false
}

// piece reads a requested piece from a shared file or a download in
// progress (swarming).
func (n *Node) piece(m *wire.GetPiece) (wire.Message, *[]byte, bool) {
	id, i := m.ID, int(m.Index)
	var (
		man  content.Manifest
		read func([]byte) (int, error)
	)
	if e, ok := n.share.Lookup(id); ok {
		man, read = e.Manifest, func(b []byte) (int, error) { return n.share.ReadPiece(id, i, b) }
	} else if p, ok := n.share.Partial(id); ok {
		man, read = p.Manifest(), func(b []byte) (int, error) { return p.ReadPiece(i, b) }
	} else {
		n.metrics.rejects.WithLabelValues(wire.RejectNotFound.String()).Inc()
		return reject(wire.RejectNotFound, "no such file"), nil, false
	}
	if i < 0 || i >= man.NumPieces() {
		n.metrics.rejects.WithLabelValues(wire.RejectBadRequest.String()).Inc()
		return reject(wire.RejectBadRequest, "no such piece"), nil, false
	}
	bufp := getBuffer(man.PieceLen(i))
	size, err := read(*bufp)
	if err != nil {
		putBuffer(bufp)
		n.metrics.rejects.WithLabelValues(wire.RejectNoPiece.String()).Inc()
		n.log.Debug("read piece", zap.String("id", id.Short()), zap.Int("piece", i), zap.Error(err))
		return reject(wire.RejectNoPiece, "piece not available"), nil, false
	}
	data := (*bufp)[:size]
	if n.cfg.CorruptUploads > 0 && size > 0 && rand.Float64() < n.cfg.CorruptUploads {
		// Fault injection for experiments: the receiver must notice.
		data[rand.IntN(size)] ^= 0xff
		n.log.Info("corrupted a served piece (CORRUPT_UPLOADS)", zap.String("id", id.Short()), zap.Int("piece", i))
	}
	return &wire.Piece{ID: m.ID, Index: m.Index, Data: data}, bufp, false
}

// haveMessage lists the pieces held of a file of np pieces; none when this
// node serves no pieces, so nobody asks it for one.
func (n *Node) haveMessage(id content.ID, np int, held content.Bitfield) *wire.Have {
	if !n.cfg.ServePieces {
		held = content.NewBitfield(np)
	}
	return &wire.Have{ID: id, Pieces: uint32(np), Bits: held}
}

// catalogPageBytes bounds the entries of one catalog_page, well under a
// frame, so a page does not hold the stream for long.
const catalogPageBytes = 1 << 20

// catalogMessage answers get_catalog: the first files, by name, that fit
// in one frame. A node with more answers the rest only in pages (protocol
// version 3).
func (n *Node) catalogMessage() *wire.Catalog {
	files, _ := catalogEntries(n.share.Catalog(), wire.MaxPayload-4)
	return &wire.Catalog{Files: files}
}

// catalogPage answers get_catalog_page: the files whose names sort after
// after, as many as fit in catalogPageBytes.
func (n *Node) catalogPage(after string) *wire.CatalogPage {
	entries := n.share.Catalog() // sorted by name, byte-wise
	i, _ := slices.BinarySearchFunc(entries, after, func(e share.Entry, after string) int {
		if e.Name <= after {
			return -1
		}
		return 1
	})
	files, more := catalogEntries(entries[i:], catalogPageBytes)
	return &wire.CatalogPage{More: more, Files: files}
}

// catalogEntries encodes the first entries that fit in maxBytes (and in
// MaxCatalogEntries); more says some were left out.
func catalogEntries(entries []share.Entry, maxBytes int) (files []wire.CatalogEntry, more bool) {
	size := 0
	for _, e := range entries {
		if len(files) == wire.MaxCatalogEntries || size+wire.EntryLen(e.Name) > maxBytes {
			return files, true
		}
		size += wire.EntryLen(e.Name)
		files = append(files, wire.CatalogEntry{
			ID: e.ID, Size: uint64(e.Manifest.Size), PieceSize: uint32(e.Manifest.PieceSize),
			Offered: e.Offered, Name: e.Name,
		})
	}
	return files, false
}

// manifestLen is the payload size of a manifest: whether it fits in one
// frame.
func manifestLen(name string, pieces int) int {
	return len((&wire.Manifest{Name: name}).AppendPayload(nil)) + 32*pieces
}

func manifestMessage(id content.ID, name string, m content.Manifest) *wire.Manifest {
	return &wire.Manifest{ID: id, Size: uint64(m.Size), PieceSize: uint32(m.PieceSize), Name: name, Pieces: m.Pieces}
}

// manifestPage answers get_manifest_page from piece first (at most the
// piece count).
func manifestPage(id content.ID, name string, m content.Manifest, first int) *wire.ManifestPage {
	end := min(len(m.Pieces), first+wire.MaxPageHashes)
	return &wire.ManifestPage{ID: id, Size: uint64(m.Size), PieceSize: uint32(m.PieceSize), Name: name,
		Pieces: uint32(len(m.Pieces)), First: uint32(first), Hashes: m.Pieces[first:end]}
}
