// Package logging builds the zap logger every netlab service uses: JSON on
// stderr in containers, human-readable console output on a terminal.
package logging

import (
	"fmt"
	"io"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/netlab/netlab/services/platform/term"
)

// Options chooses the logger's level, format and root fields.
type Options struct {
	Level   string // debug, info, warn, error
	Format  string // json, console, or auto (console on a terminal, else json)
	Service string // root field "service"
	Version string // root field "version"
	// Output is where log lines go; nil means os.Stderr.
	Output io.Writer
}

// New returns a logger configured by opts.
func New(opts Options) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(opts.Level)
	if err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	out := opts.Output
	if out == nil {
		out = os.Stderr
	}
	format := opts.Format
	if format == "" || format == "auto" {
		format = "json"
		if term.IsTerminal(out) {
			format = "console"
		}
	}

	encCfg := zap.NewProductionEncoderConfig()
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	var enc zapcore.Encoder
	switch format {
	case "json":
		enc = zapcore.NewJSONEncoder(encCfg)
	case "console":
		encCfg.EncodeLevel = zapcore.CapitalLevelEncoder
		enc = zapcore.NewConsoleEncoder(encCfg)
	default:
		return nil, fmt.Errorf("log format %q: want json, console or auto", opts.Format)
	}

	// One lock for log lines and zap's own error output, so they never
	// interleave.
	sink := zapcore.Lock(zapcore.AddSync(out))
	core := zapcore.NewCore(enc, sink, level)
	return zap.New(core, zap.ErrorOutput(sink)).With(
		zap.String("service", opts.Service),
		zap.String("version", opts.Version),
	), nil
}
