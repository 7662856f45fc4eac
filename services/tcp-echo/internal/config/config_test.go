package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	platformconfig "github.com/netlab/netlab/services/platform/config"
	"github.com/netlab/netlab/services/tcp-echo/internal/config"
)

func TestLoad_Defaults(t *testing.T) {
	cfg, err := config.Load(map[string]string{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := config.Config{
		Shared: platformconfig.Shared{
			AdminAddr: ":9090", LogLevel: "info", LogFormat: "auto", ShutdownTimeout: 10 * time.Second,
		},
		ListenAddr:   ":65432",
		MaxConns:     10000,
		IdleTimeout:  5 * time.Minute,
		WriteTimeout: 30 * time.Second,
		BufferSize:   32768,
	}
	if cfg != want {
		t.Fatalf("defaults:\n got %+v\nwant %+v", cfg, want)
	}
}

func TestLoad_ReadsEveryVariable(t *testing.T) {
	cfg, err := config.Load(map[string]string{
		"LISTEN_ADDR": "127.0.0.1:7000", "ADMIN_ADDR": "127.0.0.1:7001", "LOG_LEVEL": "debug",
		"LOG_FORMAT": "console", "SHUTDOWN_TIMEOUT": "3s", "MAX_CONNS": "5", "IDLE_TIMEOUT": "1m",
		"WRITE_TIMEOUT": "2s", "BUFFER_SIZE": "4096",
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.ListenAddr != "127.0.0.1:7000" || cfg.AdminAddr != "127.0.0.1:7001" || cfg.LogLevel != "debug" ||
		cfg.LogFormat != "console" || cfg.ShutdownTimeout != 3*time.Second || cfg.MaxConns != 5 ||
		cfg.IdleTimeout != time.Minute || cfg.WriteTimeout != 2*time.Second || cfg.BufferSize != 4096 {
		t.Fatalf("not every variable was read: %+v", cfg)
	}
}

func TestLoad_ErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"MAX_CONNS": "abc"}, `MAX_CONNS="abc": not a valid integer`},
		{map[string]string{"MAX_CONNS": "0"}, "MAX_CONNS"},
		{map[string]string{"IDLE_TIMEOUT": "soon"}, "IDLE_TIMEOUT"},
		{map[string]string{"IDLE_TIMEOUT": "10ms"}, "IDLE_TIMEOUT"},
		{map[string]string{"WRITE_TIMEOUT": "-1s"}, "WRITE_TIMEOUT"},
		{map[string]string{"BUFFER_SIZE": "10"}, "BUFFER_SIZE"},
		{map[string]string{"BUFFER_SIZE": "1073741824"}, "BUFFER_SIZE"},
		{map[string]string{"LISTEN_ADDR": "65432"}, "LISTEN_ADDR"},
		{map[string]string{"LISTEN_ADDR": ":99999"}, "LISTEN_ADDR"},
		{map[string]string{"ADMIN_ADDR": "nope"}, "ADMIN_ADDR"},
		{map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		{map[string]string{"SHUTDOWN_TIMEOUT": "forever"}, "SHUTDOWN_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := config.Load(tt.env)
			if err == nil {
				t.Fatalf("Load(%v): want an error", tt.env)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
			var cfgErr *platformconfig.Error
			if !errors.As(err, &cfgErr) {
				t.Fatalf("error %v is not a *config.Error", err)
			}
		})
	}
}

func TestLoad_ReportsEveryBadVariable(t *testing.T) {
	_, err := config.Load(map[string]string{"MAX_CONNS": "-1", "BUFFER_SIZE": "1"})
	if err == nil || !strings.Contains(err.Error(), "MAX_CONNS") || !strings.Contains(err.Error(), "BUFFER_SIZE") {
		t.Fatalf("want both MAX_CONNS and BUFFER_SIZE in the error, got %v", err)
	}
}
