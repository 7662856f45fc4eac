// Package echotest runs the real tcp-echo server in tests: its own and
// those of the client, which checks how connections end on the server's
// side.
package echotest

import (
	"testing"
	"time"

	platformconfig "github.com/netlab/netlab/services/platform/config"
	"github.com/netlab/netlab/services/platform/lifecycle/lifecycletest"
	"github.com/netlab/netlab/services/tcp-echo/internal/config"
	"github.com/netlab/netlab/services/tcp-echo/internal/echo"
)

// Config is a configuration for a server on a free loopback port, with
// room for a test's connections and payloads.
func Config() config.Config {
	return config.Config{
		Shared:       platformconfig.Shared{ShutdownTimeout: 5 * time.Second},
		ListenAddr:   "127.0.0.1:0",
		MaxConns:     1000,
		IdleTimeout:  time.Minute,
		WriteTimeout: 10 * time.Second,
		BufferSize:   32 << 10,
	}
}

// Start builds a server from cfg and serves it until the test ends, as
// lifecycletest.Start does; Serve must return within SHUTDOWN_TIMEOUT and
// five seconds more.
func Start(tb testing.TB, cfg config.Config) *lifecycletest.Started[*echo.Server] {
	tb.Helper()
	return lifecycletest.Start(tb, echo.New, cfg, cfg.ShutdownTimeout+5*time.Second)
}
