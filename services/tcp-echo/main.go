// Command tcp-echo is netlab's TCP echo server: every byte a client sends
// comes back to it. See the README for its environment variables.
//
//	tcp-echo               serve
//	tcp-echo healthcheck   exit 0 if the local server is ready, 1 if not
//	tcp-echo version       print the build
package main

import (
	"context"
	"os"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/platform/admin"
	"github.com/netlab/netlab/services/platform/lifecycle"
	"github.com/netlab/netlab/services/platform/program"
	"github.com/netlab/netlab/services/tcp-echo/internal/config"
	"github.com/netlab/netlab/services/tcp-echo/internal/echo"
)

const service = "tcp-echo"

func main() {
	os.Exit(program.Main(program.Program[config.Config]{
		Name: service,
		Load: func() (config.Config, error) { return config.Load(nil) },
		Run:  run,
	}, os.Args[1:], os.Stdout, os.Stderr))
}

// run wires the echo server and the admin listener together and serves
// until ctx is canceled.
func run(ctx context.Context, cfg config.Config, log *zap.Logger) error {
	reg := admin.NewRegistry(service)
	srv, err := echo.New(cfg, log, reg)
	if err != nil {
		return err
	}
	adm, err := admin.New(cfg.AdminAddr, reg, log)
	if err != nil {
		return err
	}
	log.Info("listening",
		zap.Stringer("addr", srv.Addr()), zap.Stringer("admin_addr", adm.Addr()),
		zap.Int("max_conns", cfg.MaxConns), zap.Duration("idle_timeout", cfg.IdleTimeout),
		zap.Duration("shutdown_timeout", cfg.ShutdownTimeout))
	return lifecycle.Run(ctx, log, adm, cfg.ShutdownTimeout, srv)
}
