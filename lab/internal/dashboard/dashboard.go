// Package dashboard is `netlab dashboard`: the stack's dashboard (the
// code the dashboard service runs) on the host, against services started
// natively or published on 127.0.0.1.
package dashboard

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/netlab/netlab/lab/internal/cli"
	"github.com/netlab/netlab/services/dashboard/dash"
	"github.com/netlab/netlab/services/platform/config"
	"github.com/netlab/netlab/services/platform/logging"
)

const usage = `usage: netlab dashboard [flags]

Polls the services' admin listeners and serves the dashboard's live pages.
--targets names each service and its admin address; a name given more than
once is a service with several replicas:

  netlab dashboard --targets tcp-echo=127.0.0.1:9090,peer=127.0.0.1:9101,peer=127.0.0.1:9102

The limits are those of the dashboard service (README, dashboard).`

// DefaultTargets are the admin listeners `make up` publishes, but the peer
// nodes, whose ports compose picks (make -s peer-addr N=1 prints one).
const DefaultTargets = "tcp-echo=127.0.0.1:9090,udp-responder=127.0.0.1:9091,http-hello=127.0.0.1:9092"

// flagNames are the flags by the service's variable names, for errors.
var flagNames = map[string]string{
	"TARGETS": "--targets", "POLL_INTERVAL": "--interval", "POLL_TIMEOUT": "--timeout", "HISTORY": "--history",
	"MAX_SERIES": "--max-series", "MAX_REPLICAS": "--max-replicas", "MAX_SCRAPE_BYTES": "--max-scrape-bytes",
	"MAX_CLIENTS": "--max-clients", "MAX_FILES": "--max-files", "REPLICA_EXPIRY": "--expiry", "SHUTDOWN_TIMEOUT": "--shutdown-timeout",
}

// Main runs netlab dashboard until ctx is canceled.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, _ func(string) string) int {
	const prog = "netlab dashboard"
	fs := cli.NewFlags(prog)
	o, def := dash.Options{}, dash.DefaultLimits()
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:8080", "serve the pages on `ADDR`")
	fs.StringVar(&o.Targets, "targets", DefaultTargets, "services to poll: `name=host:port,...` (each a service's admin listener)")
	fs.DurationVar(&o.Interval, "interval", def.Interval, "time between poll rounds")
	fs.DurationVar(&o.Timeout, "timeout", def.Timeout, "bound on a replica's requests in a round")
	fs.DurationVar(&o.History, "history", def.History, "how far back the charts go")
	fs.IntVar(&o.MaxSeries, "max-series", def.MaxSeries, "most series kept (memory: series × history/interval × 4 bytes)")
	fs.IntVar(&o.MaxReplicas, "max-replicas", def.MaxReplicas, "most replicas polled")
	maxBytes := fs.String("max-scrape-bytes", config.ByteSize(def.MaxBytes).String(), "largest answer read from a replica")
	fs.IntVar(&o.MaxClients, "max-clients", def.MaxClients, "most browser streams open at once")
	fs.IntVar(&o.MaxFiles, "max-files", def.MaxFiles, "most files on the swarm page")
	fs.DurationVar(&o.Expiry, "expiry", def.Expiry, "how long a replica that neither resolves nor answers stays listed")
	fs.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", 5*time.Second, "bound on the drain at Ctrl-C")
	if code, ok := cli.Parse(fs, args, usage, stdout, stderr); !ok {
		return code
	}
	size, err := config.ParseByteSize(*maxBytes)
	if err != nil {
		return cli.UsageError(stderr, prog, fmt.Errorf("--max-scrape-bytes: %w", err))
	}
	o.MaxBytes = int64(size)
	if err := o.Validate(func(name string) string { return flagNames[name] }); err != nil {
		return cli.UsageError(stderr, prog, err)
	}
	log, err := logging.New(logging.Options{Level: "info", Format: "console", Service: "dashboard", Version: "lab", Output: stderr})
	if err != nil {
		return cli.Failure(stderr, prog, err)
	}
	defer func() { _ = log.Sync() }()
	d, err := dash.New(o, log, prometheus.NewRegistry())
	if err != nil {
		return cli.Failure(stderr, prog, err)
	}
	fmt.Fprintf(stdout, "dashboard on http://%s/ (Ctrl-C stops it)\n", d.Addr())
	if err := d.Serve(ctx); err != nil {
		return cli.Failure(stderr, prog, err)
	}
	return cli.ExitOK
}
