package dash

import (
	"errors"
	"fmt"
	"time"

	"github.com/netlab/netlab/services/dashboard/internal/poller"
)

// Options configure a dashboard. The service reads them from environment
// variables, netlab dashboard from flags; Validate names each by its
// variable through a function the caller gives.
type Options struct {
	// Listen is the address of the pages and their event streams.
	Listen string
	// Targets are the services polled: "name=host:port,...", the admin
	// listener of each; a host that resolves to several addresses is a
	// service with several replicas, and a name given more than once
	// gathers its addresses into one service.
	Targets string
	// Interval is the time between poll rounds; Timeout bounds a replica's
	// requests in one round.
	Interval time.Duration
	Timeout  time.Duration
	// History is how far back the charts go: History/Interval points of
	// each series are kept.
	History time.Duration
	// MaxSeries bounds the series kept over every replica: the memory of
	// the history is at most MaxSeries × History/Interval × 4 bytes.
	MaxSeries int
	// MaxReplicas bounds the replicas polled over every service.
	MaxReplicas int
	// MaxBytes bounds every answer read from a replica.
	MaxBytes int64
	// MaxClients bounds the event streams open at once.
	MaxClients int
	// MaxFiles bounds the files the swarm page shows.
	MaxFiles int
	// Expiry is how long a replica that neither resolves nor answers stays
	// listed (as down).
	Expiry time.Duration
	// ShutdownTimeout bounds the drain of open requests at shutdown.
	ShutdownTimeout time.Duration
}

// DefaultLimits are the documented defaults of every option but the
// addresses and the shutdown timeout, which each way of running the
// dashboard sets for itself: the service's variables (their envDefault
// tags, held to these by a test) and netlab dashboard's flags.
func DefaultLimits() Options {
	return Options{
		Interval: time.Second, Timeout: 500 * time.Millisecond, History: 15 * time.Minute,
		MaxSeries: 8192, MaxReplicas: 64, MaxBytes: 4 << 20, MaxClients: 32, MaxFiles: 8,
		Expiry: 5 * time.Minute,
	}
}

// maxHistoryBytes bounds the history's memory however the limits are set.
const maxHistoryBytes = 1 << 30

// Points is the number of points kept of each series.
func (o Options) Points() int {
	if o.Interval <= 0 {
		return 0
	}
	return int(o.History / o.Interval)
}

// MemoryBound is the most bytes the history's values take.
func (o Options) MemoryBound() int64 { return int64(o.MaxSeries) * int64(o.Points()) * 4 }

// Validate checks every option; name turns a variable's name
// ("POLL_INTERVAL") into the name the caller's user knows it by.
func (o Options) Validate(name func(string) string) error {
	bad := func(v, format string, args ...any) error {
		return fmt.Errorf("%s: %s", name(v), fmt.Sprintf(format, args...))
	}
	var errs []error
	check := func(ok bool, v, format string, args ...any) {
		if !ok {
			errs = append(errs, bad(v, format, args...))
		}
	}
	if _, err := poller.ParseTargets(o.Targets); err != nil {
		errs = append(errs, bad("TARGETS", "%v", err))
	}
	check(o.Interval >= 100*time.Millisecond && o.Interval <= time.Minute, "POLL_INTERVAL", "%v is not between 100ms and 1m", o.Interval)
	check(o.Timeout >= 50*time.Millisecond && o.Timeout <= o.Interval, "POLL_TIMEOUT", "%v is not between 50ms and the poll interval (%v)", o.Timeout, o.Interval)
	check(o.History <= 24*time.Hour && o.Points() >= 10 && o.Points() <= 100_000, "HISTORY",
		"%v is not between 10 and 100000 poll intervals, nor over 24h", o.History)
	check(o.MaxSeries >= 100 && o.MaxSeries <= 1_000_000, "MAX_SERIES", "%d is not between 100 and 1000000", o.MaxSeries)
	check(o.MemoryBound() <= maxHistoryBytes, "MAX_SERIES",
		"%d series × %d points × 4 bytes is over 1 GiB: fewer series or a shorter HISTORY", o.MaxSeries, o.Points())
	check(o.MaxReplicas >= 1 && o.MaxReplicas <= 1024, "MAX_REPLICAS", "%d is not between 1 and 1024", o.MaxReplicas)
	check(o.MaxBytes >= 64<<10 && o.MaxBytes <= 64<<20, "MAX_SCRAPE_BYTES", "%d is not between 64KiB and 64MiB", o.MaxBytes)
	check(o.MaxClients >= 1 && o.MaxClients <= 1024, "MAX_CLIENTS", "%d is not between 1 and 1024", o.MaxClients)
	check(o.MaxFiles >= 1 && o.MaxFiles <= 64, "MAX_FILES", "%d is not between 1 and 64", o.MaxFiles)
	check(o.Expiry >= o.Interval && o.Expiry <= 24*time.Hour, "REPLICA_EXPIRY", "%v is not between the poll interval and 24h", o.Expiry)
	check(o.ShutdownTimeout >= 0 && o.ShutdownTimeout <= 10*time.Minute, "SHUTDOWN_TIMEOUT", "%v is not between 0 and 10m", o.ShutdownTimeout)
	return errors.Join(errs...)
}
