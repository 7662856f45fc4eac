// Command dashboard is netlab's dashboard: it polls every service of the
// stack and serves live pages of what it sees. See the README for its
// environment variables.
//
//	dashboard               serve
//	dashboard healthcheck   exit 0 if the local dashboard is ready, 1 if not
//	dashboard version       print the build
package main

import (
	"context"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/dashboard/dash"
	"github.com/netlab/netlab/services/dashboard/internal/config"
	"github.com/netlab/netlab/services/platform/program"
)

const service = "dashboard"

// main serves the dashboard until a signal stops it.
func main() {
	program.Run(program.Program[config.Config]{Name: service, Load: config.Load, Run: run})
}

// run serves the dashboard until ctx is canceled.
func run(ctx context.Context, cfg config.Config, env program.Env) error {
	opts := cfg.Options()
	d, err := dash.New(opts, env.Log, env.Registry)
	if err != nil {
		return err
	}
	return env.Serve(ctx, d, zap.String("targets", opts.Targets), zap.Duration("poll_interval", opts.Interval),
		zap.Duration("history", opts.History), zap.Int("max_series", opts.MaxSeries),
		zap.Int64("history_bytes_max", opts.MemoryBound()))
}
