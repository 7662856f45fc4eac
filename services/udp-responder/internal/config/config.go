// Package config is udp-responder's configuration, read from the environment.
package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/netlab/netlab/services/platform/config"
)

// Modes of the responder.
const (
	ModeGreet = "greet" // reply the greeting
	ModeEcho  = "echo"  // reply the payload
)

// Config is every setting of the udp-responder server. The README lists
// each variable with its default.
type Config struct {
	config.Shared

	// ListenAddr is the UDP address the responder listens on.
	ListenAddr string `env:"LISTEN_ADDR" envDefault:":12345"`
	// Mode is greet or echo. Probes are answered in both.
	Mode string `env:"MODE" envDefault:"greet"`
	// Greeting is what greet mode replies.
	Greeting string `env:"GREETING" envDefault:"Hello, client!"`
	// MaxDatagram is the largest datagram handled; larger ones are dropped.
	MaxDatagram int `env:"MAX_DATAGRAM" envDefault:"2048"`
	// MaxAmplification bounds reply size / request size; it can only be
	// lowered below 1.
	MaxAmplification float64 `env:"MAX_AMPLIFICATION" envDefault:"1"`
	// RateLimit is the sustained datagrams per second allowed per source IP.
	RateLimit float64 `env:"RATE_LIMIT" envDefault:"2000"`
	// RateBurst is how many datagrams a source may send at once.
	RateBurst int `env:"RATE_BURST" envDefault:"4000"`
	// RateTableSize bounds how many sources are tracked at once.
	RateTableSize int `env:"RATE_TABLE_SIZE" envDefault:"65536"`
	// Sockets is the number of SO_REUSEPORT sockets (and goroutines) serving
	// the port; 0 means one per CPU.
	Sockets int `env:"SOCKETS" envDefault:"0"`
	// BatchSize is how many datagrams one system call reads or writes
	// (recvmmsg/sendmmsg); 1 reads and writes one at a time.
	BatchSize int `env:"BATCH_SIZE" envDefault:"32"`
	// ProbeRuns bounds how many probe runs (source address and run id) the
	// responder counts requests for at once, for version 2 probes.
	ProbeRuns int `env:"PROBE_RUNS" envDefault:"16384"`
	// ProbeRunTTL is how long a run is remembered after its last datagram.
	ProbeRunTTL time.Duration `env:"PROBE_RUN_TTL" envDefault:"2m"`
	// ShutdownToken enables the tutorial's "exit": a datagram
	// "exit <token>" from a ShutdownAllow source starts a graceful shutdown.
	// Empty (the default) disables it.
	ShutdownToken string `env:"SHUTDOWN_TOKEN"`
	// ShutdownAllow lists the networks an exit datagram may come from.
	ShutdownAllow Networks `env:"SHUTDOWN_ALLOW" envDefault:"127.0.0.0/8,::1/128"`
}

// Load reads the configuration from environ (nil: the process environment)
// and validates it.
func Load(environ map[string]string) (Config, error) { return config.LoadAs[Config](environ) }

// Validate reports every bad value, each naming its variable.
func (c Config) Validate() error {
	errs := []error{
		c.Shared.Validate(),
		config.ListenAddr("LISTEN_ADDR", c.ListenAddr),
		config.OneOf("MODE", c.Mode, ModeGreet, ModeEcho),
		config.InRange("MAX_DATAGRAM", c.MaxDatagram, 64, 65507),
		config.InRange("RATE_BURST", c.RateBurst, 1, 1_000_000),
		config.InRange("RATE_TABLE_SIZE", c.RateTableSize, 64, 10_000_000),
		config.InRange("SOCKETS", c.Sockets, 0, 256),
		config.InRange("BATCH_SIZE", c.BatchSize, 1, 1024),
		config.InRange("PROBE_RUNS", c.ProbeRuns, 16, 1_000_000),
		config.InRange("PROBE_RUN_TTL", c.ProbeRunTTL, 10*time.Second, time.Hour),
		config.Length("GREETING", c.Greeting, 1, 1024),
	}
	if !(c.MaxAmplification > 0 && c.MaxAmplification <= 1) {
		errs = append(errs, &config.Error{Var: "MAX_AMPLIFICATION", Value: fmt.Sprint(c.MaxAmplification),
			Reason: "must be greater than 0 and at most 1: a reply may never be larger than its request"})
	}
	if !(c.RateLimit > 0 && c.RateLimit <= 10_000_000) {
		errs = append(errs, &config.Error{Var: "RATE_LIMIT", Value: fmt.Sprint(c.RateLimit),
			Reason: "must be between 0 (exclusive) and 10000000 datagrams per second"})
	}
	if c.ShutdownToken != "" && len(c.ShutdownToken) < 8 {
		errs = append(errs, &config.Error{Var: "SHUTDOWN_TOKEN", Value: "(hidden)",
			Reason: "must be at least 8 characters, or empty to disable exit"})
	}
	if strings.ContainsAny(c.ShutdownToken, " \t\r\n") {
		errs = append(errs, &config.Error{Var: "SHUTDOWN_TOKEN", Value: "(hidden)", Reason: "must not contain whitespace"})
	}
	return errors.Join(errs...)
}
