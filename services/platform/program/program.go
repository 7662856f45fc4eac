// Package program is the part of every service's main that is the same
// everywhere: subcommands (serve, healthcheck, version), configuration
// errors (exit 2), the logger, signal handling, the metrics registry and
// admin listener, the "listening" line, ordered shutdown and exit codes. A
// service's main describes itself in a Program and calls
//
//	os.Exit(program.Main(prog, os.Args[1:], os.Stdout, os.Stderr))
//
// Its Run builds the service's server from the Env it is given and ends
// with env.Serve(ctx, srv, fields...); a service whose Run would do
// nothing else names its server's New in program.Serve instead.
package program

import (
	"context"
	"fmt"
	"io"
	"os"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/platform/admin"
	"github.com/netlab/netlab/services/platform/config"
	"github.com/netlab/netlab/services/platform/healthcheck"
	"github.com/netlab/netlab/services/platform/lifecycle"
	"github.com/netlab/netlab/services/platform/logging"
	"github.com/netlab/netlab/services/platform/version"
)

// Exit codes of a service binary.
const (
	ExitOK      = 0
	ExitFailure = 1 // runtime failure, unhealthy, or a forced second signal
	ExitUsage   = 2 // bad configuration or unknown subcommand
)

// Config is what every service configuration provides: the shared keys,
// which config.Shared gives any struct that embeds it.
type Config interface {
	SharedConfig() config.Shared
}

// Program describes one service binary.
type Program[C Config] struct {
	// Name is the service name: log field, metrics label, message prefix.
	Name string
	// Load reads and validates the configuration from environ; Main passes
	// nil, which means the process environment (a service's config.Load).
	Load func(environ map[string]string) (C, error)
	// Run builds the service's server and serves it with env.Serve until
	// ctx is canceled.
	Run func(ctx context.Context, cfg C, env Env) error
	// Healthcheck, if set, is checked after /readyz answered 200, for what
	// only the service can prove (e.g. that a UDP probe is answered). It may
	// say what it proved on out.
	Healthcheck func(ctx context.Context, cfg C, out io.Writer) error
}

// Run runs p as the process: Main with the command line's arguments and
// the standard streams, then exit with its code.
func Run[C Config](p Program[C]) { os.Exit(Main(p, os.Args[1:], os.Stdout, os.Stderr)) }

// Main runs the program with args (without the binary's name) and returns
// the process exit code:
//
//	(no args)     serve
//	healthcheck   exit 0 if the local service is ready, 1 if not
//	version       print the build
func Main[C Config](p Program[C], args []string, stdout, stderr io.Writer) int {
	command := ""
	if len(args) > 0 {
		command = args[0]
	}
	switch command {
	case "", "healthcheck":
	case "version":
		fmt.Fprintln(stdout, p.Name, version.Get())
		return ExitOK
	default:
		fmt.Fprintf(stderr, "%s: unknown command %q (want healthcheck or version)\n", p.Name, command)
		return ExitUsage
	}

	cfg, err := p.Load(nil)
	if err != nil {
		fmt.Fprintf(stderr, "%s: config: %v\n", p.Name, err)
		return ExitUsage
	}
	shared := cfg.SharedConfig()
	if command == "healthcheck" {
		return checkHealth(p, cfg, shared, stdout)
	}

	log, err := logging.New(logging.Options{
		Level: shared.LogLevel, Format: shared.LogFormat, Service: p.Name, Version: version.Get().Version,
		Output: stderr,
	})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", p.Name, err)
		return ExitUsage
	}
	defer func() { _ = log.Sync() }()

	ctx, stop := lifecycle.SignalContext(context.Background(), log, func() {
		_ = log.Sync()
		os.Exit(ExitFailure) // a second signal: the operator wants out now
	})
	defer stop()
	if err := run(ctx, p, cfg, shared, log); err != nil {
		log.Error("stopped with error", zap.Error(err))
		return ExitFailure
	}
	log.Info("stopped")
	return ExitOK
}

// run opens the admin listener and hands it to p.Run. Env.Serve shuts the
// listener down in order; Close covers a Run that fails before it serves.
func run[C Config](ctx context.Context, p Program[C], cfg C, shared config.Shared, log *zap.Logger) error {
	reg := admin.NewRegistry(p.Name)
	adm, err := admin.New(shared.AdminAddr, reg, log)
	if err != nil {
		return err
	}
	defer func() { _ = adm.Close() }()
	return p.Run(ctx, cfg, Env{Log: log, Registry: reg, Admin: adm, drainTimeout: shared.ShutdownTimeout})
}

func checkHealth[C Config](p Program[C], cfg C, shared config.Shared, stdout io.Writer) int {
	ctx := context.Background()
	if code := healthcheck.Main(ctx, shared.AdminAddr, stdout); code != 0 || p.Healthcheck == nil {
		return code
	}
	if err := p.Healthcheck(ctx, cfg, stdout); err != nil {
		fmt.Fprintln(stdout, "unhealthy:", err)
		return ExitFailure
	}
	return ExitOK
}
