// Package config is http-hello's configuration, read from the environment.
package config

import (
	"errors"
	"time"

	"github.com/netlab/netlab/services/platform/config"
)

// Config is every setting of the http-hello server. The README lists each
// variable with its default.
type Config struct {
	config.Shared

	// ListenAddr is the HTTP address of the hello service.
	ListenAddr string `env:"LISTEN_ADDR" envDefault:":8000"`
	// Greeting is what GET / answers.
	Greeting string `env:"GREETING" envDefault:"Hello, World!"`
	// MaxDelay bounds /delay/{duration}.
	MaxDelay time.Duration `env:"MAX_DELAY" envDefault:"10s"`
	// MaxBytes bounds /bytes/{n}.
	MaxBytes int64 `env:"MAX_BYTES" envDefault:"104857600"`
	// MaxBody bounds every request body.
	MaxBody int64 `env:"MAX_BODY" envDefault:"1048576"`
	// MaxHeaderBytes bounds the header block: request line, header lines
	// and the blank line, each with its CRLF, as docs/http-hello.md defines it.
	MaxHeaderBytes int `env:"MAX_HEADER_BYTES" envDefault:"16384"`
	// MaxConcurrent caps requests in progress; more get 503.
	MaxConcurrent int `env:"MAX_CONCURRENT" envDefault:"1000"`
	// ReadHeaderTimeout cuts off clients that send headers too slowly
	// (slowloris).
	ReadHeaderTimeout time.Duration `env:"READ_HEADER_TIMEOUT" envDefault:"5s"`
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration `env:"READ_TIMEOUT" envDefault:"30s"`
	// WriteTimeout bounds writing a response; it must leave room for
	// MAX_DELAY.
	WriteTimeout time.Duration `env:"WRITE_TIMEOUT" envDefault:"60s"`
	// IdleTimeout closes keep-alive connections idle this long.
	IdleTimeout time.Duration `env:"IDLE_TIMEOUT" envDefault:"120s"`
	// TLSCertFile and TLSKeyFile enable HTTPS (with HTTP/2) when both are set.
	TLSCertFile string `env:"TLS_CERT_FILE"`
	TLSKeyFile  string `env:"TLS_KEY_FILE"`
	// AccessLog writes one log line per request.
	AccessLog bool `env:"ACCESS_LOG" envDefault:"true"`
}

// Load reads the configuration from environ (nil: the process environment)
// and validates it.
func Load(environ map[string]string) (Config, error) { return config.LoadAs[Config](environ) }

// Validate reports every bad value, each naming its variable.
func (c Config) Validate() error {
	errs := []error{
		c.Shared.Validate(),
		config.ListenAddr("LISTEN_ADDR", c.ListenAddr),
		config.InRange("MAX_DELAY", c.MaxDelay, 0, time.Hour),
		config.InRange("MAX_BYTES", c.MaxBytes, 0, 1<<40),
		config.InRange("MAX_BODY", c.MaxBody, 0, 1<<30),
		config.InRange("MAX_HEADER_BYTES", c.MaxHeaderBytes, 1024, 1<<20),
		config.InRange("MAX_CONCURRENT", c.MaxConcurrent, 1, 1_000_000),
		config.InRange("READ_HEADER_TIMEOUT", c.ReadHeaderTimeout, 100*time.Millisecond, 10*time.Minute),
		config.InRange("READ_TIMEOUT", c.ReadTimeout, 100*time.Millisecond, time.Hour),
		config.InRange("WRITE_TIMEOUT", c.WriteTimeout, 100*time.Millisecond, 2*time.Hour),
		config.InRange("IDLE_TIMEOUT", c.IdleTimeout, time.Second, 24*time.Hour),
		config.Length("GREETING", c.Greeting, 1, 4096),
	}
	if c.WriteTimeout <= c.MaxDelay {
		errs = append(errs, &config.Error{Var: "WRITE_TIMEOUT", Value: c.WriteTimeout.String(),
			Reason: "must be longer than MAX_DELAY (" + c.MaxDelay.String() + "), or /delay responses would be cut off"})
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, &config.Error{Var: "TLS_CERT_FILE", Value: c.TLSCertFile, Reason: "TLS_CERT_FILE and TLS_KEY_FILE must be set together"})
	}
	return errors.Join(errs...)
}
