package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/services/http-hello/internal/config"
	platformconfig "github.com/netlab/netlab/services/platform/config"
)

func TestLoad_Defaults(t *testing.T) {
	cfg, err := config.Load(map[string]string{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.ListenAddr != ":8000" || cfg.Greeting != "Hello, World!" || cfg.MaxDelay != 10*time.Second ||
		cfg.MaxBytes != 100<<20 || cfg.MaxBody != 1<<20 || cfg.MaxHeaderBytes != 16<<10 ||
		cfg.MaxConcurrent != 1000 || cfg.ReadHeaderTimeout != 5*time.Second || cfg.WriteTimeout != time.Minute ||
		!cfg.AccessLog || cfg.TLSCertFile != "" {
		t.Fatalf("defaults: %+v", cfg)
	}
}

func TestLoad_ErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"MAX_DELAY": "forever"}, `MAX_DELAY="forever": not a valid duration`},
		{map[string]string{"MAX_BYTES": "-1"}, "MAX_BYTES"},
		{map[string]string{"MAX_BODY": "lots"}, "MAX_BODY"},
		{map[string]string{"MAX_HEADER_BYTES": "10"}, "MAX_HEADER_BYTES"},
		{map[string]string{"MAX_CONCURRENT": "0"}, "MAX_CONCURRENT"},
		{map[string]string{"READ_HEADER_TIMEOUT": "0s"}, "READ_HEADER_TIMEOUT"},
		{map[string]string{"WRITE_TIMEOUT": "5s"}, "WRITE_TIMEOUT"}, // not longer than MAX_DELAY
		{map[string]string{"TLS_CERT_FILE": "/c.pem"}, "TLS_KEY_FILE"},
		{map[string]string{"ACCESS_LOG": "maybe"}, "ACCESS_LOG"},
		{map[string]string{"LISTEN_ADDR": "8000"}, "LISTEN_ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := config.Load(tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load(%v) = %v, want an error naming %s", tt.env, err, tt.want)
			}
			var cfgErr *platformconfig.Error
			if !errors.As(err, &cfgErr) {
				t.Fatalf("error %v is not a *config.Error", err)
			}
		})
	}
}
