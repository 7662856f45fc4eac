// Command http-hello is netlab's HTTP server: GET / answers "Hello, World!",
// like the tutorial's BaseHTTPRequestHandler, over HTTP/1.1 and cleartext
// HTTP/2, with bounded experiment endpoints. See the README for its
// environment variables.
//
//	http-hello               serve
//	http-hello healthcheck   exit 0 if the local server is ready, 1 if not
//	http-hello version       print the build
package main

import (
	"context"
	"os"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/http-hello/internal/config"
	"github.com/netlab/netlab/services/http-hello/internal/hello"
	"github.com/netlab/netlab/services/platform/program"
)

const service = "http-hello"

func main() {
	prog := program.Program[config.Config]{Name: service, Load: config.Load, Run: run}
	os.Exit(program.Main(prog, os.Args[1:], os.Stdout, os.Stderr))
}

// run builds the hello server and serves it until ctx is canceled.
func run(ctx context.Context, cfg config.Config, env program.Env) error {
	srv, err := hello.New(cfg, env.Log, env.Registry)
	if err != nil {
		return err
	}
	return env.Serve(ctx, srv,
		zap.Bool("tls", cfg.TLSCertFile != ""), zap.Int("max_concurrent", cfg.MaxConcurrent))
}
