package config

import (
	"errors"
	"time"
)

// Shared holds the keys every netlab service reads. Services embed it in
// their own Config next to their LISTEN_ADDR (whose default differs per
// service) and their own limits.
type Shared struct {
	AdminAddr       string        `env:"ADMIN_ADDR" envDefault:":9090"`
	LogLevel        string        `env:"LOG_LEVEL" envDefault:"info"`
	LogFormat       string        `env:"LOG_FORMAT" envDefault:"auto"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"10s"`
}

// Validate checks the shared keys.
func (s Shared) Validate() error {
	return errors.Join(
		ListenAddr("ADMIN_ADDR", s.AdminAddr),
		OneOf("LOG_LEVEL", s.LogLevel, "debug", "info", "warn", "error"),
		OneOf("LOG_FORMAT", s.LogFormat, "auto", "json", "console"),
		InRange("SHUTDOWN_TIMEOUT", s.ShutdownTimeout, 0, 10*time.Minute),
	)
}

// SharedConfig returns the shared keys; through embedding, every service's
// Config has this method too.
func (s Shared) SharedConfig() Shared { return s }
