package node

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/peer/api"
	"github.com/netlab/netlab/services/peer/internal/announce"
	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/share"
	"github.com/netlab/netlab/services/peer/internal/wire"
	platformconfig "github.com/netlab/netlab/services/platform/config"
)

var (
	errNotFound  = errors.New("not found")
	errAmbiguous = errors.New("ambiguous name")
)

// downloadDeps is what the downloads take from their node (built in New).
type downloadDeps struct {
	log     *zap.Logger
	metrics *metrics
	share   *share.Share
	peers   *peerTable
	// resolve turns an id or a name into the file's id and name; swarm
	// lists every file the node can see.
	resolve func(ref string) (content.ID, string, error)
	swarm   func() []api.SwarmFile
	// work is canceled when the node stops; every download runs under it.
	work context.Context
	// hub takes every piece verified, to announce it to the peers
	// downloading the same file.
	hub             *announce.Hub
	maxDownloads    int                     // MAX_DOWNLOADS
	requestsPerPeer int                     // REQUESTS_PER_PEER
	maxFileSize     platformconfig.ByteSize // MAX_FILE_SIZE
	minFreeSpace    platformconfig.ByteSize // MIN_FREE_SPACE
	refreshInterval time.Duration           // REFRESH_INTERVAL
}

// downloads runs every download of the node, MAX_DOWNLOADS at a time.
type downloads struct {
	downloadDeps
	sem chan struct{}
	wg  sync.WaitGroup

	mu     sync.Mutex
	closed bool // the node is stopping: no new downloads
	byID   map[content.ID]*download
}

// maxRecords bounds the download records kept; the oldest finished ones
// are forgotten first.
const maxRecords = 1000

var errClosed = errors.New("node shutting down")

func newDownloads(deps downloadDeps) *downloads {
	return &downloads{
		downloadDeps: deps, sem: make(chan struct{}, deps.maxDownloads),
		byID: make(map[content.ID]*download),
	}
}

// resume restarts the downloads a previous run left, from their resume
// records; their verified pieces are neither fetched nor hashed again.
func (d *downloads) resume() {
	partials, err := d.share.Partials()
	if err != nil {
		d.log.Warn("resume records", zap.Error(err))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range partials {
		if _, running := d.byID[p.ID()]; running || d.closed {
			continue // started through the API before Serve ran
		}
		dl := d.addLocked(p.ID(), p.Name())
		dl.mu.Lock()
		dl.setPartialLocked(p, true)
		dl.mu.Unlock()
		d.log.Info("resuming download", zap.String("id", p.ID().Short()), zap.String("name", p.Name()),
			zap.Int("pieces_held", dl.resumed), zap.Int("pieces", p.Manifest().NumPieces()))
		d.launch(dl)
	}
}

// addLocked registers a new download record (not started), forgetting the
// oldest finished records beyond maxRecords.
func (d *downloads) addLocked(id content.ID, name string) *download {
	dl := &download{
		d: d, id: id, name: name, state: api.StateQueued, started: time.Now(),
		done: make(chan struct{}), wake: make(chan struct{}, 1),
		holders: make(map[string]content.Bitfield), workers: make(map[string]bool),
		fresh: make(map[string]content.Bitfield), kicks: make(map[string]chan struct{}),
		sources: make(map[string]*api.Source),
	}
	d.byID[id] = dl
	for len(d.byID) > maxRecords {
		var oldest *download
		for _, x := range d.byID {
			if st := x.status().State; (st == api.StateComplete || st == api.StateFailed) && (oldest == nil || x.started.Before(oldest.started)) {
				oldest = x
			}
		}
		if oldest == nil {
			break
		}
		delete(d.byID, oldest.id)
	}
	return dl
}

// launch runs dl; the caller holds d.mu and has checked d.closed, so the
// WaitGroup cannot be waited on yet.
func (d *downloads) launch(dl *download) {
	d.wg.Go(func() { dl.run(d.work) })
}

// close refuses new downloads; the running ones stop with the node's work
// context.
func (d *downloads) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
}

// start begins downloading the file named by ref (an id or a name in the
// swarm catalog). A file already shared, or already being downloaded,
// returns its existing record.
func (d *downloads) start(ref string) (*download, error) {
	id, name, err := d.resolve(ref)
	if err != nil {
		return nil, err
	}
	return d.startID(id, name)
}

// startID starts a download of a known id, once: a second start returns
// the record of the first unless it failed.
func (d *downloads) startID(id content.ID, name string) (*download, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, errClosed
	}
	if dl, ok := d.byID[id]; ok && dl.status().State != api.StateFailed {
		return dl, nil
	}
	dl := d.addLocked(id, name)
	if e, ok := d.share.Lookup(id); ok {
		dl.mu.Lock()
		dl.state, dl.name, dl.finished = api.StateComplete, e.Name, dl.started
		dl.manifest, dl.bytes = e.Manifest, e.Manifest.Size
		dl.mu.Unlock()
		close(dl.done)
		return dl, nil
	}
	d.log.Info("download started", zap.String("id", id.Short()), zap.String("name", name))
	d.launch(dl)
	return dl, nil
}

// running counts downloads not yet complete or failed.
func (d *downloads) running() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	count := 0
	for _, dl := range d.byID {
		if st := dl.status().State; st != api.StateComplete && st != api.StateFailed {
			count++
		}
	}
	return count
}

// announced takes the pieces a peer announced (an announce message); an
// error means the message does not fit the file and the connection closes.
func (d *downloads) announced(addr string, m *wire.Announce) error {
	d.metrics.announcedReceived.Add(float64(len(m.Indexes)))
	dl, ok := d.get(m.ID)
	if !ok {
		return nil // not downloading it (any more)
	}
	return dl.announced(addr, m.Indexes)
}

func (d *downloads) get(id content.ID) (*download, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dl, ok := d.byID[id]
	return dl, ok
}

func (d *downloads) list() []*download {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]*download, 0, len(d.byID))
	for _, dl := range d.byID {
		out = append(out, dl)
	}
	return out
}

// reserved is the disk space the running downloads still need.
func (d *downloads) reserved() int64 {
	var total int64
	for _, dl := range d.list() {
		dl.mu.Lock()
		if dl.partial != nil && dl.state == api.StateDownloading {
			total += dl.manifest.Size - dl.bytes
		}
		dl.mu.Unlock()
	}
	return total
}

func (d *downloads) wait() { d.wg.Wait() }

// syncLoop (SYNC=true) starts a download for every file seen in the swarm
// that this node has not got, so a file added on one node spreads to all.
func (d *downloads) syncLoop(ctx context.Context) {
	tick := time.NewTicker(d.refreshInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		// Only as many new downloads as there are free slots: a peer
		// listing thousands of files (or made-up ids) cannot queue
		// unbounded work here.
		free := d.maxDownloads - d.running()
		for _, f := range d.swarm() {
			if free <= 0 {
				break
			}
			if f.Local || len(f.Holders) == 0 {
				continue
			}
			id, err := content.ParseID(f.ID)
			if err != nil {
				continue
			}
			if _, known := d.get(id); known {
				continue // running, done, or failed for a reason a retry will not fix
			}
			if _, err := d.startID(id, f.Name); err != nil {
				d.log.Warn("sync: start download", zap.String("id", id.Short()), zap.Error(err))
				continue
			}
			free--
		}
	}
}
