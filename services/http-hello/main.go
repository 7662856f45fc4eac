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
	"go.uber.org/zap"

	"github.com/netlab/netlab/services/http-hello/internal/config"
	"github.com/netlab/netlab/services/http-hello/internal/hello"
	"github.com/netlab/netlab/services/platform/program"
)

const service = "http-hello"

// main serves the hello server until a signal stops it.
func main() {
	program.Run(program.Program[config.Config]{Name: service, Load: config.Load, Run: program.Serve(hello.New, listening)})
}

// listening is what the "listening" line says of the server's settings.
func listening(cfg config.Config) []zap.Field {
	return []zap.Field{zap.Bool("tls", cfg.TLSCertFile != ""), zap.Int("max_concurrent", cfg.MaxConcurrent)}
}
