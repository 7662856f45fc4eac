// Package runner runs one experiment: its own compose project with every
// published port on a free host port, the spec's services and replicas,
// the impairment of each sweep point applied through the lab's shape
// package, the workloads run as client containers on the project's
// network, /metrics of every container scraped each interval, and
// everything torn down at the end, on failure and on Ctrl-C.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
	"github.com/netlab/netlab/lab/internal/shape"
	"github.com/netlab/netlab/lab/internal/shaper"
	"github.com/netlab/netlab/lab/internal/stack"
)

// Config is one run.
type Config struct {
	Spec         *spec.Spec // as it runs (spec.Effective)
	Quick        bool
	Seed         int64
	Project      *Project
	Docker       shape.Docker
	Progress     io.Writer
	HealthWithin time.Duration
	// Resume, when set, holds the steps an earlier run finished: they
	// are not run again, and their figures start the result.
	Resume *Checkpoint
	// Prior are the series rows of that earlier run.
	Prior []result.Row
	// Saved is called after every step with the checkpoint and the
	// series so far, so that an interrupted run can be resumed.
	Saved func(*Checkpoint, []result.Row) error
}

// Run runs the experiment and returns its result (analyzed) and series.
// The project is torn down before it returns, whatever happened; a
// teardown that leaves something behind is an error too.
func Run(ctx context.Context, cfg Config) (res *result.Result, rows []result.Row, err error) {
	p := cfg.Project
	defer func() {
		if err != nil && ctx.Err() != nil && !strings.Contains(err.Error(), "interrupted") {
			err = fmt.Errorf("interrupted: %w", err)
		}
		fmt.Fprintf(cfg.Progress, "exp %s: tearing down compose project %s\n", cfg.Spec.Name, p.Name)
		if terr := p.Teardown(cfg.Docker); terr != nil {
			err = errors.Join(err, fmt.Errorf("teardown: %w", terr))
		}
	}()
	r := &run{cfg: cfg, s: cfg.Spec, res: newResult(cfg), rows: slices.Clone(cfg.Prior),
		done: &Checkpoint{Schema: CheckpointSchema, Seed: cfg.Seed, Quick: cfg.Quick}}
	if err := r.resume(cfg.Resume); err != nil {
		return nil, nil, err
	}
	if err := r.start(ctx); err != nil {
		return nil, nil, err
	}
	if err := r.sweep(ctx); err != nil {
		return nil, nil, err
	}
	if err := r.finish(); err != nil {
		return nil, nil, err
	}
	r.res.Finished = time.Now().UTC()
	r.res.Analyze()
	return r.res, r.rows, nil
}

func newResult(cfg Config) *result.Result {
	s := cfg.Spec
	res := &result.Result{Schema: result.Schema, Name: s.Name, Title: s.Title, Parameter: s.Sweep.Parameter,
		Unit: spec.Parameters[s.Sweep.Parameter], Quick: cfg.Quick, Seed: cfg.Seed, Project: cfg.Project.Name,
		Started: time.Now().UTC(), Environment: map[string]string{}, Mechanisms: []string{}}
	for _, v := range s.Sweep.Values {
		res.Points = append(res.Points, result.Point{Value: v})
	}
	return res
}

// run is the state of one run.
type run struct {
	cfg     Config
	s       *spec.Spec
	res     *result.Result
	t0      time.Time
	cs      []stack.Container
	admin   map[string]string
	network string
	targets []stack.Container
	shaper  shape.Runner
	mechs   map[string]bool
	rng     *rand.Rand
	done    *Checkpoint

	mu   sync.Mutex
	rows []result.Row
}

func (r *run) start(ctx context.Context) error {
	p := r.cfg.Project
	fmt.Fprintf(r.cfg.Progress, "exp %s: starting compose project %s (about %v in all)\n", r.s.Name, p.Name, r.s.Estimate(false).Round(time.Second))
	if err := p.Up(ctx, r.s); err != nil {
		return err
	}
	within := r.cfg.HealthWithin
	if within == 0 {
		within = 90 * time.Second
	}
	cs, err := p.WaitHealthy(ctx, r.cfg.Docker, within)
	if err != nil {
		return err
	}
	r.cs = cs
	if r.admin, err = AdminPorts(ctx, r.cfg.Docker, cs); err != nil {
		return err
	}
	for net := range cs[0].IPs {
		if r.network == "" || net == p.Name+"_netlab" {
			r.network = net
		}
	}
	for _, t := range r.s.Impairment.Targets {
		m, err := stack.Match(cs, t)
		if err != nil {
			return err
		}
		r.targets = append(r.targets, m...)
	}
	r.shaper = shape.Runner{Docker: r.cfg.Docker, Project: p.Name, Image: p.Prefix + "/shaper:" + p.Tag}
	r.rng = rand.New(rand.NewPCG(uint64(r.cfg.Seed), 0x776f726b6c6f6164))
	r.t0 = time.Now()
	return nil
}

// step is one point of one repetition.
type step struct{ point, rep int }

// steps are every point of every repetition, each repetition's points in
// an order drawn from the seed (so drift over the run is spread over the
// points rather than tilting the curve).
func steps(npoints, reps int, seed int64) []step {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6e65746c6162))
	var out []step
	for rep := range reps {
		for _, i := range rng.Perm(npoints) {
			out = append(out, step{point: i, rep: rep})
		}
	}
	return out
}

func (r *run) sweep(ctx context.Context) error {
	all := slices.DeleteFunc(steps(len(r.s.Sweep.Values), r.s.Repetitions, r.cfg.Seed), r.done.has)
	begun := time.Now()
	for n, st := range all {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted at point %d of %d: %w", n+1, len(all), err)
		}
		r.progress(n, len(all), st, begun)
		figs, err := r.point(ctx, st)
		if err != nil {
			return fmt.Errorf("%s %v %s, repetition %d: %w", r.s.Sweep.Parameter, r.s.Sweep.Values[st.point], r.res.Unit, st.rep+1, err)
		}
		if err := r.finished(st, figs); err != nil {
			return err
		}
	}
	r.res.Mechanisms = r.mechanisms()
	fmt.Fprintf(r.cfg.Progress, "exp %s: %d points done in %v\n", r.s.Name, len(all), time.Since(begun).Round(time.Second))
	return nil
}

// resume starts the result from the steps c finished.
func (r *run) resume(c *Checkpoint) error {
	r.mechs = map[string]bool{}
	if c == nil {
		return nil
	}
	if err := c.check(len(r.s.Sweep.Values), r.s.Repetitions); err != nil {
		return err
	}
	for _, d := range c.Done {
		for _, f := range d.Figures {
			r.res.Points[d.Point].Add(f.Workload, f.Client, f.Figure, d.Rep, r.s.Repetitions)
		}
		r.done.Done = append(r.done.Done, d)
	}
	for _, m := range c.Mechanisms {
		r.mechs[m] = true
	}
	fmt.Fprintf(r.cfg.Progress, "exp %s: resuming: %d steps done before\n", r.s.Name, len(c.Done))
	return nil
}

// finished puts a step's figures into the result and the checkpoint,
// and saves the checkpoint.
func (r *run) finished(st step, figs []workloadFigure) error {
	d := Done{Point: st.point, Rep: st.rep}
	for _, f := range figs {
		m := f.Measure()
		r.res.Points[st.point].Add(f.workload, f.client, m, st.rep, r.s.Repetitions)
		d.Figures = append(d.Figures, DoneFigure{Workload: f.workload, Client: f.client, Figure: m})
	}
	r.done.Done = append(r.done.Done, d)
	r.done.Mechanisms = r.mechanisms()
	if r.cfg.Saved == nil {
		return nil
	}
	r.mu.Lock()
	rows := slices.Clone(r.rows)
	r.mu.Unlock()
	if err := r.cfg.Saved(r.done, rows); err != nil {
		return fmt.Errorf("saving the checkpoint: %w", err)
	}
	return nil
}

// finish lets each client of the spec that is a Finisher complete its
// theory, once.
func (r *run) finish() error {
	done := map[string]bool{}
	for _, w := range r.s.Workloads {
		f, ok := Clients[w.Client].(Finisher)
		if !ok || done[w.Client] {
			continue
		}
		done[w.Client] = true
		if err := f.Finish(r.s, r.res, r.rows); err != nil {
			return fmt.Errorf("%s: %w", w.Client, err)
		}
	}
	return nil
}

func (r *run) progress(n, total int, st step, begun time.Time) {
	el := time.Since(begun)
	left := "unknown"
	if n > 0 {
		left = (el / time.Duration(n) * time.Duration(total-n)).Round(time.Second).String()
	} else {
		left = "about " + (r.s.Estimate(false) - spec.StackTime).Round(time.Second).String()
	}
	fmt.Fprintf(r.cfg.Progress, "exp %s: step %d/%d: %s %v %s, repetition %d/%d; elapsed %v, left %s\n", r.s.Name, n+1, total,
		r.s.Sweep.Parameter, r.s.Sweep.Values[st.point], r.res.Unit, st.rep+1, r.s.Repetitions, el.Round(time.Second), left)
}

// workloadFigure is a figure with the workload that gave it.
type workloadFigure struct {
	Figure
	workload, client string
}

// point applies the point's impairment, waits the warm-up, and runs every
// workload while the containers' /metrics are scraped; each figure goes
// into the series as a summary row.
func (r *run) point(ctx context.Context, st step) ([]workloadFigure, error) {
	v := r.s.Sweep.Values[st.point]
	if err := r.impair(ctx, v); err != nil {
		return nil, err
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(r.s.Warmup.D()):
	}
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { r.scrape(sctx, st, v) })
	defer func() { stop(); wg.Wait() }()
	env := r.env(st)
	var figs []workloadFigure
	for _, w := range r.s.Workloads {
		fs, err := Clients[w.Client].Run(ctx, env, w)
		if err != nil {
			return nil, fmt.Errorf("workload %s: %w", w.Name, err)
		}
		for _, f := range fs {
			env.Add(f.rows(w.Name, env.Since())...)
			figs = append(figs, workloadFigure{f, w.Name, w.Client})
		}
	}
	return figs, nil
}

func (r *run) env(st step) *Env {
	return &Env{Spec: r.s, Project: r.cfg.Project, Docker: r.cfg.Docker, Network: r.network, Stack: r.cs, Admin: r.admin,
		Shaper: r.shaper, Rand: r.rng, Progress: r.cfg.Progress, Point: st.point, Rep: st.rep, Value: r.s.Sweep.Values[st.point],
		t0: r.t0, run: r}
}

// impair applies the point's shape to every target; a point with nothing
// to apply resets them.
func (r *run) impair(ctx context.Context, v float64) error {
	im := r.s.Impairment
	sp := shaper.Spec{Direction: shaper.Direction(im.Direction), Delay: im.Delay.D(), Loss: im.Loss, Rate: uint64(im.RateMbit * 1e6)}
	switch r.s.Sweep.Parameter {
	case "loss":
		sp.Loss = v
	case "rate":
		sp.Rate = uint64(v * 1e6)
	case "delay":
		sp.Delay = time.Duration(v * float64(time.Millisecond))
	}
	if len(r.targets) == 0 {
		return nil
	}
	if sp.Empty() {
		for _, t := range r.targets {
			if _, err := r.shaper.ResetShape(ctx, t); err != nil {
				return err
			}
		}
		return nil
	}
	if err := sp.Validate(); err != nil {
		return err
	}
	results, err := r.shaper.Shape(ctx, r.targets, shape.Request{Spec: sp})
	if err != nil {
		return err
	}
	r.record(results)
	return nil
}

// mechanisms are the lines record added, sorted.
func (r *run) mechanisms() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.mechs))
}

// record adds what carried each shape of results to the result's
// mechanisms: one line per target, impairment and mechanism (the value
// changes from point to point, the mechanism does not), with the peer
// the shape is limited to.
func (r *run) record(results []shape.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, res := range results {
		for _, it := range res.Items {
			line := res.Target + ": " + it.Impairment + " " + string(it.Direction) + ": " + it.Mechanism
			if res.Note != "" {
				line += " (" + res.Note + ")"
			}
			r.mechs[line] = true
		}
		if res.Caps != nil && !res.Caps.Netem {
			r.mechs[res.Target+": netem unavailable ("+res.Caps.NetemWhy+")"] = true
		}
	}
}
