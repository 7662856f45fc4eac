package runner

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/filedist"
	"github.com/netlab/netlab/lab/internal/exp/spec"
	"github.com/netlab/netlab/lab/internal/stack"
	"github.com/netlab/netlab/services/peer/api"
)

// kuroseClient distributes one file from the stack's peer node (the
// server, its upload capped at us) to N peer nodes it starts itself for
// the point, each capped at u: in the client-server arm they serve no
// pieces to each other (SERVE_PIECES=false), in the peer-to-peer arm they
// do. Once every node is connected to every other and sees the file, one
// start signal goes to all; each node's time is from that signal to its
// verified completion, on its own clock (the host's).
type kuroseClient struct{}

func (kuroseClient) Run(ctx context.Context, e *Env, w spec.Workload) (figs []Figure, err error) {
	d, err := newDistribution(e, w)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, d.remove(ctx)) }()
	return d.run(ctx)
}

// serverShares are the server container's CPU shares (Docker's default
// is 1024): with 30 downloaders beside it, the one node every copy
// starts from is not starved.
const serverShares = 8192

// distribution is one repetition of a kurose-ross workload at one N.
type distribution struct {
	e      *Env
	w      spec.Workload
	n      int
	bound  float64
	term   filedist.Term
	server stack.Container
	srv    *api.Client
	nodes  []*krNode
	name   string // the file
	seed   uint64 // of its content
	id     string
	hc     *http.Client
}

func newDistribution(e *Env, w spec.Workload) (*distribution, error) {
	peers, err := stack.Match(e.Stack, "peer")
	if err != nil {
		return nil, err
	}
	if len(peers) != 1 {
		return nil, fmt.Errorf("%d peer nodes in the stack: want one, the server", len(peers))
	}
	addr, ok := e.Admin[peers[0].ID]
	if !ok {
		return nil, fmt.Errorf("%s publishes no admin port", peers[0].Label())
	}
	n := int(e.Value)
	p, err := spec.KuroseParams(e.Spec, w, n)
	if err != nil {
		return nil, err
	}
	bound, term := spec.KuroseBound(p, w.Arm)
	hc := &http.Client{Timeout: 5 * time.Second}
	return &distribution{e: e, w: w, n: n, bound: bound, term: term, server: peers[0], hc: hc,
		srv:  &api.Client{Base: "http://" + addr, HTTP: hc},
		name: fmt.Sprintf("%s-n%d-r%d.bin", w.Name, n, e.Rep+1), seed: e.Rand.Uint64()}, nil
}

func (d *distribution) say(format string, a ...any) {
	fmt.Fprintf(d.e.Progress, "exp %s: %s N=%d: %s\n", d.e.Spec.Name, d.w.Name, d.n, fmt.Sprintf(format, a...))
}

// run seeds the server, starts and connects the nodes, gives the start
// signal, waits for every copy, checks them, and measures.
func (d *distribution) run(ctx context.Context) ([]Figure, error) {
	if _, err := d.e.Docker.Run(ctx, "update", "--cpu-shares", fmt.Sprint(serverShares), d.server.ID); err != nil {
		return nil, fmt.Errorf("%s cpu shares: %w", d.server.Label(), err)
	}
	if _, err := d.srv.Put(ctx, d.name, seededFile(d.seed, d.w.Bytes), d.w.Bytes); err != nil {
		return nil, fmt.Errorf("%s: %w", d.server.Label(), err)
	}
	began := time.Now()
	if err := d.startNodes(ctx); err != nil {
		return nil, err
	}
	if err := d.formSwarm(ctx); err != nil {
		return nil, err
	}
	formed := time.Since(began).Seconds()
	d.say("%d nodes connected to each other and the server in %.1fs; bound %.2fs (%s)", d.n, formed, d.bound, d.term)
	before, err := d.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	t0, err := d.signal(ctx)
	if err != nil {
		return nil, err
	}
	out, err := d.wait(ctx, t0)
	if err != nil {
		return nil, err
	}
	after, err := d.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if err := d.verify(ctx); err != nil {
		return nil, err
	}
	return d.figures(ctx, out, before, after, formed), nil
}

// formSwarm waits until every node is connected to the server and every
// other node and sees the file in the swarm: then discovery is over
// before the signal.
func (d *distribution) formSwarm(ctx context.Context) error {
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second+time.Duration(d.n)*time.Second)
	defer cancel()
	for _, nd := range d.nodes {
		f, err := nd.api.WaitSwarm(wctx, d.name, 1, 100*time.Millisecond)
		if err != nil {
			return fmt.Errorf("%s: %w", nd.label, err)
		}
		d.id = f.ID
	}
	for {
		var short []string
		for _, nd := range d.nodes {
			if c, err := nd.api.Connected(wctx); err != nil || c < d.n {
				short = append(short, fmt.Sprintf("%s %d", nd.label, c))
			}
		}
		if len(short) == 0 {
			return nil
		}
		if err := sleep(wctx, 200*time.Millisecond); err != nil {
			return fmt.Errorf("the swarm did not form (connected of %d: %s): %w", d.n, strings.Join(short, ", "), err)
		}
	}
}

// signal asks every node for the file at once; it returns the time the
// signal was given.
func (d *distribution) signal(ctx context.Context) (time.Time, error) {
	t0 := time.Now()
	err := eachNode(d.nodes, func(nd *krNode) error {
		dl, err := nd.api.Start(ctx, d.id)
		nd.dl = dl.ID
		return err
	})
	return t0, err
}

// eachNode runs fn on every node at once.
func eachNode(nodes []*krNode, fn func(*krNode) error) error {
	return parallel(len(nodes), func(i int) error {
		if err := fn(nodes[i]); err != nil {
			return fmt.Errorf("%s: %w", nodes[i].label, err)
		}
		return nil
	})
}

// median is the middle of xs (the mean of the two middle ones).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
