package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/peer/api"
	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/picker"
	"github.com/netlab/netlab/services/peer/internal/share"
	"github.com/netlab/netlab/services/peer/internal/wire"
)

// findTimeout is how long a download looks for its manifest before it
// fails and frees its MAX_DOWNLOADS slot.
const findTimeout = 2 * time.Minute

// download is one file being fetched.
type download struct {
	d    *downloads
	id   content.ID
	done chan struct{}

	mu       sync.Mutex
	name     string
	state    string
	err      string
	stalled  string
	since    time.Time // when stalled was set
	manifest content.Manifest
	partial  *share.Partial
	picker   *picker.Picker
	holders  map[string]content.Bitfield // what each working peer holds
	// fresh holds, per peer, the pieces it announced that its last have
	// answer did not list (they are in holders too once it answered one).
	fresh    map[string]content.Bitfield
	kicks    map[string]chan struct{} // wake a peer's worker: it announced pieces
	workers  map[string]bool
	sources  map[string]*api.Source
	resumed  int // pieces held from a previous run
	verified int // pieces fetched and verified in this run
	failed   int // pieces that failed verification
	bytes    int64
	started  time.Time
	finished time.Time
	wake     chan struct{} // a piece arrived or a worker ended
}

func (dl *download) setPartialLocked(p *share.Partial, resumed bool) {
	dl.partial = p
	dl.manifest = p.Manifest()
	have := p.Have()
	dl.picker = picker.New(dl.manifest.NumPieces(), have)
	for i := range dl.manifest.NumPieces() {
		if have.Has(i) {
			dl.bytes += int64(dl.manifest.PieceLen(i))
			if resumed {
				dl.resumed++
			}
		}
	}
	if resumed {
		dl.d.metrics.piecesResumed.Add(float64(dl.resumed))
	}
	dl.state = api.StateDownloading
}

func (dl *download) setStalled(reason string) {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	if reason != dl.stalled {
		dl.stalled, dl.since = reason, time.Now()
	}
}

func (dl *download) fail(err error) {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	if dl.state != api.StateFailed {
		dl.state, dl.err, dl.finished = api.StateFailed, err.Error(), time.Now()
		dl.d.log.Warn("download failed", zap.String("id", dl.id.Short()), zap.Error(err))
	}
}

func (dl *download) signal() {
	select {
	case dl.wake <- struct{}{}:
	default:
	}
}

// run drives one download until it completes, fails, or the node stops (its
// progress stays in the resume record).
func (dl *download) run(ctx context.Context) {
	defer close(dl.done)
	d := dl.d
	select {
	case d.sem <- struct{}{}:
		defer func() { <-d.sem }()
	case <-ctx.Done():
		return
	}
	d.metrics.transfersActive.Inc()
	defer d.metrics.transfersActive.Dec()

	dl.mu.Lock()
	needManifest := dl.partial == nil
	if needManifest {
		dl.state = api.StateFinding
	}
	dl.mu.Unlock()
	if needManifest {
		p, err := dl.findManifest(ctx)
		if err != nil {
			if ctx.Err() == nil {
				dl.fail(err)
			}
			return
		}
		dl.mu.Lock()
		dl.setPartialLocked(p, false)
		dl.mu.Unlock()
	}

	work, stop := context.WithCancel(ctx)
	var workers sync.WaitGroup
	defer func() {
		stop()
		workers.Wait()
	}()
	tick := time.NewTicker(min(d.refreshInterval, time.Second))
	defer tick.Stop()
	var checked time.Time
	for {
		dl.mu.Lock()
		missing, failed := dl.picker.Missing(), dl.state == api.StateFailed
		dl.mu.Unlock()
		if failed {
			return // a disk error: stop asking peers for pieces that cannot be kept
		}
		if missing == 0 {
			break
		}
		conns := d.peers.connected()
		dl.mu.Lock()
		for addr, pc := range conns {
			if !dl.workers[addr] {
				dl.workers[addr] = true
				workers.Go(func() { dl.worker(work, addr, pc) })
			}
		}
		dl.mu.Unlock()
		// Once a second, not per piece: the check walks every piece.
		if time.Since(checked) >= time.Second {
			checked = time.Now()
			dl.checkStalled(len(conns))
			if err := dl.partial.Checkpoint(); err != nil {
				d.log.Warn("save resume record", zap.String("id", dl.id.Short()), zap.Error(err))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-dl.wake:
		}
	}
	stop()
	workers.Wait()
	dl.complete()
}

// checkStalled records why the download cannot progress, if it cannot. A
// peer whose worker has not had its first have answer yet may hold what
// is missing: while one is still asked, the download is not stalled.
func (dl *download) checkStalled(conns int) {
	dl.mu.Lock()
	holders := make(map[string]content.Bitfield, len(dl.holders))
	for addr, bits := range dl.holders {
		if bits.Count() > 0 {
			holders[addr] = bits
		}
	}
	asking := false
	for addr := range dl.workers {
		_, answered := dl.holders[addr]
		asking = asking || !answered
	}
	piece, stuck := dl.picker.Stuck(holders)
	dl.mu.Unlock()
	switch {
	case conns == 0:
		dl.setStalled("no peers connected")
	case asking && (len(holders) == 0 || stuck):
		dl.setStalled("")
	case len(holders) == 0:
		dl.setStalled("no connected peer holds this file")
	case stuck:
		dl.setStalled(fmt.Sprintf("piece %d: no connected peer can supply a copy that verifies", piece))
	default:
		dl.setStalled("")
	}
}

// findManifest asks peers for the file's manifest until one answers with a
// manifest that hashes to the id, then creates the partial file.
func (dl *download) findManifest(ctx context.Context) (*share.Partial, error) {
	d := dl.d
	deadline := time.Now().Add(findTimeout)
	for {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no peer sent the manifest within %s", findTimeout)
		}
		for addr, pc := range d.peers.connected() {
			m, err := pc.manifest(ctx, dl.id)
			if err != nil {
				continue
			}
			man := content.Manifest{Alg: m.ID.Alg(), Size: int64(m.Size), PieceSize: int(m.PieceSize), Pieces: m.Pieces}
			if man.ID() != dl.id || man.Validate() != nil {
				d.log.Warn("peer sent a manifest that does not match the id", zap.String("peer", addr), zap.String("id", dl.id.Short()))
				d.peers.badPiece(addr)
				continue
			}
			name := dl.nameFor(m.Name)
			if man.Size > int64(d.maxFileSize) {
				return nil, fmt.Errorf("file is %d bytes, over MAX_FILE_SIZE (%s)", man.Size, d.maxFileSize)
			}
			free, err := d.share.FreeBytes()
			if err == nil && free-d.reserved()-man.Size < int64(d.minFreeSpace) {
				return nil, fmt.Errorf("not enough disk space: %d bytes free, file needs %d and MIN_FREE_SPACE keeps %s", free, man.Size, d.minFreeSpace)
			}
			return d.share.CreatePartial(name, man)
		}
		dl.setStalled("no connected peer has the manifest")
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(d.refreshInterval, time.Second)):
		}
	}
}

// nameFor picks the name the file is saved under: the one asked for, else
// the one the peer gave when it is valid, else one made from the id.
func (dl *download) nameFor(offered string) string {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	if dl.name == "" || share.ValidateName(dl.name) != nil {
		dl.name = offered
		if share.ValidateName(offered) != nil {
			dl.name = "file-" + dl.id.Short()
		}
	}
	return dl.name
}

// worker fetches pieces from one peer, keeping up to REQUESTS_PER_PEER
// requests in flight, until the download ends, the peer is lost or avoided.
// It asks the peer for its have list about once a second, and requests
// announced pieces as soon as they are announced.
func (dl *download) worker(ctx context.Context, addr string, pc *peerConn) {
	d := dl.d
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	kick := make(chan struct{}, 1)
	dl.mu.Lock()
	dl.kicks[addr] = kick
	dl.mu.Unlock()
	var fetches sync.WaitGroup
	defer func() {
		cancel()
		fetches.Wait()
		dl.mu.Lock()
		dl.picker.UpdatePeer(dl.holders[addr], nil)
		delete(dl.holders, addr)
		delete(dl.fresh, addr)
		delete(dl.kicks, addr)
		delete(dl.workers, addr)
		dl.mu.Unlock()
		dl.signal()
	}()
	slots := make(chan struct{}, d.requestsPerPeer)
	idle := time.NewTicker(min(d.refreshInterval, time.Second))
	defer idle.Stop()
	poll := true
	for ctx.Err() == nil {
		if poll && !dl.refreshHave(ctx, addr, pc) {
			return
		}
		if !dl.requestAll(ctx, addr, pc, slots, &fetches, cancel) {
			return
		}
		// Nothing to ask this peer for now: look again when its pieces
		// may have changed, or at once when it announces some.
		select {
		case <-ctx.Done():
			return
		case <-idle.C:
			poll = true
		case <-kick:
			poll = false
		}
	}
}

// requestAll requests every piece the peer can send now, as slots free
// up; false means the worker must stop.
func (dl *download) requestAll(ctx context.Context, addr string, pc *peerConn, slots chan struct{}, fetches *sync.WaitGroup, stop func()) bool {
	for ctx.Err() == nil {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return false
		}
		dl.mu.Lock()
		piece, ok := dl.picker.Pick(addr, dl.holders[addr])
		announced := ok && dl.fresh[addr].Has(piece)
		dl.mu.Unlock()
		if !ok {
			<-slots
			return true
		}
		if announced {
			dl.d.metrics.announcedRequests.Inc()
		}
		fetches.Go(func() {
			defer func() { <-slots }()
			if !dl.fetch(ctx, addr, pc, piece) {
				stop()
			}
		})
	}
	return false
}

// announced records pieces addr announced: they count as held by addr
// from now on, and its worker is woken to request them.
func (dl *download) announced(addr string, idx []uint32) error {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	if dl.picker == nil {
		return nil // no manifest yet: the first have answer covers them
	}
	np := dl.manifest.NumPieces()
	if last := idx[len(idx)-1]; int64(last) >= int64(np) { // indexes increase
		return fmt.Errorf("announced piece %d of a file of %d pieces", last, np)
	}
	fresh := dl.fresh[addr]
	if fresh == nil {
		fresh = content.NewBitfield(np)
		dl.fresh[addr] = fresh
	}
	held := dl.holders[addr]
	for _, i := range idx {
		if held.Has(int(i)) || fresh.Has(int(i)) {
			continue
		}
		fresh.Set(int(i))
		if held != nil {
			held.Set(int(i))
			dl.picker.Gained(int(i))
		}
	}
	select {
	case dl.kicks[addr] <- struct{}{}:
	default:
	}
	return nil
}

// mergeFreshLocked adds to a have answer of addr the pieces it announced:
// they may have been verified after it built the answer. Those the answer
// lists need no record of their announcement any more.
func (dl *download) mergeFreshLocked(addr string, have content.Bitfield) {
	fresh := dl.fresh[addr]
	if len(fresh) != len(have) {
		return
	}
	for k := range have {
		fresh[k] &^= have[k]
		have[k] |= fresh[k]
	}
}

// refreshHave asks the peer which pieces it holds; false ends the worker.
func (dl *download) refreshHave(ctx context.Context, addr string, pc *peerConn) bool {
	r := pc.do(ctx, &wire.GetHave{ID: dl.id})
	if r.err != nil {
		return false
	}
	dl.mu.Lock()
	defer dl.mu.Unlock()
	np := dl.manifest.NumPieces()
	bits := content.NewBitfield(np)
	if m, ok := r.msg.(*wire.Have); ok {
		b, err := content.BitfieldFrom(m.Bits, np)
		if m.ID != dl.id || m.Pieces != uint32(np) || err != nil {
			// A protocol error: the answer does not fit the request.
			dl.d.log.Warn("peer sent a bad have: connection closed", zap.String("peer", addr), zap.Error(err))
			pc.close(errors.New("bad have"))
			return false
		}
		bits = b
	}
	dl.mergeFreshLocked(addr, bits)
	dl.picker.UpdatePeer(dl.holders[addr], bits)
	dl.holders[addr] = bits
	return true
}

// fetch requests one piece and stores it if it verifies. false means stop
// using this peer.
func (dl *download) fetch(ctx context.Context, addr string, pc *peerConn, i int) bool {
	d := dl.d
	r := pc.do(ctx, &wire.GetPiece{ID: dl.id, Index: uint32(i)})
	defer r.release()
	m, ok := r.msg.(*wire.Piece)
	if r.err != nil || !ok {
		dl.mu.Lock()
		dl.picker.Cancel(i, addr)
		if old, held := dl.holders[addr]; held && !ok && r.err == nil {
			// Rejected: the peer no longer holds it (or never did, or
			// serves nothing); do not ask it again before its next have.
			now := old.Clone()
			now.Clear(i)
			if rj, ok := r.msg.(*wire.Reject); ok && rj.Code == wire.RejectNotServing {
				now = content.NewBitfield(dl.manifest.NumPieces())
			}
			dl.picker.UpdatePeer(old, now)
			dl.holders[addr] = now
			dl.fresh[addr].Clear(i)
		}
		dl.mu.Unlock()
		return r.err == nil
	}
	if m.ID != dl.id || int(m.Index) != i {
		dl.mu.Lock()
		dl.picker.Cancel(i, addr)
		dl.mu.Unlock()
		d.log.Warn("peer answered with another piece: connection closed", zap.String("peer", addr))
		pc.close(errors.New("answer does not match the request"))
		return false
	}
	err := dl.partial.WritePiece(i, m.Data)
	switch {
	case errors.Is(err, share.ErrBadPiece):
		dl.mu.Lock()
		dl.picker.Failed(i, addr)
		dl.failed++
		dl.source(addr).Bad++
		dl.mu.Unlock()
		d.metrics.piecesFailed.WithLabelValues(addr).Inc()
		d.log.Warn("piece failed verification", zap.String("peer", addr), zap.String("id", dl.id.Short()), zap.Int("piece", i))
		d.peers.badPiece(addr)
		dl.signal()
		_, usable := d.peers.connected()[addr]
		return usable
	case err != nil:
		dl.mu.Lock()
		dl.picker.Cancel(i, addr)
		dl.mu.Unlock()
		dl.fail(fmt.Errorf("write piece %d: %w", i, err))
		dl.signal()
		return false
	}
	size := len(m.Data)
	dl.mu.Lock()
	fresh := !dl.picker.Has(i)
	dl.picker.Done(i, addr)
	if fresh {
		dl.verified++
		dl.bytes += int64(size)
		s := dl.source(addr)
		s.Pieces++
		s.Bytes += int64(size)
	}
	dl.mu.Unlock()
	if fresh {
		d.metrics.piecesVerified.Inc()
		d.metrics.bytesDown.WithLabelValues(addr).Add(float64(size))
		_, dropped := d.hub.Publish(dl.id, i)
		d.metrics.announcedDropped.Add(float64(dropped))
	}
	dl.signal()
	return true
}

func (dl *download) source(addr string) *api.Source {
	s, ok := dl.sources[addr]
	if !ok {
		s = &api.Source{}
		dl.sources[addr] = s
	}
	return s
}

// complete moves the verified file into the share.
func (dl *download) complete() {
	d := dl.d
	dl.mu.Lock()
	failed := dl.state == api.StateFailed
	dl.mu.Unlock()
	if failed {
		return
	}
	entry, err := dl.partial.Complete()
	if err != nil {
		dl.fail(fmt.Errorf("complete: %w", err))
		return
	}
	d.hub.Forget(dl.id) // every piece is verified: none will be announced again
	d.metrics.downloadsDone.Inc()
	d.metrics.catalogFiles.Set(float64(len(d.share.Catalog())))
	dl.mu.Lock()
	dl.state, dl.name, dl.finished, dl.stalled = api.StateComplete, entry.Name, time.Now(), ""
	elapsed := dl.finished.Sub(dl.started)
	dl.mu.Unlock()
	d.log.Info("download complete", zap.String("id", dl.id.Short()), zap.String("name", entry.Name),
		zap.Int64("bytes", entry.Manifest.Size), zap.Duration("elapsed", elapsed))
}

func (dl *download) status() api.Download {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	s := api.Download{
		ID: dl.id.String(), Name: dl.name, State: dl.state, Error: dl.err, Stalled: dl.stalled,
		Size: dl.manifest.Size, Bytes: dl.bytes, PieceSize: dl.manifest.PieceSize, Pieces: dl.manifest.NumPieces(),
		Resumed: dl.resumed, Verified: dl.verified, Failed: dl.failed,
		Sources: make(map[string]api.Source, len(dl.sources)), Started: dl.started, Finished: dl.finished,
		PeersWorking: len(dl.workers),
	}
	if dl.stalled != "" {
		s.StalledSecs = time.Since(dl.since).Seconds()
	}
	switch {
	case dl.picker != nil:
		s.PiecesHeld = s.Pieces - dl.picker.Missing()
		s.Have = dl.picker.Have()
	case dl.state == api.StateComplete:
		s.PiecesHeld = s.Pieces
	}
	for k, v := range dl.sources {
		s.Sources[k] = *v
	}
	end := dl.finished
	if end.IsZero() {
		end = time.Now()
	}
	s.ElapsedSecs = end.Sub(dl.started).Seconds()
	return s
}
