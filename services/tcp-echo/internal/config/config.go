// Package config is tcp-echo's configuration, read from the environment.
package config

import (
	"errors"
	"time"

	"github.com/netlab/netlab/services/platform/config"
)

// Config is every setting of the tcp-echo server. The README lists each
// variable with its default.
type Config struct {
	config.Shared

	// ListenAddr is the TCP address the echo service listens on.
	ListenAddr string `env:"LISTEN_ADDR" envDefault:":65432"`
	// MaxConns caps concurrent connections; connections beyond it are
	// closed at once and counted.
	MaxConns int `env:"MAX_CONNS" envDefault:"10000"`
	// IdleTimeout closes a connection that sends nothing for this long.
	IdleTimeout time.Duration `env:"IDLE_TIMEOUT" envDefault:"5m"`
	// WriteTimeout closes a connection whose peer stops reading its echo.
	WriteTimeout time.Duration `env:"WRITE_TIMEOUT" envDefault:"30s"`
	// BufferSize is the echo buffer a connection borrows while data flows.
	BufferSize int `env:"BUFFER_SIZE" envDefault:"32768"`
}

// Load reads the configuration from environ (nil: the process environment)
// and validates it.
func Load(environ map[string]string) (Config, error) { return config.LoadAs[Config](environ) }

// Validate reports every bad value, each naming its variable.
func (c Config) Validate() error {
	return errors.Join(
		c.Shared.Validate(),
		config.ListenAddr("LISTEN_ADDR", c.ListenAddr),
		config.InRange("MAX_CONNS", c.MaxConns, 1, 1_000_000),
		config.InRange("IDLE_TIMEOUT", c.IdleTimeout, time.Second, 24*time.Hour),
		config.InRange("WRITE_TIMEOUT", c.WriteTimeout, 100*time.Millisecond, time.Hour),
		config.InRange("BUFFER_SIZE", c.BufferSize, 512, 1<<20),
	)
}
