package runner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/recovery"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
	"github.com/netlab/netlab/lab/internal/shape"
	"github.com/netlab/netlab/lab/internal/stack"
	"github.com/netlab/netlab/services/peer/api"
)

// partitionClient is a swarm download among peer nodes whose downloaders
// (the first Cut of them) are cut off from every other node mid-way and
// healed, with the throughput polled from each node's API.
type partitionClient struct{}

func (partitionClient) Run(ctx context.Context, e *Env, w spec.Workload) ([]Figure, error) {
	sw, err := newSwarmRun(e, w)
	if err != nil {
		return nil, err
	}
	return sw.run(ctx)
}

// swarmRun is one repetition of a partition-heal workload.
type swarmRun struct {
	e       *Env
	w       spec.Workload
	params  recovery.Params
	planned recovery.Bound // for the partition's planned length
	bound   recovery.Bound // set at the heal, from the length it held
	seeds   []stack.Container
	down    []stack.Container // the downloaders, the cut ones first
	cut     []stack.Container
	far     []stack.Container      // the other side of the cut: where its rules go
	client  map[string]*api.Client // by container ID
	src     string                 // the series' source of the events
	name    string                 // the file
	seed    uint64                 // of its content
	id      string
	tl      recovery.Timeline

	mu     sync.Mutex
	nodes  map[string]*recovery.Node // by container ID
	failed string                    // a download that failed
}

func newSwarmRun(e *Env, w spec.Workload) (*swarmRun, error) {
	peers, err := stack.Match(e.Stack, "peer")
	if err != nil {
		return nil, err
	}
	if len(peers) < w.Seeds+w.Cut {
		return nil, fmt.Errorf("%d peer nodes, the workload needs %d seeds and %d to cut off", len(peers), w.Seeds, w.Cut)
	}
	params, err := spec.PartitionParams(e.Spec, w)
	if err != nil {
		return nil, err
	}
	sw := &swarmRun{e: e, w: w, params: params, planned: recovery.RecoveryBound(params), seeds: peers[:w.Seeds], down: peers[w.Seeds:],
		client: map[string]*api.Client{}, src: "workload:" + w.Name, name: fmt.Sprintf("%s-%d-%d.bin", w.Name, e.Point+1, e.Rep+1),
		seed: e.Rand.Uint64(), nodes: map[string]*recovery.Node{}}
	sw.cut = sw.down[:w.Cut]
	sw.far = append(slices.Clone(sw.seeds), sw.down[w.Cut:]...)
	// Short answers on loopback: a poll that takes longer is a gap.
	hc := &http.Client{Timeout: 5 * time.Second}
	for _, c := range peers {
		addr, ok := e.Admin[c.ID]
		if !ok {
			return nil, fmt.Errorf("%s publishes no admin port", c.Label())
		}
		sw.client[c.ID] = &api.Client{Base: "http://" + addr, HTTP: hc}
	}
	for i, c := range sw.down {
		sw.nodes[c.ID] = &recovery.Node{Label: c.Label(), Cut: i < w.Cut, Complete: math.NaN()}
	}
	return sw, nil
}

func (sw *swarmRun) say(format string, a ...any) {
	fmt.Fprintf(sw.e.Progress, "exp %s: %s: %s\n", sw.e.Spec.Name, sw.w.Name, fmt.Sprintf(format, a...))
}

func labels(cs []stack.Container) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Label())
	}
	return strings.Join(out, ", ")
}

// run seeds the file, starts the downloads, cuts and heals on the
// timeline while polling, then checks the files and that no partition
// rule is left.
func (sw *swarmRun) run(ctx context.Context) (figs []Figure, err error) {
	if err := sw.seedFile(ctx); err != nil {
		return nil, err
	}
	pctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()
	if err := sw.start(ctx); err != nil {
		return nil, err
	}
	wg.Go(func() { sw.poll(pctx, done) })
	if err := sw.timeline(ctx); err != nil {
		return nil, err
	}
	deadline := sw.tl.Start + sw.w.Seconds
	select {
	case <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(time.Duration((deadline - sw.e.Since()) * float64(time.Second))):
		return nil, fmt.Errorf("the downloads were not complete %gs after they started: %s", sw.w.Seconds, sw.progress())
	}
	stop()
	wg.Wait()
	if sw.failed != "" {
		return nil, errors.New(sw.failed)
	}
	verified, err := sw.verify(ctx)
	if err != nil {
		return nil, err
	}
	left, err := sw.rulesLeft(ctx)
	if err != nil {
		return nil, err
	}
	sw.record()
	return sw.figures(verified, left)
}

// seedFile puts the file on every seed (each hashes its own copy, to the
// same id) and waits until every downloader sees it held by every seed.
func (sw *swarmRun) seedFile(ctx context.Context) error {
	for _, c := range sw.seeds {
		if _, err := sw.client[c.ID].Put(ctx, sw.name, seededFile(sw.seed, sw.w.Bytes), sw.w.Bytes); err != nil {
			return fmt.Errorf("%s: %w", c.Label(), err)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, c := range sw.down {
		f, err := sw.client[c.ID].WaitSwarm(wctx, sw.name, len(sw.seeds), 200*time.Millisecond)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Label(), err)
		}
		sw.id = f.ID
	}
	sw.say("%s (%d bytes, id %.12s) on %s", sw.name, sw.w.Bytes, sw.id, labels(sw.seeds))
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// start asks every downloader for the file.
func (sw *swarmRun) start(ctx context.Context) error {
	sw.tl.Start = sw.e.Since()
	for _, c := range sw.down {
		if _, err := sw.client[c.ID].Start(ctx, sw.id); err != nil {
			return fmt.Errorf("%s: %w", c.Label(), err)
		}
	}
	sw.say("downloads started on %s; %s cut off at +%v, healed at +%v", labels(sw.down), labels(sw.cut), sw.w.PartitionAt.D(), sw.w.HealAt.D())
	return nil
}

// timeline cuts at PartitionAt and heals at HealAt after the start. A
// partition it set is healed whatever happens (a failure, Ctrl-C), with
// a context of its own.
func (sw *swarmRun) timeline(ctx context.Context) (err error) {
	if err := sleep(ctx, sw.until(sw.w.PartitionAt.D())); err != nil {
		return err
	}
	healed := false
	defer func() {
		if healed {
			return
		}
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		sw.say("healing the partition before stopping (%v)", err)
		if _, _, herr := sw.heal(hctx); herr != nil {
			err = errors.Join(err, fmt.Errorf("heal after the failure: %w", herr))
		}
	}()
	sw.tl.PartitionBegin = sw.e.Since()
	if err := sw.cutOff(ctx); err != nil {
		return err
	}
	sw.tl.Partition = sw.e.Since()
	sw.say("partition in place at +%.1fs (took %.1fs)", sw.tl.Partition-sw.tl.Start, sw.tl.Partition-sw.tl.PartitionBegin)
	if sw.tl.Partition > sw.wholeSent() {
		sw.say("the partition came after the seeds could have sent the whole file (+%.1fs): the cut nodes may not stall", sw.wholeSent()-sw.tl.Start)
	}
	// The partition holds its planned length once in place, even when
	// the shaper took long to set it.
	hold := (sw.w.HealAt - sw.w.PartitionAt).D()
	if err := sleep(ctx, max(sw.until(sw.w.HealAt.D()), hold-time.Duration((sw.e.Since()-sw.tl.Partition)*float64(time.Second)))); err != nil {
		return err
	}
	sw.tl.HealBegin = sw.e.Since()
	if sw.tl.Heal, sw.tl.HealEnd, err = sw.heal(ctx); err != nil {
		return err
	}
	healed = true
	// The bound counts the longest the cut can have held: from the
	// first rule that may have been in place to the last one gone.
	sw.params.Partition = sw.tl.HealEnd - sw.tl.PartitionBegin
	sw.bound = recovery.RecoveryBound(sw.params)
	sw.say("healed at +%.1fs, every node at +%.1fs (took %.1fs); recovery bound %s", sw.tl.Heal-sw.tl.Start, sw.tl.HealEnd-sw.tl.Start,
		sw.tl.HealEnd-sw.tl.HealBegin, sw.bound)
	return nil
}

// until is how long from now to d after the start.
func (sw *swarmRun) until(d time.Duration) time.Duration {
	return time.Duration((sw.tl.Start + d.Seconds() - sw.e.Since()) * float64(time.Second))
}

// each runs fn on every container at once: the cut (or the heal) is in
// place within one shaper run, not one per container.
func each(cs []stack.Container, fn func(int, stack.Container) error) error {
	return parallel(len(cs), func(i int) error { return fn(i, cs[i]) })
}

// parallel runs fn(0) … fn(n-1) at once and joins their errors.
func parallel(n int, fn func(int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// cutOff makes every node on the far side drop the cut downloaders, both
// ways: their SYNs then go unanswered, as across a real partition.
func (sw *swarmRun) cutOff(ctx context.Context) error {
	results := make([][]shape.Result, len(sw.far))
	err := each(sw.far, func(i int, c stack.Container) error {
		var err error
		results[i], err = sw.e.Shaper.Partition(ctx, append([]stack.Container{c}, sw.cut...), []stack.Container{c}, true)
		return err
	})
	for _, res := range results {
		sw.e.RecordShapes(res)
	}
	return err
}

// heal removes the partition rules of every far-side node; it returns
// when the first and the last were done (series clock).
func (sw *swarmRun) heal(ctx context.Context) (first, last float64, err error) {
	ends := make([]float64, len(sw.far))
	err = each(sw.far, func(i int, c stack.Container) error {
		_, err := sw.e.Shaper.Heal(ctx, []stack.Container{c}, []stack.Container{c})
		ends[i] = sw.e.Since()
		return err
	})
	return slices.Min(ends), slices.Max(ends), err
}

// rulesLeft counts the partition rules still in any peer node's network
// namespace, read back from the kernel.
func (sw *swarmRun) rulesLeft(ctx context.Context) (int, error) {
	all := append(slices.Clone(sw.seeds), sw.down...)
	counts := make([]int, len(all))
	err := each(all, func(i int, c stack.Container) error {
		shown, err := sw.e.Shaper.Show(ctx, []stack.Container{c})
		for _, s := range shown {
			for _, it := range s.Items {
				if it.Impairment == "partition" {
					counts[i]++
				}
			}
		}
		return err
	})
	n := 0
	for _, k := range counts {
		n += k
	}
	return n, err
}

// verify reads the file back from every downloader and compares it with
// the seeded content; it returns how many matched.
func (sw *swarmRun) verify(ctx context.Context) (int, error) {
	want, err := seededSum(sw.seed, sw.w.Bytes)
	if err != nil {
		return 0, err
	}
	ok := 0
	for _, c := range sw.down {
		sum, n, err := fileSum(ctx, sw.client[c.ID].Base, sw.name)
		match := err == nil && n == sw.w.Bytes && sum == want
		if match {
			ok++
		} else {
			sw.say("%s: the file read back does not match (%d bytes, %v)", c.Label(), n, err)
		}
		sw.e.Add(result.Row{Source: sw.src + "/" + c.Label(), T: sw.e.Since(), Metric: recovery.NodeVerified, V: b2f(match)})
	}
	return ok, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// hostOf is the IP of a peer address host:port.
func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}

// acrossIPs are the addresses of the nodes across the cut from c.
func (sw *swarmRun) acrossIPs(c stack.Container) map[string]bool {
	other := sw.cut
	if sw.nodes[c.ID].Cut {
		other = sw.far
	}
	ips := map[string]bool{}
	for _, o := range other {
		for _, ip := range o.IPs {
			ips[ip] = true
		}
	}
	return ips
}

// across is what d received from the nodes across the cut.
func across(d api.Download, ips map[string]bool) float64 {
	var n int64
	for addr, s := range d.Sources {
		if ips[hostOf(addr)] {
			n += s.Bytes
		}
	}
	return float64(n)
}
