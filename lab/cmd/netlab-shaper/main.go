// Command netlab-shaper applies network impairments inside the network
// namespace it runs in (a container's, with only CAP_NET_ADMIN), reads
// them back and removes them. Every answer is JSON on stdout and names
// the mechanism behind each impairment.
//
//	netlab-shaper plan [flags]       what apply would do, touching nothing
//	netlab-shaper apply [flags]      apply and exit (kernel mechanisms only)
//	netlab-shaper run [flags]        apply, run the delayer, reset on exit
//	netlab-shaper show               what the kernel holds, read back
//	netlab-shaper reset [-device D]  remove the shape of D, or everything
//	netlab-shaper partition ADDR…    drop all traffic to and from ADDRs
//	netlab-shaper heal               remove the partition
//
// Exit codes: 0 done, 1 failed, 2 bad command or spec.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/netlab/netlab/lab/internal/cli"
)

const about = "netlab-shaper applies, shows and removes network impairments in the network\nnamespace it runs in, and says which mechanism carries each."

var commands = []cli.Command{
	{Name: "plan", Summary: "print the mechanism each impairment would use; change nothing", Main: planMain},
	{Name: "apply", Summary: "apply impairments that need no running process, then exit", Main: applyMain},
	{Name: "run", Summary: "apply impairments, run the NFQUEUE delayer when needed, reset on exit", Main: runMain},
	{Name: "show", Summary: "read back what the kernel (and the delayer's rules) hold", Main: showMain},
	{Name: "reset", Summary: "remove a device's shape (-device) or everything netlab-shaper set", Main: resetMain},
	{Name: "partition", Summary: "drop every packet to and from the addresses, flush their flows", Main: partitionMain},
	{Name: "heal", Summary: "remove the partition", Main: healMain},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, "netlab-shaper", about, commands, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
