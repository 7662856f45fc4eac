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
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/internal/platform/admin"
	"github.com/netlab/netlab/services/internal/platform/healthcheck"
	"github.com/netlab/netlab/services/internal/platform/lifecycle"
	"github.com/netlab/netlab/services/internal/platform/logging"
	"github.com/netlab/netlab/services/internal/platform/version"
	"github.com/netlab/netlab/services/udp-responder/internal/config"
	"github.com/netlab/netlab/services/udp-responder/internal/responder"
)

const service = "udp-responder"

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
		os.Exit(checkHealth(cfg))
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

// checkHealth is the healthcheck subcommand: ready on /readyz, and a real
// probe answered on the UDP port.
func checkHealth(cfg config.Config) int {
	ctx := context.Background()
	if code := healthcheck.Main(ctx, cfg.AdminAddr, os.Stdout); code != 0 {
		return code
	}
	if err := responder.CheckProbe(ctx, cfg.ListenAddr, 2*time.Second); err != nil {
		fmt.Println("unhealthy:", err)
		return 1
	}
	fmt.Println("probe answered")
	return 0
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
