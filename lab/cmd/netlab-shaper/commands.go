package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/netlab/netlab/lab/internal/cli"
	"github.com/netlab/netlab/lab/internal/shaper"
	"github.com/netlab/netlab/lab/internal/shaper/delayer"
)

// newShaper acts on the network namespace the process runs in.
func newShaper() *shaper.Shaper { return shaper.New(shaper.NewLinux()) }

// specFlags registers the impairment flags on fs, filling s.
func specFlags(fs *flag.FlagSet, s *shaper.Spec) {
	fs.StringVar(&s.Device, "device", "", "device to shape (default: the one the default route, or -to's route, leaves by)")
	fs.Func("direction", "egress, ingress or both (default egress)", func(v string) error {
		s.Direction = shaper.Direction(v)
		return nil
	})
	fs.Func("to", "only traffic to (egress) or from (ingress) this peer address", func(v string) (err error) {
		s.To, err = netip.ParseAddr(v)
		return err
	})
	shaper.ImpairmentFlags(fs, s)
}

// planFrom parses the flags and plans the spec; a bad spec is a usage error.
func planFrom(prog string, args []string, stdout, stderr io.Writer, extra func(*flag.FlagSet)) (*shaper.Shaper, shaper.Plan, int, bool) {
	fs := cli.NewFlags(prog)
	var s shaper.Spec
	specFlags(fs, &s)
	if extra != nil {
		extra(fs)
	}
	if code, ok := cli.Parse(fs, args, "usage: "+prog+" [flags]", stdout, stderr); !ok {
		return nil, shaper.Plan{}, code, false
	}
	sh := newShaper()
	p, err := sh.Plan(s)
	if err != nil {
		var fe *shaper.FieldError
		if errors.As(err, &fe) && !errors.Is(err, shaper.ErrUnsupported) {
			return nil, p, cli.UsageError(stderr, prog, err), false
		}
		return nil, p, cli.Failure(stderr, prog, err), false
	}
	return sh, p, 0, true
}

func planMain(_ context.Context, args []string, stdout, stderr io.Writer, _ func(string) string) int {
	sh, p, code, ok := planFrom("netlab-shaper plan", args, stdout, stderr, nil)
	if !ok {
		return code
	}
	return printJSON(stdout, map[string]any{"caps": sh.Caps(), "plan": p})
}

func applyMain(_ context.Context, args []string, stdout, stderr io.Writer, _ func(string) string) int {
	const prog = "netlab-shaper apply"
	sh, p, code, ok := planFrom(prog, args, stdout, stderr, nil)
	if !ok {
		return code
	}
	if p.Delayer {
		return cli.UsageError(stderr, prog, fmt.Errorf("this spec needs the NFQUEUE delayer (%s), a process that stays: use netlab-shaper run", delayerItems(p)))
	}
	if err := sh.Apply(p); err != nil {
		return cli.Failure(stderr, prog, err)
	}
	return printJSON(stdout, map[string]any{"caps": sh.Caps(), "applied": p})
}

func delayerItems(p shaper.Plan) string {
	s := ""
	for _, it := range p.Items {
		if it.Mechanism == shaper.MechDelayer {
			if s != "" {
				s += ", "
			}
			s += it.Impairment + " " + it.Value
		}
	}
	return s
}

func runMain(ctx context.Context, args []string, stdout, stderr io.Writer, _ func(string) string) int {
	const prog = "netlab-shaper run"
	var forD time.Duration
	sh, p, code, ok := planFrom(prog, args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.DurationVar(&forD, "for", 0, "reset by itself after this long (0: run until stopped)")
	})
	if !ok {
		return code
	}
	if forD < 0 {
		return cli.UsageError(stderr, prog, errors.New("-for must not be negative"))
	}
	if forD > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, forD)
		defer cancel()
	}
	stats, err := run(ctx, sh, p, func() { printJSON(stdout, map[string]any{"caps": sh.Caps(), "applied": p}) })
	if err != nil {
		return cli.Failure(stderr, prog, err)
	}
	return printJSON(stdout, map[string]any{"reset": p.Spec.Device, "delayer": stats})
}

// run applies the plan, serves the delayer when the plan needs it, and
// resets the device's shape when ctx ends.
func run(ctx context.Context, sh *shaper.Shaper, p shaper.Plan, applied func()) (*delayer.Stats, error) {
	if err := sh.Apply(p); err != nil {
		return nil, err
	}
	reset := func() error { return sh.ResetShape(p.Spec.Device) }
	if !p.Delayer {
		applied()
		<-ctx.Done()
		return nil, reset()
	}
	cfg := p.DelayerConfig()
	d, err := delayer.Listen(cfg)
	if err != nil {
		return nil, errors.Join(err, reset())
	}
	comment, _ := json.Marshal(cfg)
	if err := sh.AttachDelayer(p, string(comment)); err != nil {
		return nil, errors.Join(err, d.Serve(canceled(), func() error { return nil }), reset())
	}
	applied()
	err = d.Serve(ctx, func() error { return sh.DetachDelayer(p.Spec.Device) })
	st := d.Stats()
	return &st, errors.Join(err, reset())
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func showMain(_ context.Context, args []string, stdout, stderr io.Writer, _ func(string) string) int {
	const prog = "netlab-shaper show"
	if code, ok := cli.Parse(cli.NewFlags(prog), args, "usage: "+prog, stdout, stderr); !ok {
		return code
	}
	st, err := newShaper().Show()
	if err != nil {
		return cli.Failure(stderr, prog, err)
	}
	q, err := shaper.ReadQueues()
	if err != nil {
		return cli.Failure(stderr, prog, err)
	}
	return printJSON(stdout, map[string]any{"caps": st.Caps, "items": st.Items, "queue": q})
}

func resetMain(_ context.Context, args []string, stdout, stderr io.Writer, _ func(string) string) int {
	const prog = "netlab-shaper reset"
	fs := cli.NewFlags(prog)
	dev := fs.String("device", "", "remove only this device's shape (default: everything, partitions too)")
	keep := fs.Bool("keep-partition", false, "remove every device's shape but keep the partition")
	if code, ok := cli.Parse(fs, args, "usage: "+prog+" [-device DEV | -keep-partition]", stdout, stderr); !ok {
		return code
	}
	sh := newShaper()
	var err error
	switch {
	case *dev != "":
		err = sh.ResetShape(*dev)
	case *keep:
		err = sh.ResetShape("")
	default:
		err = sh.Reset()
	}
	if err != nil {
		return cli.Failure(stderr, prog, err)
	}
	return printJSON(stdout, map[string]any{"reset": true, "device": *dev})
}

func partitionMain(_ context.Context, args []string, stdout, stderr io.Writer, _ func(string) string) int {
	const prog = "netlab-shaper partition"
	fs := cli.NewFlags(prog)
	if err := fs.Parse(args); err != nil {
		return cli.UsageError(stderr, prog, err)
	}
	var addrs []netip.Addr
	for _, a := range fs.Args() {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return cli.UsageError(stderr, prog, &shaper.FieldError{Field: "peers", Err: err})
		}
		addrs = append(addrs, ip)
	}
	it, err := newShaper().Partition(addrs)
	var fe *shaper.FieldError
	switch {
	case errors.As(err, &fe):
		return cli.UsageError(stderr, prog, err)
	case err != nil:
		return cli.Failure(stderr, prog, err)
	}
	return printJSON(stdout, map[string]any{"applied": []shaper.Item{it}})
}

func healMain(_ context.Context, args []string, stdout, stderr io.Writer, _ func(string) string) int {
	const prog = "netlab-shaper heal"
	if code, ok := cli.Parse(cli.NewFlags(prog), args, "usage: "+prog, stdout, stderr); !ok {
		return code
	}
	if err := newShaper().Heal(); err != nil {
		return cli.Failure(stderr, prog, err)
	}
	return printJSON(stdout, map[string]any{"healed": true})
}

func printJSON(w io.Writer, v any) int {
	enc := json.NewEncoder(w)
	if err := enc.Encode(v); err != nil {
		return cli.ExitFailure
	}
	return cli.ExitOK
}
