// Command tcp-echo is netlab's TCP echo server: every byte a client sends
// comes back to it. See the README for its environment variables.
//
//	tcp-echo               serve
//	tcp-echo healthcheck   exit 0 if the local server is ready, 1 if not
//	tcp-echo version       print the build
package main

import (
	"go.uber.org/zap"

	"github.com/netlab/netlab/services/platform/program"
	"github.com/netlab/netlab/services/tcp-echo/internal/config"
	"github.com/netlab/netlab/services/tcp-echo/internal/echo"
)

const service = "tcp-echo"

// main serves the echo server until a signal stops it.
func main() {
	program.Run(program.Program[config.Config]{Name: service, Load: config.Load, Run: program.Serve(echo.New, listening)})
}

// listening is what the "listening" line says of the server's settings.
func listening(cfg config.Config) []zap.Field {
	return []zap.Field{zap.Int("max_conns", cfg.MaxConns), zap.Duration("idle_timeout", cfg.IdleTimeout),
		zap.Duration("shutdown_timeout", cfg.ShutdownTimeout)}
}
