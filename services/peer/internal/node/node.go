// Package node is a peer of the netlab swarm: it serves the files of its
// share directory over the peer protocol (docs/peer-protocol.md), finds
// other peers (seeds, peer exchange), and downloads files piece by piece
// from every peer that holds them, verifying each piece before it is
// written.
package node

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/netlab/netlab/services/peer/internal/announce"
	"github.com/netlab/netlab/services/peer/internal/config"
	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/ratelimit"
	"github.com/netlab/netlab/services/peer/internal/share"
	"github.com/netlab/netlab/services/peer/internal/wire"
	"github.com/netlab/netlab/services/platform/netserve"
)

// Node is one peer. Create it with New, run it with Serve.
type Node struct {
	cfg     config.Config
	log     *zap.Logger
	metrics *metrics
	share   *share.Share
	ln      net.Listener
	id      [16]byte
	port    uint16
	limiter *ratelimit.Limiter

	peers     *peerTable
	downloads *downloads
	// hub routes verified pieces to the served connections to announce
	// them on (protocol version 2).
	hub      *announce.Hub
	uploaded uploadTotals

	// accept holds a slot per accepted connection: at most MAX_CONNS
	// served plus MAX_HANDSHAKES in the handshake.
	accept     *netserve.Loop
	handshakes *handshakeBudget
	served     chan struct{} // a token per connection served past its handshake (MAX_CONNS)
	refusals   *refusalLog
	inbound    sync.Map // *servedConn -> struct{}: every served connection
	wg         sync.WaitGroup
	started    time.Time
	// rekey bounds each traffic key's use (wire.DefaultRekey when zero;
	// tests set small limits).
	rekey wire.RekeyLimits

	// work is canceled when the node stops; downloads started through the
	// API before Serve runs use it too.
	work     context.Context
	stopWork context.CancelFunc
}

// Bounds of the announcements to one served connection: the files its
// peer may be told about (a downloader asks about one file per download,
// and MAX_DOWNLOADS is at most 64), and the pieces waiting to be sent.
const (
	maxAnnounceFiles  = 64
	maxAnnounceQueued = 4096
)

// uploadTotals counts the piece data this node sent, all peers together.
type uploadTotals struct {
	bytes, pieces atomic.Int64
}

func (u *uploadTotals) add(size int) {
	u.bytes.Add(int64(size))
	u.pieces.Add(1)
}

// New opens the share directory, listens on cfg.ListenAddr and registers
// the metrics with reg.
func New(cfg config.Config, log *zap.Logger, reg prometheus.Registerer) (*Node, error) {
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	alg, err := content.ParseAlg(cfg.Hash)
	if err != nil {
		return nil, fmt.Errorf("HASH: %w", err)
	}
	sh, err := share.Open(cfg.ShareDir, share.Options{PieceSize: int(cfg.PieceSize), Alg: alg, Log: log.Named("share"), Settle: cfg.ScanSettle})
	if err != nil {
		return nil, fmt.Errorf("share: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		sh.Close()
		return nil, fmt.Errorf("listen tcp: %w", err)
	}
	n := &Node{
		cfg: cfg, log: log, metrics: m, share: sh, ln: ln,
		port:    uint16(ln.Addr().(*net.TCPAddr).Port),
		limiter: ratelimit.New(int64(cfg.UploadRate), int64(cfg.UploadBurst), 64<<10), // one wire chunk always fits
		started: time.Now(),
	}
	if _, err := rand.Read(n.id[:]); err != nil {
		ln.Close()
		sh.Close()
		return nil, fmt.Errorf("node id: %w", err)
	}
	n.handshakes = newHandshakeBudget(cfg.MaxHandshakes, cfg.MaxHandshakesPerSource)
	n.served = make(chan struct{}, cfg.MaxConns)
	n.refusals = &refusalLog{log: log}
	// Never reached while the budgets hold; a guard on open descriptors.
	n.accept = netserve.New(ln, log, cfg.MaxConns+cfg.MaxHandshakes, func(c net.Conn) {
		m.connsRejected.WithLabelValues(netserve.ReasonMaxConns).Inc()
		n.refusals.refused(c.RemoteAddr(), netserve.ReasonMaxConns)
		go refuse(c, cfg.IOTimeout, "too many connections (MAX_CONNS + MAX_HANDSHAKES)")
	})
	n.work, n.stopWork = context.WithCancel(context.Background())
	n.hub = announce.New(maxAnnounceFiles, maxAnnounceQueued)
	n.peers = newPeerTable(peerDeps{
		log: log, metrics: m, dial: n.dial, seeds: cfg.Peers,
		maxPeers: cfg.MaxPeers, maxBadPieces: cfg.MaxBadPieces, refreshInterval: cfg.RefreshInterval,
		dialTimeout: cfg.DialTimeout, ioTimeout: cfg.IOTimeout,
	})
	n.downloads = newDownloads(downloadDeps{
		log: log, metrics: m, share: sh, peers: n.peers, resolve: n.resolve, swarm: n.swarm, work: n.work, hub: n.hub,
		maxDownloads: cfg.MaxDownloads, requestsPerPeer: cfg.RequestsPerPeer,
		maxFileSize: cfg.MaxFileSize, minFreeSpace: cfg.MinFreeSpace, refreshInterval: cfg.RefreshInterval,
	})
	return n, nil
}

// Addr is the address of the peer protocol listener.
func (n *Node) Addr() net.Addr { return n.ln.Addr() }

// ID is this node's random identity for this run.
func (n *Node) ID() [16]byte { return n.id }

// Serve runs the node until ctx is canceled: it scans the share, serves
// peers, keeps in touch with the swarm and runs downloads (resuming those
// a previous run left). At shutdown it stops accepting, lets each served
// connection finish the request it is answering, saves download progress
// and returns.
func (n *Node) Serve(ctx context.Context) error {
	work, stop := n.work, n.stopWork
	defer stop()

	n.downloads.resume()

	n.goFunc(func() { n.scanLoop(work) })
	n.goFunc(func() { n.peers.run(work) })
	if n.cfg.Sync {
		n.goFunc(func() { n.downloads.syncLoop(work) })
	}
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		n.accept.Run(work, func(c net.Conn, release func()) { n.startConn(work, c, release) })
	}()
	select {
	case <-ctx.Done():
	case <-accepted:
	}
	stop()
	// Nothing is accepted any more (Run closed the listener), so every
	// served connection is known to the drain below.
	<-accepted
	n.downloads.close()
	// Connections waiting for a request are told and closed now, each
	// on its own goroutine (a peer that does not read holds up only its
	// own); one answering a request finishes it, then sees the node
	// stopping and says the same.
	n.inbound.Range(func(k, _ any) bool {
		if sc := k.(*servedConn); !sc.busy.Load() {
			n.goFunc(func() {
				sc.leave()
				sc.wc.Close()
			})
		}
		return true
	})
	drained := make(chan struct{})
	go func() { n.wg.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(n.cfg.ShutdownTimeout):
		n.log.Warn("shutdown timeout: closing connections still busy")
		n.inbound.Range(func(k, _ any) bool { k.(*servedConn).wc.Close(); return true })
		<-drained
	}
	n.peers.closeAll()
	n.downloads.wait()
	return n.share.Close()
}

func (n *Node) goFunc(f func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
}

// scan rescans the share and updates the catalog gauge.
func (n *Node) scan(ctx context.Context) error {
	changed, err := n.share.Scan(ctx)
	if changed {
		n.log.Info("catalog changed", zap.Int("files", len(n.share.Catalog())))
	}
	n.metrics.catalogFiles.Set(float64(len(n.share.Catalog())))
	return err
}

// scanLoop scans the share at once and then every SCAN_INTERVAL. Peers are
// served meanwhile: hashing a large share must not hold up the listener.
func (n *Node) scanLoop(ctx context.Context) {
	t := time.NewTicker(n.cfg.ScanInterval)
	defer t.Stop()
	for {
		if err := n.scan(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("scan share", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// advertised is the address this node tells others to dial, or "" to let
// them use the address they see.
func (n *Node) advertised() string { return n.cfg.AdvertiseAddr }

// peerAddress is the address by which a peer that said hello from remote
// can be dialed, or "" when it cannot be (no listen port).
func peerAddress(h *wire.Hello, remote net.Addr) string {
	if h.Addr != "" {
		if addr, err := config.SeedAddr(h.Addr); err == nil && addr == h.Addr {
			return h.Addr
		}
	}
	if h.ListenPort == 0 {
		return ""
	}
	host := remote.String()
	if tcp, ok := remote.(*net.TCPAddr); ok {
		host = tcp.IP.String()
	} else if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return net.JoinHostPort(host, strconv.Itoa(int(h.ListenPort)))
}
