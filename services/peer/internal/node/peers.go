package node

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/peer/api"
	"github.com/netlab/netlab/services/peer/internal/config"
	"github.com/netlab/netlab/services/peer/internal/wire"
)

const (
	maxBackoff = time.Minute
	// A non-seed address failing this many dials in a row is forgotten.
	maxFailures = 8
)

// peerInfo is what the node knows about one peer address.
type peerInfo struct {
	addr     string
	source   string
	conn     *peerConn // nil when not connected
	dialing  bool
	self     bool // the address leads back to this node
	failures int
	nextDial time.Time
	lastOK   time.Time
	catalog  []wire.CatalogEntry
	bad      int  // pieces that failed verification
	avoided  bool // bad reached MAX_BAD_PIECES
	// polling: a poll of the peer is under way; another waits for the
	// next refresh rather than ask for a large catalog twice at once.
	polling bool
}

// peerDeps is what the peer table takes from its node (built in New).
type peerDeps struct {
	log     *zap.Logger
	metrics *metrics
	// dial connects to a peer and runs the handshake.
	dial            func(ctx context.Context, addr string) (*peerConn, error)
	seeds           []string      // PEERS, each host:port (config.Seeds)
	maxPeers        int           // MAX_PEERS
	maxBadPieces    int           // MAX_BAD_PIECES
	refreshInterval time.Duration // REFRESH_INTERVAL
	dialTimeout     time.Duration // DIAL_TIMEOUT; also bounds resolving the seeds
	ioTimeout       time.Duration // IO_TIMEOUT
}

// peerTable is the node's view of the swarm: known addresses, connections,
// and the catalog each connected peer last reported.
type peerTable struct {
	peerDeps
	mu sync.Mutex
	by map[string]*peerInfo
	wg sync.WaitGroup
}

func newPeerTable(deps peerDeps) *peerTable {
	return &peerTable{peerDeps: deps, by: make(map[string]*peerInfo)}
}

// maxKnown bounds the table: peer exchange cannot grow it without limit.
func (t *peerTable) maxKnown() int { return 4 * t.maxPeers }

// learn records an address; it returns false when the table is full.
func (t *peerTable) learn(addr, source string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.by[addr]; ok {
		if source == api.PeerSeed {
			p.source = api.PeerSeed
		}
		if source == api.PeerInbound && p.conn == nil && !p.dialing {
			p.nextDial = time.Time{} // it is up: dial back now
		}
		return true
	}
	if len(t.by) >= t.maxKnown() && source != api.PeerSeed {
		return false
	}
	t.by[addr] = &peerInfo{addr: addr, source: source}
	t.metrics.peersKnown.Set(float64(len(t.by)))
	return true
}

// run keeps the table fresh until ctx ends: resolve seeds, dial, and poll
// connected peers for catalogs and more peers.
func (t *peerTable) run(ctx context.Context) {
	tick := time.NewTicker(t.refreshInterval)
	defer tick.Stop()
	for {
		t.refresh(ctx)
		select {
		case <-ctx.Done():
			t.wg.Wait()
			return
		case <-tick.C:
		}
	}
}

func (t *peerTable) refresh(ctx context.Context) {
	t.resolveSeeds(ctx)
	now := time.Now()
	t.mu.Lock()
	connected := 0
	for _, p := range t.by {
		if p.conn != nil && p.conn.isClosed() {
			t.dropLocked(p, p.conn.closeErr())
		}
		if p.conn != nil || p.dialing {
			connected++
		}
	}
	var dial, poll []*peerInfo
	for _, p := range t.by {
		switch {
		case p.conn != nil:
			poll = append(poll, p)
		case !p.self && !p.dialing && !now.Before(p.nextDial) && connected < t.maxPeers:
			p.dialing = true
			connected++
			dial = append(dial, p)
		}
	}
	t.mu.Unlock()
	for _, p := range dial {
		t.wg.Go(func() { t.connect(ctx, p) })
	}
	for _, p := range poll {
		t.wg.Go(func() { t.poll(ctx, p) })
	}
	t.updateGauges()
}

// resolveSeeds looks the PEERS names up again, so replicas started later
// (compose --scale) are found.
func (t *peerTable) resolveSeeds(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, t.dialTimeout)
	defer cancel()
	for _, seed := range t.seeds { // host:port, normalised by config
		host, port, _ := net.SplitHostPort(seed)
		ips, err := net.DefaultResolver.LookupHost(ctx, host)
		if err != nil {
			t.log.Debug("resolve seed", zap.String("seed", seed), zap.Error(err))
			continue
		}
		for _, ip := range ips {
			t.learn(net.JoinHostPort(ip, port), api.PeerSeed)
		}
	}
}

func (t *peerTable) connect(ctx context.Context, p *peerInfo) {
	pc, err := t.dial(ctx, p.addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	p.dialing = false
	switch {
	case errors.Is(err, errSelf):
		p.self = true
		return
	case err == nil && t.connectedToLocked(pc.hello.NodeID, p):
		// The same node under a second address (a name and an IP): keep
		// one connection, try this address again much later.
		pc.close(errors.New("duplicate"))
		p.nextDial = time.Now().Add(maxBackoff)
		return
	case err != nil:
		p.failures++
		if p.failures >= maxFailures && p.source != api.PeerSeed {
			t.forgetLocked(p)
			return
		}
		backoff := min(time.Second<<min(p.failures, 6), maxBackoff)
		p.nextDial = time.Now().Add(backoff/2 + rand.N(backoff/2))
		if ctx.Err() == nil {
			t.log.Debug("dial peer", zap.String("peer", p.addr), zap.Int("failures", p.failures), zap.Error(err))
		}
		return
	}
	if ctx.Err() != nil {
		pc.close(ctx.Err())
		return
	}
	p.conn, p.failures, p.lastOK = pc, 0, time.Now()
	t.log.Info("peer connected", zap.String("peer", p.addr), zap.String("source", p.source))
	t.wg.Go(func() { t.poll(ctx, p) })
}

func (t *peerTable) connectedToLocked(id [16]byte, except *peerInfo) bool {
	for _, q := range t.by {
		if q != except && q.conn != nil && !q.conn.isClosed() && q.conn.hello.NodeID == id {
			return true
		}
	}
	return false
}

// poll asks a connected peer for its catalog and the peers it knows.
func (t *peerTable) poll(ctx context.Context, p *peerInfo) {
	t.mu.Lock()
	pc, busy := p.conn, p.polling
	if pc != nil && !busy {
		p.polling = true
	}
	t.mu.Unlock()
	if pc == nil || busy {
		return
	}
	defer func() {
		t.mu.Lock()
		p.polling = false
		t.mu.Unlock()
	}()
	// Each request (each page of a catalog) has its own deadline.
	files, err := pc.catalog(ctx, 2*t.ioTimeout)
	peers := reply{err: err}
	if err == nil {
		peers = pc.doWithin(ctx, 2*t.ioTimeout, &wire.GetPeers{})
	}
	if peers.err != nil {
		// Giving up on our own deadline leaves the connection in step
		// (late answers are dropped): a peer busy sending pieces is slow,
		// not dead. Only a failed connection is dropped.
		if ctx.Err() == nil && !errors.Is(peers.err, context.DeadlineExceeded) {
			t.mu.Lock()
			if p.conn == pc {
				t.dropLocked(p, peers.err)
			}
			t.mu.Unlock()
		}
		return
	}
	if m, ok := peers.msg.(*wire.Peers); ok {
		for _, a := range m.Addrs {
			if _, err := config.SeedAddr(a); err == nil {
				t.learn(a, api.PeerExchange)
			}
		}
	}
	t.mu.Lock()
	p.catalog = files
	p.lastOK = time.Now()
	t.mu.Unlock()
}

// pollNow asks every connected peer for its catalog and peers at once and
// waits for the answers, so a file added a moment ago is found without
// waiting for the next refresh.
func (t *peerTable) pollNow(ctx context.Context) {
	t.mu.Lock()
	var poll []*peerInfo
	for _, p := range t.by {
		if p.conn != nil {
			poll = append(poll, p)
		}
	}
	t.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range poll {
		wg.Go(func() { t.poll(ctx, p) })
	}
	wg.Wait()
}

// dropLocked closes a peer's connection after a failure; it is dialed
// again after a backoff.
func (t *peerTable) dropLocked(p *peerInfo, err error) {
	if p.conn == nil {
		return
	}
	p.conn.close(err)
	p.conn = nil
	p.catalog = nil
	p.failures++
	p.nextDial = time.Now().Add(time.Second)
	t.log.Info("peer disconnected", zap.String("peer", p.addr), zap.Error(err))
}

func (t *peerTable) forgetLocked(p *peerInfo) {
	delete(t.by, p.addr)
	t.metrics.forgetPeer(p.addr)
	t.metrics.peersKnown.Set(float64(len(t.by)))
}

// badPiece counts a piece from addr that failed verification; at
// MAX_BAD_PIECES the peer is avoided by every download.
func (t *peerTable) badPiece(addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.by[addr]
	if !ok {
		return
	}
	p.bad++
	if p.bad >= t.maxBadPieces && !p.avoided {
		p.avoided = true
		t.log.Warn("peer avoided: too many bad pieces", zap.String("peer", addr), zap.Int("bad_pieces", p.bad))
	}
}

// connected returns the usable connections (not avoided), by address.
func (t *peerTable) connected() map[string]*peerConn {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]*peerConn)
	for _, p := range t.by {
		if p.conn != nil && !p.avoided && !p.conn.isClosed() {
			out[p.addr] = p.conn
		}
	}
	return out
}

// exchange lists addresses worth passing on: peers this node talked to
// recently, not the asker itself.
func (t *peerTable) exchange(asker string, limit int) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, p := range t.by {
		if p.addr == asker || p.self || p.avoided || time.Since(p.lastOK) > 2*time.Minute {
			continue
		}
		out = append(out, p.addr)
	}
	slices.Sort(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// closeAll tells every peer this node is connected to that it is shutting
// down, and closes the connections.
func (t *peerTable) closeAll() {
	t.wg.Wait()
	t.mu.Lock()
	var open []*peerConn
	for _, p := range t.by {
		if p.conn != nil {
			open = append(open, p.conn)
			p.conn = nil
		}
	}
	t.mu.Unlock()
	// Each on its own goroutine: a peer that does not read holds up only
	// its own goodbye.
	var left sync.WaitGroup
	for _, pc := range open {
		left.Go(pc.leave)
	}
	left.Wait()
}

func (t *peerTable) updateGauges() {
	t.mu.Lock()
	defer t.mu.Unlock()
	connected, avoided := 0, 0
	for _, p := range t.by {
		if p.conn != nil {
			connected++
		}
		if p.avoided {
			avoided++
		}
	}
	t.metrics.peersKnown.Set(float64(len(t.by)))
	t.metrics.peersConnected.Set(float64(connected))
	t.metrics.peersBanned.Set(float64(avoided))
}

func (t *peerTable) status() []api.Peer {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]api.Peer, 0, len(t.by))
	for _, p := range t.by {
		s := api.Peer{
			Addr: p.addr, Source: p.source, Connected: p.conn != nil, Self: p.self,
			Files: len(p.catalog), Failures: p.failures, BadPieces: p.bad, Avoided: p.avoided, LastSeen: p.lastOK,
		}
		if p.conn != nil {
			s.NodeID = hexID(p.conn.hello.NodeID)
			s.Version = int(p.conn.wc.Version())
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b api.Peer) int {
		if a.Addr < b.Addr {
			return -1
		}
		if a.Addr > b.Addr {
			return 1
		}
		return 0
	})
	return out
}

// catalogs returns a copy of every connected peer's last catalog.
func (t *peerTable) catalogs() map[string][]wire.CatalogEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string][]wire.CatalogEntry)
	for _, p := range t.by {
		if p.conn != nil && !p.avoided {
			out[p.addr] = p.catalog
		}
	}
	return out
}
