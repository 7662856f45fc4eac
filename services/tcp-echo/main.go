// Command tcp-echo is netlab's TCP echo server: every byte a client sends
// comes back to it. See the README for its environment variables.
//
//	tcp-echo               serve
//	tcp-echo healthcheck   exit 0 if the local server is ready, 1 if not
//	tcp-echo version       print the build
package main

import (
	"context"
	"fmt"
	"os"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/internal/platform/admin"
	"github.com/netlab/netlab/services/internal/platform/healthcheck"
	"github.com/netlab/netlab/services/internal/platform/lifecycle"
	"github.com/netlab/netlab/services/internal/platform/logging"
	"github.com/netlab/netlab/services/internal/platform/version"
	"github.com/netlab/netlab/services/tcp-echo/internal/config"
	"github.com/netlab/netlab/services/tcp-echo/internal/echo"
)

const service = "tcp-echo"

func main() {
	command := ""
	if len(os.Args) > 1 {
		command = os.Args[1]
	}
	switch command {
	case "", "healthcheck":
	case "version":
		fmt.Println(service, version.Get())
		return
	default:
		fmt.Fprintf(os.Stderr, "%s: unknown command %q (want healthcheck or version)\n", service, command)
		os.Exit(2)
	}

	cfg, err := config.Load(nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: config: %v\n", service, err)
		os.Exit(2)
	}
	if command == "healthcheck" {
		os.Exit(healthcheck.Main(context.Background(), cfg.AdminAddr, os.Stdout))
	}

	log, err := logging.New(logging.Options{
		Level: cfg.LogLevel, Format: cfg.LogFormat, Service: service, Version: version.Get().Version,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", service, err)
		os.Exit(2)
	}
	defer func() { _ = log.Sync() }()

	ctx, stop := lifecycle.SignalContext(context.Background(), log, func() { os.Exit(1) })
	defer stop()
	if err := run(ctx, cfg, log); err != nil {
		log.Error("stopped with error", zap.Error(err))
		stop()
		_ = log.Sync()
		os.Exit(1)
	}
	log.Info("stopped")
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
