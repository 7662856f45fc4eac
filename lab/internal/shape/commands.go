package shape

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/netlab/netlab/lab/internal/cli"
	"github.com/netlab/netlab/lab/internal/shaper"
	"github.com/netlab/netlab/lab/internal/stack"
)

// Commands are netlab's shape, partition, heal and reset, on Docker.
type Commands struct{ Docker Docker }

const shapeUsage = `usage: netlab shape TARGET [--delay D] [--jitter D] [--loss P%] [--loss-model gilbert:P%,R%[,1-H%[,1-K%]]]
                    [--rate R] [--burst SIZE] [--duplicate P%] [--reorder P%] [--corrupt P%]
                    [--direction egress|ingress|both] [--to PEER] [--for D] [--json]
       netlab shape TARGET --show
       netlab shape TARGET --reset

TARGET is a compose service (every replica) or one replica (peer-2). The
shape replaces the target's earlier one and stays until --reset, netlab
reset or make down (--for reverts it by itself). Every impairment is
printed with the mechanism that carries it.`

// shapeFlags registers the impairment flags, filling req.
func shapeFlags(fs *flag.FlagSet, req *Request) {
	s := &req.Spec
	shaper.ImpairmentFlags(fs, s)
	fs.Func("loss-model", "bursty loss: gilbert:P%,R%[,1-H%[,1-K%]] (Gilbert–Elliott, netem's terms)", func(v string) error {
		rest, ok := strings.CutPrefix(v, "gilbert:")
		if !ok {
			return fmt.Errorf("%q: the model is gilbert:P%%,R%%[,1-H%%[,1-K%%]]", v)
		}
		g, err := shaper.ParseGE(rest)
		s.LossGE = g
		return err
	})
	fs.Func("direction", "egress, ingress or both (default egress)", func(v string) error {
		s.Direction = shaper.Direction(v)
		return nil
	})
	fs.StringVar(&s.Device, "device", "", "the device to shape (default: the one the default route, or --to's, leaves by)")
	fs.StringVar(&req.Peer, "to", "", "only traffic to (egress) or from (ingress) this container: a replica like peer-1")
	fs.DurationVar(&req.For, "for", 0, "revert by itself after this long (a sidecar holds the shape)")
}

// Shape is `netlab shape`.
func (cmd Commands) Shape(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	const prog = "netlab shape"
	fs, c := newFlags(prog, getenv)
	var req Request
	shapeFlags(fs, &req)
	show := fs.Bool("show", false, "read back what the kernel and the delayer hold in TARGET")
	reset := fs.Bool("reset", false, "remove TARGET's shape and its sidecar (partitions stay: netlab heal)")
	pos, code, ok := cli.ParseInterleaved(fs, args, shapeUsage, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return cli.UsageError(stderr, prog, fmt.Errorf("want one TARGET, got %d arguments %q", len(pos), pos))
	}
	if err := checkShape(&req, *show, *reset); err != nil {
		return exit(stderr, prog, err)
	}
	return cmd.run(ctx, c, prog, pos, stdout, stderr, func(ctx context.Context, e *env, targets []stack.Container) (any, []string, error) {
		switch {
		case *show:
			return e.show(ctx, targets)
		case *reset:
			return e.resetShapes(ctx, targets)
		}
		return e.shape(ctx, targets, req)
	})
}

func (e *env) show(ctx context.Context, targets []stack.Container) (any, []string, error) {
	res, err := e.runner.Show(ctx, targets)
	for _, r := range res {
		e.nameAddrs(r.Items)
	}
	return map[string]any{"show": res}, showLines(res), err
}

func (e *env) resetShapes(ctx context.Context, targets []stack.Container) (any, []string, error) {
	var results []Result
	for _, t := range targets {
		r, err := e.runner.ResetShape(ctx, t)
		if err != nil {
			return nil, nil, err
		}
		r.Note = strings.TrimPrefix(r.Note+"; shape reset", "; ")
		results = append(results, r)
	}
	return map[string]any{"reset": results}, resultLines(results), nil
}

// shape applies req to targets; with --to, to their traffic with that
// peer alone.
func (e *env) shape(ctx context.Context, targets []stack.Container, req Request) (any, []string, error) {
	if req.Peer != "" {
		peers, err := e.resolve(req.Peer)
		if err != nil {
			return nil, nil, err
		}
		if len(peers) != 1 {
			return nil, nil, &usageErr{fmt.Errorf("to: %q names %d containers; name one replica", req.Peer, len(peers))}
		}
		targets = without(targets, peers[0].ID)
		if len(targets) == 0 {
			return nil, nil, &usageErr{fmt.Errorf("to: %s is the target itself", req.Peer)}
		}
		if req.Spec.To, err = PeerAddr(peers[0], targets, e.project); err != nil {
			return nil, nil, &usageErr{fmt.Errorf("to: %w", err)}
		}
	}
	results, err := e.runner.Shape(ctx, targets, req)
	return map[string]any{"applied": results}, resultLines(results), err
}

// checkShape validates the flags before anything runs; the error names
// the flag.
func checkShape(req *Request, show, reset bool) error {
	if show || reset {
		if !req.Spec.Empty() || req.For != 0 || req.Peer != "" || (show && reset) {
			return &usageErr{errors.New("--show and --reset take no impairment, and not each other")}
		}
		return nil
	}
	if req.For < 0 {
		return &usageErr{errors.New("for: must not be negative")}
	}
	if err := req.Spec.Validate(); err != nil {
		return err
	}
	if req.Spec.Empty() {
		return &usageErr{errors.New("no impairment given (--delay, --loss, --rate, ...; --show, --reset)")}
	}
	return nil
}

func showLines(rs []ShowResult) []string {
	var out []string
	for _, r := range rs {
		if len(r.Items) == 0 && len(r.Sidecars) == 0 {
			out = append(out, r.Target+": no impairment")
		}
		for _, it := range r.Items {
			out = append(out, r.Target+": "+it.String())
		}
		for _, q := range r.Queue {
			if q.Netlab {
				out = append(out, fmt.Sprintf("%s: delayer queue %d bound, %d waiting, %d dropped", r.Target, q.Num, q.Waiting, q.Dropped+q.UserDropped))
			}
		}
		for _, s := range r.Sidecars {
			line := fmt.Sprintf("%s: sidecar %s %s (%s)", r.Target, s.Name, s.State, s.Status)
			if s.Until != "" {
				line += "; reverts by itself at " + s.Until
			}
			out = append(out, line)
		}
	}
	return out
}

// Reset is `netlab reset`.
func (cmd Commands) Reset(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	const prog = "netlab reset"
	fs, c := newFlags(prog, getenv)
	if code, ok := cli.Parse(fs, args, "usage: netlab reset [--json]\n\nRemove every impairment netlab applied in the stack: sidecars, qdiscs, nft tables, partitions.", stdout, stderr); !ok {
		return code
	}
	return cmd.run(ctx, c, prog, nil, stdout, stderr, func(ctx context.Context, e *env, _ []stack.Container) (any, []string, error) {
		results, sidecars, err := e.runner.ResetAll(ctx, e.all)
		lines := []string{fmt.Sprintf("reset %d containers", len(results))}
		for _, s := range sidecars {
			lines = append(lines, "removed sidecar "+s)
		}
		return map[string]any{"reset": results, "sidecars_removed": sidecars}, lines, err
	})
}

func without(cs []stack.Container, id string) []stack.Container {
	return slices.DeleteFunc(slices.Clone(cs), func(c stack.Container) bool { return c.ID == id })
}

// Partition is `netlab partition A B [C...]` and `netlab partition A --from-all`.
func (cmd Commands) Partition(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	const prog = "netlab partition"
	fs, c := newFlags(prog, getenv)
	fromAll := fs.Bool("from-all", false, "cut A off every other container of the stack")
	pos, code, ok := cli.ParseInterleaved(fs, args, "usage: netlab partition A B [C...] | netlab partition A --from-all\n\nDrop every packet between each pair of the named containers (services or replicas),\nboth ways, established connections too; netlab heal removes it.", stdout, stderr)
	if !ok {
		return code
	}
	switch {
	case *fromAll && len(pos) != 1:
		return cli.UsageError(stderr, prog, fmt.Errorf("from-all: name one target, got %d", len(pos)))
	case !*fromAll && len(pos) < 2:
		return cli.UsageError(stderr, prog, fmt.Errorf("want two targets or more (or one and --from-all), got %d", len(pos)))
	}
	return cmd.run(ctx, c, prog, pos, stdout, stderr, func(ctx context.Context, e *env, cuts []stack.Container) (any, []string, error) {
		if *fromAll && len(cuts) != 1 {
			return nil, nil, &usageErr{fmt.Errorf("from-all: %q names %d containers; name one replica", pos[0], len(cuts))}
		}
		if !*fromAll && len(cuts) < 2 {
			return nil, nil, &usageErr{fmt.Errorf("%q name one container: nothing to cut apart", pos)}
		}
		results, err := e.runner.Partition(ctx, e.all, cuts, *fromAll)
		for _, r := range results {
			e.nameAddrs(r.Items)
		}
		return map[string]any{"applied": results}, resultLines(results), err
	})
}

// Heal is `netlab heal [A...]`.
func (cmd Commands) Heal(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	const prog = "netlab heal"
	fs, c := newFlags(prog, getenv)
	pos, code, ok := cli.ParseInterleaved(fs, args, "usage: netlab heal [A...]\n\nRemove the partitions of the named containers, or every partition in the stack.", stdout, stderr)
	if !ok {
		return code
	}
	return cmd.run(ctx, c, prog, pos, stdout, stderr, func(ctx context.Context, e *env, named []stack.Container) (any, []string, error) {
		results, err := e.runner.Heal(ctx, e.all, named)
		lines := resultLines(results)
		if len(lines) == 0 {
			lines = []string{"no partition to heal"}
		}
		return map[string]any{"healed": results}, lines, err
	})
}
