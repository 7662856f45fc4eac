package shape

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/netlab/netlab/lab/internal/shaper"
	"github.com/netlab/netlab/lab/internal/stack"
)

// addrs is every address of c, on every network.
func addrs(c stack.Container) []netip.Addr {
	var out []netip.Addr
	for _, ip := range c.IPs {
		if a, err := netip.ParseAddr(ip); err == nil {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

// partitioned reads the addresses c's namespace drops now.
func (r Runner) partitioned(ctx context.Context, c stack.Container) ([]netip.Addr, error) {
	var sh Shown
	if err := r.OneShot(ctx, c, &sh, "show"); err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, it := range sh.Items {
		if it.Impairment != "partition" {
			continue
		}
		if a, err := netip.ParseAddr(it.Value); err == nil && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out, nil
}

// setPartition makes c's namespace drop exactly drop (heal when empty).
func (r Runner) setPartition(ctx context.Context, c stack.Container, drop []netip.Addr) (Result, error) {
	res := newResult(c)
	if len(drop) == 0 {
		var out map[string]any
		err := r.OneShot(ctx, c, &out, "heal")
		res.Note = "healed"
		return res, err
	}
	args := []string{"partition"}
	for _, a := range drop {
		args = append(args, a.String())
	}
	var out struct {
		Applied []shaper.Item `json:"applied"`
	}
	err := r.OneShot(ctx, c, &out, args...)
	res.Items = out.Applied
	return res, err
}

// Partition cuts every pair of cuts' containers apart: each drops every
// packet to and from the others, both ways, established flows included;
// with fromAll, cuts[0]'s namespace drops every other container of the
// stack. A container keeps what it dropped before (partitions add up);
// when ctx ends or a step fails, the ones changed get their earlier
// partition back.
func (r Runner) Partition(ctx context.Context, all []stack.Container, cuts []stack.Container, fromAll bool) ([]Result, error) {
	plan := map[string][]netip.Addr{} // container ID → addresses it drops
	if fromAll {
		for _, o := range all {
			if o.ID != cuts[0].ID {
				plan[cuts[0].ID] = append(plan[cuts[0].ID], addrs(o)...)
			}
		}
		cuts = cuts[:1]
	} else {
		for _, c := range cuts {
			for _, o := range cuts {
				if o.ID != c.ID {
					plan[c.ID] = append(plan[c.ID], addrs(o)...)
				}
			}
		}
	}
	var results []Result
	undo := map[string][]netip.Addr{}
	var touched []stack.Container
	for _, c := range cuts {
		before, err := r.partitioned(ctx, c)
		if err == nil && ctx.Err() == nil {
			undo[c.ID] = before
			touched = append(touched, c)
			var res Result
			res, err = r.setPartition(ctx, c, union(before, plan[c.ID]))
			results = append(results, res)
		}
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			return nil, errors.Join(err, r.restore(touched, undo))
		}
	}
	return results, nil
}

func union(a, b []netip.Addr) []netip.Addr {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

// restore gives each container back the partition it had.
func (r Runner) restore(cs []stack.Container, before map[string][]netip.Addr) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	for _, c := range cs {
		if _, err := r.setPartition(ctx, c, before[c.ID]); err != nil {
			errs = append(errs, fmt.Errorf("roll back %s: %w", c.Label(), err))
		}
	}
	return errors.Join(errs...)
}

// Heal removes the partitions of the named containers: each stops dropping
// anything, and every other container of all stops dropping their
// addresses. With none named, every container of all is healed.
func (r Runner) Heal(ctx context.Context, all []stack.Container, named []stack.Container) ([]Result, error) {
	var results []Result
	if len(named) == 0 {
		for _, c := range all {
			res, err := r.setPartition(ctx, c, nil)
			if err != nil {
				return results, err
			}
			results = append(results, res)
		}
		return results, nil
	}
	var gone []netip.Addr
	for _, c := range named {
		gone = append(gone, addrs(c)...)
	}
	for _, c := range all {
		var keep []netip.Addr
		if !slices.ContainsFunc(named, func(n stack.Container) bool { return n.ID == c.ID }) {
			before, err := r.partitioned(ctx, c)
			if err != nil {
				return results, err
			}
			keep = slices.DeleteFunc(slices.Clone(before), func(a netip.Addr) bool { return slices.Contains(gone, a) })
			if len(keep) == len(before) {
				continue // it drops none of them
			}
		}
		res, err := r.setPartition(ctx, c, keep)
		if err != nil {
			return results, err
		}
		results = append(results, res)
	}
	return results, nil
}

// ResetAll removes everything the lab applied anywhere in the stack: every
// sidecar of the project (running or not), then every shape and partition
// in every running container.
func (r Runner) ResetAll(ctx context.Context, all []stack.Container) ([]Result, []string, error) {
	names, err := r.RemoveSidecars(ctx, "")
	if err != nil {
		return nil, names, err
	}
	var results []Result
	for _, c := range all {
		res := newResult(c)
		var out map[string]any
		if err := r.OneShot(ctx, c, &out, "reset"); err != nil {
			return results, names, err
		}
		res.Note = "reset"
		results = append(results, res)
	}
	return results, names, nil
}
