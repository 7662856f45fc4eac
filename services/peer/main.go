// Command peer is a netlab swarm node: it shares the files of SHARE_DIR
// over the peer protocol on :8001, finds other nodes (PEERS, peer
// exchange), and downloads files piece by piece from every node that holds
// them. See the README for its environment variables and
// docs/peer-protocol.md for the protocol.
//
//	peer               serve
//	peer healthcheck   exit 0 if the local node is ready, 1 if not
//	peer version       print the build
package main

import (
	"context"
	"os"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/peer/internal/config"
	"github.com/netlab/netlab/services/peer/internal/node"
	"github.com/netlab/netlab/services/platform/program"
)

const service = "peer"

func main() {
	prog := program.Program[config.Config]{Name: service, Load: config.Load, Run: run}
	os.Exit(program.Main(prog, os.Args[1:], os.Stdout, os.Stderr))
}

// run builds the node, adds its JSON API to the admin listener and serves
// until ctx is canceled.
func run(ctx context.Context, cfg config.Config, env program.Env) error {
	n, err := node.New(cfg, env.Log, env.Registry)
	if err != nil {
		return err
	}
	n.Routes(env.Admin.Handle)
	return env.Serve(ctx, n,
		zap.String("share_dir", cfg.ShareDir), zap.Strings("peers", cfg.Peers),
		zap.Bool("secret", cfg.Secret != ""), zap.Bool("sync", cfg.Sync))
}
