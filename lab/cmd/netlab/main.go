// Command netlab drives netlab's servers from outside, the way a user's
// load and failures would: it starts them, loads them over the network,
// and measures and checks what they do.
//
//	netlab bench [flags]   the servers beside the tools people use instead
//	netlab soak [flags]    the servers under sustained load, with checks
//	netlab compare FILE…   saved client runs side by side, with charts
//	netlab chaos …         pause, kill, restart… containers of the stack, now or on a timeline
//	netlab shape TARGET …  impair a container's traffic (--show, --reset)
//	netlab partition A B…  cut containers off each other (heal undoes it)
//	netlab heal [A…]       remove partitions
//	netlab reset           remove every impairment netlab set in the stack
//	netlab exp …           experiments: list, run NAME|FILE.yaml, report DIR
//	netlab dashboard …     the stack's live dashboard, on the host (--targets)
//	netlab help            the commands
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/netlab/netlab/lab/internal/bench"
	"github.com/netlab/netlab/lab/internal/chaos"
	"github.com/netlab/netlab/lab/internal/cli"
	"github.com/netlab/netlab/lab/internal/compare"
	"github.com/netlab/netlab/lab/internal/dashboard"
	"github.com/netlab/netlab/lab/internal/exp"
	"github.com/netlab/netlab/lab/internal/shape"
	"github.com/netlab/netlab/lab/internal/soak"
	"github.com/netlab/netlab/lab/internal/stack"
)

const about = "netlab drives netlab's servers from outside: it starts them, loads them over the\nnetwork, and measures and checks what they do."

// shapeCmds are the shaping commands, on the docker command; chaos
// timelines run them too.
var shapeCmds = shape.Commands{Docker: shape.CLI{}}

// commands are netlab's subcommands, in the order help lists them.
var commands = []cli.Command{
	{Name: "bench", Summary: "measure each server beside the tools people use instead, on loopback (make bench)", Main: bench.Main},
	{Name: "soak", Summary: "run the servers under sustained load and check they hold (make soak)", Main: soak.Main},
	{Name: "compare", Summary: "compare runs saved by the clients' --save side by side, with charts (--plot DIR)", Main: compare.Main},
	{Name: "chaos", Summary: "pause, kill, restart, stop or start containers of the stack, now, later or on a timeline (run FILE)", Main: chaos.Config{Docker: stack.CLI{}, Clock: chaos.RealClock{}, Extern: chaos.Extern{
		"shape": shapeCmds.Shape, "partition": shapeCmds.Partition, "heal": shapeCmds.Heal, "reset": shapeCmds.Reset}}.Main},
	{Name: "shape", Summary: "impair a container's traffic: delay, jitter, loss, rate... (--show, --reset; make shape)", Main: shapeCmds.Shape},
	{Name: "partition", Summary: "drop all traffic between containers, both ways (make partition)", Main: shapeCmds.Partition},
	{Name: "heal", Summary: "remove partitions, of the named containers or all (make heal)", Main: shapeCmds.Heal},
	{Name: "reset", Summary: "remove every impairment netlab set in the stack (make reset)", Main: shapeCmds.Reset},
	{Name: "exp", Summary: "run an experiment in a stack of its own: table, series, plots, report (list, run NAME, report DIR)", Main: exp.Command{Docker: shape.CLI{}}.Main},
	{Name: "dashboard", Summary: "the stack's live dashboard on the host, polling the admin listeners --targets names", Main: dashboard.Main},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, "netlab", about, commands, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
