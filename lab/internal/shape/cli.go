package shape

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/internal/cli"
	"github.com/netlab/netlab/lab/internal/shaper"
	"github.com/netlab/netlab/lab/internal/stack"
)

// common are the flags every command here has.
type common struct {
	project, image string
	json           bool
}

func (c *common) register(fs *flag.FlagSet, getenv func(string) string) {
	project := or(getenv("COMPOSE_PROJECT_NAME"), "netlab")
	image := or(getenv("NETLAB_IMAGE_PREFIX"), "netlab") + "/shaper:" + or(getenv("NETLAB_TAG"), "dev")
	fs.StringVar(&c.project, "project", project, "compose project of the stack (env COMPOSE_PROJECT_NAME)")
	fs.StringVar(&c.image, "image", image, "the shaper image (env NETLAB_IMAGE_PREFIX, NETLAB_TAG)")
	fs.BoolVar(&c.json, "json", false, "print JSON instead of lines")
}

// newFlags is the flag set of the command prog, with the common flags
// registered into c.
func newFlags(prog string, getenv func(string) string) (*flag.FlagSet, *common) {
	fs := cli.NewFlags(prog)
	c := &common{}
	c.register(fs, getenv)
	return fs, c
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// env is what a command works with once its flags are parsed.
type env struct {
	common
	runner Runner
	stack  stack.Stack
	all    []stack.Container // running ones
}

// newEnv lists the stack's running containers.
func newEnv(ctx context.Context, c common, docker Docker) (*env, error) {
	e := &env{common: c, runner: Runner{Docker: docker, Project: c.project, Image: c.image},
		stack: stack.Stack{Project: c.project, Docker: docker}}
	cs, err := e.stack.Containers(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.State == "running" {
			e.all = append(e.all, c)
		}
	}
	return e, nil
}

// run does a command's work once its flags are parsed, within timeout: it
// lists the stack, resolves names (each container once), and prints what
// f returns, or reports f's error with the exit code its kind asks for.
func (cmd Commands) run(ctx context.Context, c *common, prog string, names []string, stdout, stderr io.Writer,
	f func(ctx context.Context, e *env, named []stack.Container) (v any, lines []string, err error)) int {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	e, err := newEnv(ctx, *c, cmd.Docker)
	if err != nil {
		return exit(stderr, prog, err)
	}
	named, err := e.resolveAll(names)
	if err != nil {
		return exit(stderr, prog, err)
	}
	v, lines, err := f(ctx, e, named)
	if err != nil {
		return exit(stderr, prog, err)
	}
	return e.print(stdout, v, lines)
}

// resolve finds the running containers a target names; an unknown target
// is a usage error that names the containers there are.
func (e *env) resolve(target string) ([]stack.Container, error) {
	cs, err := stack.Match(e.all, target)
	if err != nil {
		return nil, &usageErr{err}
	}
	return cs, nil
}

// resolveAll is the containers targets name, each once, in the order
// first named.
func (e *env) resolveAll(targets []string) ([]stack.Container, error) {
	var out []stack.Container
	for _, t := range targets {
		cs, err := e.resolve(t)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if !slices.ContainsFunc(out, func(o stack.Container) bool { return o.ID == c.ID }) {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// usageErr marks bad input: exit 2.
type usageErr struct{ error }

func (u *usageErr) Unwrap() error { return u.error }

// exit reports err with the code its kind asks for.
func exit(stderr io.Writer, prog string, err error) int {
	var u *usageErr
	var fe *shaper.FieldError
	if errors.As(err, &u) || (errors.As(err, &fe) && !errors.Is(err, shaper.ErrUnsupported)) {
		return cli.UsageError(stderr, prog, err)
	}
	return cli.Failure(stderr, prog, err)
}

// print writes v as JSON, or each line of lines.
func (e *env) print(stdout io.Writer, v any, lines []string) int {
	if e.json {
		if err := cli.WriteJSON(stdout, v); err != nil {
			return cli.ExitFailure
		}
		return cli.ExitOK
	}
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
	}
	return cli.ExitOK
}

// nameAddrs names the container behind each address a partition or a
// --to item holds (peer-2 beside 172.18.0.4), for lines and JSON alike.
func (e *env) nameAddrs(items []shaper.Item) {
	byAddr := map[string]string{}
	for _, c := range e.all {
		for _, ip := range c.IPs {
			byAddr[ip] = c.Label()
		}
	}
	for i, it := range items {
		if it.Impairment != "partition" && it.Impairment != "to" {
			continue
		}
		var names []string
		known := false
		for a := range strings.SplitSeq(it.Value, ",") {
			n := byAddr[a]
			known = known || n != ""
			names = append(names, n)
		}
		if known {
			items[i].Names = names
		}
	}
}

// resultLines is one line per impairment, named by its container.
func resultLines(rs []Result) []string {
	var out []string
	for _, r := range rs {
		for _, it := range r.Items {
			out = append(out, r.Target+": "+it.String())
		}
		var tail []string
		if r.Sidecar != "" {
			tail = append(tail, "sidecar "+r.Sidecar)
		}
		if r.For != "" {
			tail = append(tail, "reverts after "+r.For)
		}
		if r.Note != "" {
			tail = append(tail, r.Note)
		}
		if len(tail) > 0 {
			out = append(out, r.Target+": "+strings.Join(tail, "; "))
		}
	}
	return out
}

// timeout bounds a whole command: docker runs that hang must not hold it.
const timeout = 5 * time.Minute
