// Package shape is the lab's side of impairments: it finds a compose
// stack's containers and runs the shaper image (netlab-shaper) in their
// network namespaces, one-shot for what the kernel keeps by itself and as
// a long-lived sidecar for what needs a process (the NFQUEUE delayer, a
// shape that reverts after --for). It carries `netlab shape`, `partition`,
// `heal` and `reset`.
package shape

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/netlab/netlab/lab/internal/shaper"
	"github.com/netlab/netlab/lab/internal/stack"
)

// Result is what was done to one container.
type Result struct {
	Target    string        `json:"target"`    // service-number
	Container string        `json:"container"` // Docker's name
	ID        string        `json:"id"`
	Caps      *shaper.Caps  `json:"caps,omitempty"`
	Items     []shaper.Item `json:"items"`
	// Sidecar is the shaper container that stays while the shape holds.
	Sidecar string `json:"sidecar,omitempty"`
	For     string `json:"for,omitempty"` // reverts by itself after this
	Note    string `json:"note,omitempty"`
}

func newResult(c stack.Container) Result {
	return Result{Target: c.Label(), Container: c.Name, ID: c.ID, Items: []shaper.Item{}}
}

// Request is one `netlab shape` of a target.
type Request struct {
	Spec shaper.Spec
	// Peer names the container the shape is limited to (Spec.To is set
	// from its address).
	Peer string
	For  time.Duration
}

// applied is what netlab-shaper apply and run print first.
type applied struct {
	Caps    shaper.Caps `json:"caps"`
	Applied shaper.Plan `json:"applied"`
}

// Shape applies req to every container of targets, one after the other.
// A container whose shape needs a process (the delayer, or --for) gets a
// sidecar; the others a one-shot run. When ctx ends or one fails, every
// container it had started on is reset again (the rollback).
func (r Runner) Shape(ctx context.Context, targets []stack.Container, req Request) ([]Result, error) {
	needsProcess := req.For > 0
	if !needsProcess && mayNeedDelayer(req.Spec) {
		// The kernel is the host's: one plan tells for every target.
		var p struct {
			Plan shaper.Plan `json:"plan"`
		}
		if err := r.OneShot(ctx, targets[0], &p, append([]string{"plan"}, SpecArgs(req.Spec)...)...); err != nil {
			return nil, err
		}
		needsProcess = p.Plan.Delayer
	}
	var results []Result
	var touched []stack.Container
	for _, c := range targets {
		if ctx.Err() != nil {
			break
		}
		touched = append(touched, c)
		res, err := r.shapeOne(ctx, c, req, needsProcess)
		if err != nil {
			return nil, errors.Join(err, r.rollback(touched))
		}
		results = append(results, res)
	}
	if err := ctx.Err(); err != nil {
		return nil, errors.Join(fmt.Errorf("interrupted: %w", err), r.rollback(touched))
	}
	return results, nil
}

func (r Runner) shapeOne(ctx context.Context, c stack.Container, req Request, sidecar bool) (Result, error) {
	res := newResult(c)
	// One shape per container: an earlier sidecar goes (its stop resets
	// what it set) before the new shape replaces the kernel's part.
	if _, err := r.RemoveSidecars(ctx, c.ID); err != nil {
		return res, err
	}
	args := SpecArgs(req.Spec)
	var p applied
	if !sidecar {
		if err := r.OneShot(ctx, c, &p, append([]string{"apply"}, args...)...); err != nil {
			return res, err
		}
	} else {
		if req.For > 0 {
			res.For = req.For.String()
		}
		name, err := r.StartSidecar(ctx, c, &p, req.For, args...)
		res.Sidecar = name
		if err != nil {
			return res, err
		}
	}
	res.Caps, res.Items = &p.Caps, p.Applied.Items
	if req.Peer != "" {
		res.Note = "only traffic " + towards(req.Spec.Direction) + " " + req.Peer + " (" + req.Spec.To.String() + ")"
	}
	return res, nil
}

func towards(d shaper.Direction) string {
	switch d {
	case shaper.Ingress:
		return "from"
	case shaper.Both:
		return "to and from"
	}
	return "to"
}

// rollback resets the shape of every container given, with a context of
// its own: the caller's may be the one that ended.
func (r Runner) rollback(cs []stack.Container) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	for _, c := range cs {
		if _, err := r.ResetShape(ctx, c); err != nil {
			errs = append(errs, fmt.Errorf("roll back %s: %w", c.Label(), err))
		}
	}
	return errors.Join(errs...)
}

// ResetShape removes c's sidecar and every shape netlab set in c's
// network namespace; partitions stay (heal removes them).
func (r Runner) ResetShape(ctx context.Context, c stack.Container) (Result, error) {
	res := newResult(c)
	names, err := r.RemoveSidecars(ctx, c.ID)
	if err != nil {
		return res, err
	}
	if len(names) > 0 {
		res.Sidecar = names[0]
		res.Note = "sidecar removed"
	}
	var out map[string]any
	return res, r.OneShot(ctx, c, &out, "reset", "-keep-partition")
}

// Shown is what netlab-shaper show reads back in one container.
type Shown struct {
	Caps  shaper.Caps         `json:"caps"`
	Items []shaper.Item       `json:"items"`
	Queue []shaper.QueueState `json:"queue"`
}

// ShowResult is one container's shape as read back.
type ShowResult struct {
	Target    string    `json:"target"`
	Container string    `json:"container"`
	Shown               // the kernel's and the delayer's rules
	Sidecars  []Sidecar `json:"sidecars"`
}

// Show reads back what each container's namespace holds, and its sidecar.
func (r Runner) Show(ctx context.Context, targets []stack.Container) ([]ShowResult, error) {
	var out []ShowResult
	for _, c := range targets {
		res := ShowResult{Target: c.Label(), Container: c.Name}
		if err := r.OneShot(ctx, c, &res.Shown, "show"); err != nil {
			return out, err
		}
		sc, err := r.Sidecars(ctx, c.ID)
		if err != nil {
			return out, err
		}
		res.Sidecars = sc
		out = append(out, res)
	}
	return out, nil
}

// mayNeedDelayer reports whether a spec holds an impairment that the
// delayer carries where the kernel has no netem.
func mayNeedDelayer(s shaper.Spec) bool {
	return s.Delay > 0 || s.Jitter > 0 || s.Reorder > 0 || s.Corrupt > 0 || s.LossGE != nil
}

// SpecArgs writes a spec as netlab-shaper's flags.
func SpecArgs(s shaper.Spec) []string {
	var a []string
	add := func(name, v string) { a = append(a, "-"+name, v) }
	pct := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "%" }
	if s.Device != "" {
		add("device", s.Device)
	}
	if s.Direction != "" {
		add("direction", string(s.Direction))
	}
	if s.To.IsValid() {
		add("to", s.To.String())
	}
	if s.Delay > 0 {
		add("delay", s.Delay.String())
	}
	if s.Jitter > 0 {
		add("jitter", s.Jitter.String())
	}
	for _, p := range s.Percents() {
		if p.Value > 0 {
			add(p.Name, pct(p.Value))
		}
	}
	if g := s.LossGE; g != nil {
		add("loss-ge", pct(g.P)+","+pct(g.R)+","+pct(g.H1)+","+pct(g.K1))
	}
	if s.Rate > 0 {
		add("rate", strconv.FormatUint(s.Rate, 10)+"bit")
	}
	if s.Burst > 0 {
		add("burst", strconv.FormatUint(uint64(s.Burst), 10))
	}
	if s.Queue > 0 {
		add("queue", strconv.FormatUint(uint64(s.Queue), 10))
	}
	return a
}

// PeerAddr is peer's address on a network it shares with every target
// (the project's own network when there are several).
func PeerAddr(peer stack.Container, targets []stack.Container, project string) (netip.Addr, error) {
	var shared []string
	for net := range peer.IPs {
		if !slices.ContainsFunc(targets, func(c stack.Container) bool { _, ok := c.IPs[net]; return !ok }) {
			shared = append(shared, net)
		}
	}
	if len(shared) == 0 {
		return netip.Addr{}, fmt.Errorf("%s shares no network with %s", peer.Label(), targets[0].Label())
	}
	slices.Sort(shared)
	net := shared[0]
	if i := slices.Index(shared, project+"_netlab"); i >= 0 {
		net = shared[i]
	}
	return netip.ParseAddr(peer.IPs[net])
}
