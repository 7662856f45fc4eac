// Command peerctl drives a netlab peer node through its admin API: list
// the swarm's files, download one with a progress bar, show the node and
// its peers, and the tutorial's send / receive. Run peerctl --help.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/netlab/netlab/services/peer/internal/peerctl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := peerctl.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
