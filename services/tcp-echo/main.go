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

	"github.com/netlab/netlab/services/platform/program"
	"github.com/netlab/netlab/services/tcp-echo/internal/config"
	"github.com/netlab/netlab/services/tcp-echo/internal/echo"
)

const service = "tcp-echo"

func main() {
	prog := program.Program[config.Config]{Name: service, Load: config.Load, Run: run}
	os.Exit(program.Main(prog, os.Args[1:], os.Stdout, os.Stderr))
}

// run builds the echo server and serves it until ctx is canceled.
func run(ctx context.Context, cfg config.Config, env program.Env) error {
	srv, err := echo.New(cfg, env.Log, env.Registry)
	if err != nil {
		return err
	}
	return env.Serve(ctx, srv,
		zap.Int("max_conns", cfg.MaxConns), zap.Duration("idle_timeout", cfg.IdleTimeout),
		zap.Duration("shutdown_timeout", cfg.ShutdownTimeout))
}
