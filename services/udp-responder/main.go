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
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/platform/admin"
	"github.com/netlab/netlab/services/platform/lifecycle"
	"github.com/netlab/netlab/services/platform/program"
	"github.com/netlab/netlab/services/udp-responder/internal/config"
	"github.com/netlab/netlab/services/udp-responder/internal/responder"
)

const service = "udp-responder"

func main() {
	os.Exit(program.Main(program.Program[config.Config]{
		Name: service,
		Load: func() (config.Config, error) { return config.Load(nil) },
		Run:  run,
		// Ready is not enough for a UDP service: prove a probe is answered.
		Healthcheck: func(ctx context.Context, cfg config.Config, out io.Writer) error {
			if err := responder.CheckProbe(ctx, cfg.ListenAddr, 2*time.Second); err != nil {
				return err
			}
			_, err := fmt.Fprintln(out, "probe answered")
			return err
		},
	}, os.Args[1:], os.Stdout, os.Stderr))
}

// run wires the responder and the admin listener together and serves until
// ctx is canceled or a valid exit datagram arrives.
func run(ctx context.Context, cfg config.Config, log *zap.Logger) error {
	ctx, requestExit := context.WithCancel(ctx)
	defer requestExit()
	reg := admin.NewRegistry(service)
	srv, err := responder.New(cfg, log, reg, requestExit)
	if err != nil {
		return err
	}
	adm, err := admin.New(cfg.AdminAddr, reg, log)
	if err != nil {
		return err
	}
	log.Info("listening",
		zap.Stringer("addr", srv.Addr()), zap.Stringer("admin_addr", adm.Addr()),
		zap.String("mode", cfg.Mode), zap.Float64("rate_limit", cfg.RateLimit),
		zap.Bool("exit_enabled", cfg.ShutdownToken != ""))
	return lifecycle.Run(ctx, log, adm, cfg.ShutdownTimeout, srv)
}
