package program

import (
	"context"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/netlab/netlab/services/platform/admin"
	"github.com/netlab/netlab/services/platform/lifecycle"
)

// Env is what Main hands a service's Run: the half of every service's
// wiring that is the same everywhere.
type Env struct {
	// Log is the service's logger.
	Log *zap.Logger
	// Registry is the service's Prometheus registry, already holding the
	// runtime collectors and netlab_build_info; the server registers its
	// own metrics with it.
	Registry *prometheus.Registry
	// Admin is the admin listener, open on ADMIN_ADDR but not yet serving
	// and not ready. A service may add its own endpoints with Admin.Handle
	// before calling Serve.
	Admin *admin.Server

	drainTimeout time.Duration // SHUTDOWN_TIMEOUT
}

// Server is a service's server as Env.Serve runs it.
type Server interface {
	lifecycle.Server
	// Addr is the address the server listens on.
	Addr() net.Addr
}

// Serve logs "listening" with srv's address, the admin address and the
// service's own fields, then serves srv and the admin listener with
// lifecycle.Run until ctx is canceled or one of them fails: readiness
// flips on once both serve and off first at shutdown, srv drains within
// SHUTDOWN_TIMEOUT, and the admin listener closes last.
func (e Env) Serve(ctx context.Context, srv Server, fields ...zap.Field) error {
	e.Log.Info("listening", append([]zap.Field{
		zap.Stringer("addr", srv.Addr()), zap.Stringer("admin_addr", e.Admin.Addr()),
	}, fields...)...)
	return lifecycle.Run(ctx, e.Log, e.Admin, e.drainTimeout, srv)
}

// Serve is the Run of a service that only builds its server and serves it:
// newServer builds the server from the configuration, logger and registry
// (a server package's New), and listening gives the fields of the
// "listening" line beyond the addresses. A service that wires more (routes
// on the admin listener, its own cancel) writes its Run out.
func Serve[C Config, S Server](newServer func(C, *zap.Logger, prometheus.Registerer) (S, error),
	listening func(C) []zap.Field) func(context.Context, C, Env) error {
	return func(ctx context.Context, cfg C, env Env) error {
		srv, err := newServer(cfg, env.Log, env.Registry)
		if err != nil {
			return err
		}
		return env.Serve(ctx, srv, listening(cfg)...)
	}
}
