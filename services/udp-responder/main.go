// Command udp-responder is netlab's UDP server: it answers datagrams with a
// greeting (or echoes them) and answers probes, and cannot be used to
// amplify or loop traffic. See the README for its environment variables.
//
//	udp-responder               serve
//	udp-responder healthcheck   exit 0 if the local server is ready and answers a probe, 1 if not
//	udp-responder version       print the build
package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/platform/program"
	"github.com/netlab/netlab/services/udp-responder/internal/config"
	"github.com/netlab/netlab/services/udp-responder/internal/responder"
)

const service = "udp-responder"

func main() {
	program.Run(program.Program[config.Config]{Name: service, Load: config.Load, Run: run, Healthcheck: healthcheck})
}

// healthcheck proves what ready alone does not for a UDP service: that a
// probe is answered.
func healthcheck(ctx context.Context, cfg config.Config, out io.Writer) error {
	if err := responder.CheckProbe(ctx, cfg.ListenAddr, 2*time.Second); err != nil {
		return err
	}
	_, err := fmt.Fprintln(out, "probe answered")
	return err
}

// run builds the responder and serves it until ctx is canceled or a valid
// exit datagram arrives.
func run(ctx context.Context, cfg config.Config, env program.Env) error {
	ctx, requestExit := context.WithCancel(ctx)
	defer requestExit()
	srv, err := responder.New(cfg, env.Log, env.Registry, requestExit)
	if err != nil {
		return err
	}
	return env.Serve(ctx, srv,
		zap.String("mode", cfg.Mode), zap.Float64("rate_limit", cfg.RateLimit),
		zap.Bool("exit_enabled", cfg.ShutdownToken != ""))
}
