package soak

// The peer phase runs a swarm of peer nodes on loopback, seeds one large
// random file on the first and has every other node download it at once,
// then checks that every node's copy has the source's SHA-256.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/netlab/netlab/lab/internal/proc"
	"github.com/netlab/netlab/lab/internal/prom"
	"github.com/netlab/netlab/services/peer/api"
)

// peerSoak is the peer phase.
type peerSoak struct {
	nodes int           // in the swarm, the seed included
	size  int64         // bytes of the file
	bound time.Duration // how long the downloads may take
}

const fileName = "soak.bin"

// node is one running peer.
type node struct {
	name  string
	admin string // http://127.0.0.1:port
	share string
	p     *proc.Proc
}

func (s *peerSoak) describe() (string, string) {
	return "peer", fmt.Sprintf("%d peer nodes, one seeds a %d MiB random file, %d download it at once",
		s.nodes, s.size>>20, s.nodes-1)
}

func (s *peerSoak) run(ctx context.Context, env Env, ph *Phase) error {
	if s.nodes < 2 {
		return errors.New("a swarm needs at least 2 nodes")
	}
	// Every node holds a copy, and a download's temporary file beside it.
	need := uint64(s.nodes)*uint64(s.size)*5/4 + 512<<20
	base, err := pickDir(need)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(base, "netlab-soak-peer-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ph.Note("share directories under %s (%d MiB needed)", base, need>>20)
	nodes, err := s.startSwarm(ctx, env, dir)
	defer func() {
		for _, n := range nodes {
			n.p.Stop()
		}
	}()
	if err != nil {
		return err
	}
	ph.Note("peer at its defaults (1 MiB pieces, REQUESTS_PER_PEER=8, no upload cap); PEERS = the first node and the previous one")
	fmt.Fprintf(env.Log, "peer: %d nodes up; seeding %d MiB on %s\n", s.nodes, s.size>>20, nodes[0].name)
	seedStart := time.Now()
	want, err := seed(ctx, nodes[0].admin, s.size)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	ph.Add("seed upload and hashing", time.Since(seedStart).Seconds(), "s")
	ph.AddText("source sha256", hex.EncodeToString(want[:]))
	results, all, err := s.downloadAll(ctx, nodes)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Log, "peer: downloads ended after %s; hashing every copy\n", all.Round(time.Millisecond))
	s.check(ctx, ph, nodes, results, all, hex.EncodeToString(want[:]))
	for _, n := range nodes {
		if exited, exitErr := n.p.Exited(); exited {
			return fmt.Errorf("%s exited during the soak: %v\n%s", n.name, exitErr, n.p.Stderr())
		}
	}
	return nil
}

// startSwarm starts every node, each sharing a directory of its own under
// dir, seeded with the first node and the one before it; peer exchange
// introduces the rest. It returns the nodes it started, also on error.
func (s *peerSoak) startSwarm(ctx context.Context, env Env, dir string) ([]*node, error) {
	ports, err := proc.FreePorts(s.nodes)
	if err != nil {
		return nil, err
	}
	addr := func(i int) string { return fmt.Sprintf("127.0.0.1:%d", ports[i]) }
	var nodes []*node
	for i := range s.nodes {
		n := &node{name: fmt.Sprintf("peer-%d", i), share: filepath.Join(dir, fmt.Sprintf("node-%d", i))}
		if err := os.Mkdir(n.share, 0o755); err != nil {
			return nodes, err
		}
		vars := []string{"SHARE_DIR=" + n.share, "ADVERTISE_ADDR=" + addr(i)}
		if i == 1 {
			vars = append(vars, "PEERS="+addr(0))
		} else if i > 1 {
			vars = append(vars, "PEERS="+addr(0)+","+addr(i-1))
		}
		if n.p, n.admin, err = env.Procs.StartService(ctx, n.name, env.bin("peer"), addr(i), vars...); err != nil {
			return nodes, err
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// downloadAll has every node but the seed download the file at once, and
// returns each node's result and how long they took together.
func (s *peerSoak) downloadAll(ctx context.Context, nodes []*node) ([]dlResult, time.Duration, error) {
	start := time.Now()
	dlCtx, cancel := context.WithTimeout(ctx, s.bound)
	defer cancel()
	results := make([]dlResult, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes[1:] {
		wg.Go(func() { results[i+1] = download(dlCtx, n.admin, start) })
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, 0, ctx.Err()
	}
	return results, time.Since(start), nil
}

// check hashes every node's copy, records each node's figures and checks
// the swarm: every download done, every copy the source's.
func (s *peerSoak) check(ctx context.Context, ph *Phase, nodes []*node, results []dlResult, all time.Duration, wantHex string) {
	hashes := make([]string, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { hashes[i] = hashFile(filepath.Join(n.share, fileName)) })
	}
	wg.Wait()
	identical, failed := 0, 0
	var slowest time.Duration
	var uploadedByOthers, uploadedTotal float64
	for i, n := range nodes {
		up := 0.0
		if m, err := prom.Scrape(ctx, n.admin+"/metrics"); err == nil {
			up = m.Sum("netlab_peer_bytes_uploaded_total")
		}
		uploadedTotal += up
		if i > 0 {
			uploadedByOthers += up
		}
		if hashes[i] == wantHex {
			identical++
		}
		took := "seed"
		if r := results[i]; i > 0 && r.err != nil {
			failed++
			took = "FAILED: " + r.err.Error()
		} else if i > 0 {
			took = fmt.Sprintf("done in %.1f s from %d source(s)", r.took.Seconds(), r.sources)
			slowest = max(slowest, r.took)
		}
		ph.AddText(n.name, fmt.Sprintf("%s, uploaded %.0f MiB, sha256 %s", took, up/(1<<20), short(hashes[i])))
	}
	delivered := float64(int64(s.nodes-1)*s.size) / (1 << 20)
	ph.Add("all downloads complete after", all.Seconds(), "s")
	ph.Add("slowest node", slowest.Seconds(), "s")
	ph.Add("bytes delivered", delivered, "MiB")
	ph.Add("aggregate download rate", delivered/all.Seconds(), "MiB/s")
	if uploadedTotal > 0 {
		ph.Add("share of bytes uploaded by nodes other than the seed", 100*uploadedByOthers/uploadedTotal, "%")
	}
	ph.Check(AtMost("downloads failed or timed out", float64(failed), 0, ""))
	ph.Check(AtLeast("nodes whose copy has the source's sha256", float64(identical), float64(s.nodes), ""))
}

// pickDir prefers /dev/shm (memory: the run measures the swarm, not the
// disk) when it has room, else the temp directory; it fails when neither
// has need bytes free.
func pickDir(need uint64) (string, error) {
	for _, d := range []string{"/dev/shm", os.TempDir()} {
		if free, err := freeBytes(d); err == nil && free >= need {
			return d, nil
		}
	}
	return "", fmt.Errorf("neither /dev/shm nor %s has %d MiB free", os.TempDir(), need>>20)
}

func freeBytes(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// seed streams size random bytes to the node's share and offers them,
// returning their SHA-256.
func seed(ctx context.Context, admin string, size int64) ([32]byte, error) {
	var key [32]byte
	for i := range key {
		key[i] = byte(rand.Uint32())
	}
	h := sha256.New()
	body := io.TeeReader(io.LimitReader(rand.NewChaCha8(key), size), h)
	if _, err := (&api.Client{Base: admin}).Put(ctx, fileName, body, size); err != nil {
		return [32]byte{}, err
	}
	return [32]byte(h.Sum(nil)), nil
}

type dlResult struct {
	took    time.Duration
	sources int
	err     error
}

// download asks the node to fetch the file — asking again while the node
// has not yet heard of it — and waits until it is complete.
func download(ctx context.Context, admin string, since time.Time) dlResult {
	c := (&api.Client{Base: admin})
	d, err := c.StartWhenSeen(ctx, fileName, 250*time.Millisecond)
	if err != nil {
		return dlResult{err: fmt.Errorf("start download: %w", err)}
	}
	if d, err = c.Wait(ctx, d.ID, 200*time.Millisecond); err != nil {
		return dlResult{err: err}
	}
	return dlResult{took: time.Since(since), sources: len(d.Sources)}
}

// hashFile is the file's SHA-256 in hex, or why it has none.
func hashFile(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "missing"
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "unreadable"
	}
	return hex.EncodeToString(h.Sum(nil))
}

func short(hash string) string {
	if len(hash) > 16 {
		return hash[:16]
	}
	return hash
}
