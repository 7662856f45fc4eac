// Package chaos is `netlab chaos`: faults on the containers of a compose
// stack, now or at set times. `netlab chaos pause|unpause|kill|restart|
// stop|start TARGET` acts once (--after to wait, --for to undo by
// itself); `netlab chaos run FILE` plays a YAML timeline of such steps,
// and of the shaping commands' (shape, partition, heal, reset). Every
// event is printed as it happens, with its time since the start and the
// wall clock. An interrupt undoes at once what the run changed and would
// have undone itself; what it would have left stays, and the output says
// how to undo it.
package chaos

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/internal/cli"
	"github.com/netlab/netlab/lab/internal/stack"
)

// DefaultProject is the compose project acted on without --project or
// COMPOSE_PROJECT_NAME: the one `make up` starts.
const DefaultProject = "netlab"

const usage = `usage: netlab chaos ACTION TARGET [flags]
       netlab chaos run [flags] TIMELINE.yaml

ACTION is pause, unpause, kill, restart, stop or start; TARGET a compose
service (every replica), one replica (peer-2) or a container's name.
--after waits before acting; --for undoes the change after that long
(pause → unpause, kill or stop → start), and Ctrl-C meanwhile undoes it at
once. Without --for a change stays, and the output names the command that
undoes it.

run plays a timeline file: steps with at: and one action (the six above,
and shape, partition, heal, reset); --check validates it and prints the
plan. An interrupt undoes at once what the timeline changed and would
have undone itself (a for:, or a later step taking it back); the rest
stays. See the README's lab section for the file format.

Exit 0 when every event succeeded, 1 when one failed or the run was
interrupted, 2 for a bad command, flag, target or timeline.`

// Config is what a chaos run needs from outside.
type Config struct {
	Docker stack.Docker
	Clock  Clock
	Extern Extern
}

// Main is netlab chaos with the docker command, the real clock and no
// shaping commands.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	return Config{Docker: stack.CLI{}, Clock: RealClock{}}.Main(ctx, args, stdout, stderr, getenv)
}

// Main runs netlab chaos with args (after "chaos").
func (cfg Config) Main(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	const prog = "netlab chaos"
	if len(args) == 0 {
		return cli.UsageError(stderr, prog, errors.New("want an action (pause, unpause, kill, restart, stop, start) and a target, or run FILE"))
	}
	switch a := args[0]; {
	case a == "-h" || a == "-help" || a == "--help" || a == "help":
		fmt.Fprintln(stdout, usage)
		return cli.ExitOK
	case a == "run":
		return cfg.runMain(ctx, args[1:], stdout, stderr, getenv)
	case slices.Contains(DockerActions, Action(a)):
		return cfg.actionMain(ctx, Action(a), args[1:], stdout, stderr, getenv)
	case actions[Action(a)].makes != "" || Action(a) == Heal || Action(a) == Reset:
		return cli.UsageError(stderr, prog, fmt.Errorf("%s is a timeline step or netlab %s, not a chaos action", a, a))
	}
	return cli.UsageError(stderr, prog, fmt.Errorf("unknown action %q: want pause, unpause, kill, restart, stop, start or run", args[0]))
}

// options are the flags every form takes.
type options struct {
	project string
	json    bool
	check   bool
}

func (o *options) register(fs *flag.FlagSet, getenv func(string) string) {
	def := getenv("COMPOSE_PROJECT_NAME")
	if def == "" {
		def = DefaultProject
	}
	fs.StringVar(&o.project, "project", def, "the compose `project` whose containers are acted on (default: $COMPOSE_PROJECT_NAME, else netlab)")
	fs.BoolVar(&o.json, "json", false, "print each event as a JSON object on a line of its own")
}

func (cfg Config) actionMain(ctx context.Context, a Action, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	prog := "netlab chaos " + string(a)
	fs := cli.NewFlags(prog)
	var o options
	o.register(fs, getenv)
	after := fs.Duration("after", 0, "wait this long before acting")
	undoAfter := fs.Duration("for", 0, "undo the change after this long: unpause a pause, start a kill or stop")
	sig := fs.String("signal", "", "kill only: the `signal` to send (KILL, TERM, HUP, a number; default docker's, SIGKILL)")
	pos, code, ok := cli.ParseInterleaved(fs, args, "usage: "+prog+" TARGET [flags]", stdout, stderr)
	if !ok {
		return code
	}
	if err := checkAction(a, pos, *after, *undoAfter, sig); err != nil {
		return cli.UsageError(stderr, prog, err)
	}
	step := Step{N: 1, At: *after, For: *undoAfter, Action: a, Targets: pos, Signal: *sig}
	return cfg.execute(ctx, prog, o, []Step{step}, stdout, stderr, getenv)
}

// checkAction checks a command line's target and flags; sig becomes the
// name docker is given.
func checkAction(a Action, pos []string, after, undoAfter time.Duration, sig *string) error {
	switch {
	case len(pos) != 1:
		return fmt.Errorf("want one TARGET (a service, a replica like peer-2, or a container), got %d", len(pos))
	case !validTarget(pos[0]):
		return fmt.Errorf("TARGET %q is not a service, replica or container name", pos[0])
	case after < 0 || after > MaxTime:
		return fmt.Errorf("--after %v is outside 0..%v", after, MaxTime)
	case undoAfter < 0 || after+undoAfter > MaxTime:
		return fmt.Errorf("--for %v is outside 0..%v (with --after)", undoAfter, MaxTime)
	case undoAfter > 0 && actions[a].undo == "":
		return fmt.Errorf("--for: %s leaves nothing to undo (pause, kill and stop take --for)", a)
	case *sig != "" && a != Kill:
		return fmt.Errorf("--signal: only kill sends a signal")
	}
	if *sig == "" {
		return nil
	}
	name, err := ParseSignal(*sig)
	if err != nil {
		return fmt.Errorf("--signal: %w", err)
	}
	*sig = name
	return nil
}

func (cfg Config) runMain(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	const prog = "netlab chaos run"
	fs := cli.NewFlags(prog)
	var o options
	o.register(fs, getenv)
	fs.BoolVar(&o.check, "check", false, "validate the timeline and print its plan; change nothing")
	pos, code, ok := cli.ParseInterleaved(fs, args, "usage: "+prog+" [flags] TIMELINE.yaml\n\n"+timelineHelp, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return cli.UsageError(stderr, prog, fmt.Errorf("want one timeline file, got %d", len(pos)))
	}
	steps, err := readTimeline(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s: %v\n", prog, pos[0], err)
		return cli.ExitUsage
	}
	return cfg.execute(ctx, prog+" "+pos[0], o, steps, stdout, stderr, getenv)
}

const timelineHelp = `A timeline is YAML: steps:, a list in time order, each with at: (a
duration since the start, like 5s) and one action naming its target:
pause, unpause, kill (signal: TERM), restart, stop, start, shape (with
netlab shape's flags as fields: delay, jitter, loss, rate, ...),
partition (a list, or one target with from-all: true), heal and reset
(a target, or all). pause, kill, stop, shape and partition take for: D
to be undone D later. Unknown fields are refused.`

func readTimeline(path string) ([]Step, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Unwrap(err) // the path is printed already
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	return ParseTimeline(data)
}

// unavailable are the steps whose shaping command this build lacks.
func (cfg Config) unavailable(steps []Step) []string {
	var out []string
	for _, s := range steps {
		if actions[s.Action].docker {
			continue
		}
		for _, args := range append(externArgs(&s, false), externArgs(&s, true)...) {
			if cfg.Extern[args[0]] == nil {
				out = append(out, fmt.Sprintf("step %d (netlab %s)", s.N, args[0]))
				break
			}
		}
	}
	return out
}

// joinNames is a, b and c.
func joinNames(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
