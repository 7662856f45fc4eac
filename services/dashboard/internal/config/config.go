// Package config is the dashboard's configuration, read from the
// environment.
package config

import (
	"errors"
	"time"

	"github.com/netlab/netlab/services/dashboard/dash"
	"github.com/netlab/netlab/services/platform/config"
)

// Config is every setting of the dashboard. The README lists each
// variable with its default.
type Config struct {
	config.Shared

	// ListenAddr is where the pages are served.
	ListenAddr string `env:"LISTEN_ADDR" envDefault:":8080"`
	// Targets are the services polled, by their compose names.
	Targets      string          `env:"TARGETS" envDefault:"tcp-echo=tcp-echo:9090,udp-responder=udp-responder:9090,http-hello=http-hello:9090,peer=peer:9090"`
	PollInterval time.Duration   `env:"POLL_INTERVAL" envDefault:"1s"`
	PollTimeout  time.Duration   `env:"POLL_TIMEOUT" envDefault:"500ms"`
	History      time.Duration   `env:"HISTORY" envDefault:"15m"`
	MaxSeries    int             `env:"MAX_SERIES" envDefault:"8192"`
	MaxReplicas  int             `env:"MAX_REPLICAS" envDefault:"64"`
	MaxBytes     config.ByteSize `env:"MAX_SCRAPE_BYTES" envDefault:"4MiB"`
	MaxClients   int             `env:"MAX_CLIENTS" envDefault:"32"`
	MaxFiles     int             `env:"MAX_FILES" envDefault:"8"`
	Expiry       time.Duration   `env:"REPLICA_EXPIRY" envDefault:"5m"`
}

// Load reads the configuration from environ (nil: the process environment)
// and validates it.
func Load(environ map[string]string) (Config, error) { return config.LoadAs[Config](environ) }

// Options are the dashboard's options from the configuration.
func (c Config) Options() dash.Options {
	return dash.Options{
		Listen: c.ListenAddr, Targets: c.Targets, Interval: c.PollInterval, Timeout: c.PollTimeout,
		History: c.History, MaxSeries: c.MaxSeries, MaxReplicas: c.MaxReplicas, MaxBytes: int64(c.MaxBytes),
		MaxClients: c.MaxClients, MaxFiles: c.MaxFiles, Expiry: c.Expiry, ShutdownTimeout: c.ShutdownTimeout,
	}
}

// Validate reports every bad value, each naming its variable.
func (c Config) Validate() error {
	return errors.Join(
		c.Shared.Validate(),
		config.ListenAddr("LISTEN_ADDR", c.ListenAddr),
		c.Options().Validate(func(name string) string { return name }),
	)
}
