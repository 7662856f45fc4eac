package runner

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
	"github.com/netlab/netlab/lab/internal/stack"
	"github.com/netlab/netlab/services/peer/api"
)

// peerTransfer moves one file between two peer nodes of the stack: the
// first replica gets a file of seeded random bytes, the second downloads
// it. The figure is the download's rate, from the node's start to its
// verified completion (the node's own clock), so the time the file takes
// to show in the swarm is not in it.
type peerTransfer struct{}

// peerPoll is how often a download's progress is read.
const peerPoll = 100 * time.Millisecond

func (peerTransfer) Run(ctx context.Context, e *Env, w spec.Workload) ([]Figure, error) {
	seed, dl, err := e.peerPair()
	if err != nil {
		return nil, err
	}
	size := w.Bytes
	if w.Seconds > 0 {
		size = int64(e.Value * 1e6 / 8 * w.Seconds)
	}
	size = max(size, 1)
	name := fmt.Sprintf("exp-%s-p%d-r%d-%08x.bin", w.Name, e.Point, e.Rep, e.Rand.Uint32())
	// The admin port is behind the same impaired link: give the upload
	// the time of its size at 1 Mbit/s, and more.
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second+time.Duration(float64(size*8)/1e6*float64(time.Second)))
	defer cancel()
	if err := putRandom(pctx, seed, name, size, e.Rand); err != nil {
		return nil, fmt.Errorf("adding %s to the first node: %w", name, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := dl.WaitSwarm(wctx, name, 1, peerPoll); err != nil {
		return nil, err
	}
	d, err := dl.Start(ctx, name)
	if err != nil {
		return nil, err
	}
	// A generous bound: the time at the cap (or 20 Mbit/s) five times over.
	limit := 60*time.Second + 5*time.Duration(float64(size*8)/max(e.Value*1e6, 20e6)*float64(time.Second))
	tctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	if d, err = dl.Wait(tctx, d.ID, peerPoll); err != nil {
		return nil, err
	}
	secs := d.Finished.Sub(d.Started).Seconds()
	if d.Size != size || secs <= 0 {
		return nil, fmt.Errorf("download of %s: %d of %d bytes in %v s", name, d.Size, size, secs)
	}
	return []Figure{{Figure: result.Figure{Metric: result.MetricPeerMbit, Value: float64(size) * 8 / secs / 1e6}, Extra: map[string]float64{
		"peer_seconds": secs, "peer_pieces_verified": float64(d.Verified), "peer_pieces_failed": float64(d.Failed),
		"peer_sources": float64(len(d.Sources))}}}, nil
}

// peerPair are API clients of the stack's first two peer nodes.
func (e *Env) peerPair() (*api.Client, *api.Client, error) {
	var nodes []stack.Container
	for _, c := range e.Stack {
		if c.Service == "peer" {
			nodes = append(nodes, c)
		}
	}
	slices.SortFunc(nodes, func(a, b stack.Container) int { return a.Number - b.Number })
	if len(nodes) < 2 {
		return nil, nil, fmt.Errorf("%d peer nodes: want 2", len(nodes))
	}
	var out [2]*api.Client
	for i, n := range nodes[:2] {
		addr, ok := e.Admin[n.ID]
		if !ok {
			return nil, nil, fmt.Errorf("%s publishes no admin port", n.Label())
		}
		c, err := api.NewClient(addr)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", n.Label(), err)
		}
		out[i] = c
	}
	return out[0], out[1], nil
}

// putRandom adds size bytes drawn from rng to a node's share as name.
func putRandom(ctx context.Context, c *api.Client, name string, size int64, rng *rand.Rand) error {
	var key [32]byte
	for i := range key {
		key[i] = byte(rng.Uint32())
	}
	_, err := c.Put(ctx, name, io.LimitReader(rand.NewChaCha8(key), size), size)
	return err
}
