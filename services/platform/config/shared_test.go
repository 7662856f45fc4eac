package config_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/config"
	"github.com/netlab/netlab/services/platform/config/configtest"
)

func TestShared_Validate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		modify   func(*config.Shared)
		wantVars []string
	}{
		{"defaults", func(*config.Shared) {}, nil},
		{"admin addr with host", func(s *config.Shared) { s.AdminAddr = "0.0.0.0:9090" }, nil},
		{"admin addr port zero", func(s *config.Shared) { s.AdminAddr = "127.0.0.1:0" }, nil},
		{"admin addr ipv6", func(s *config.Shared) { s.AdminAddr = "[::]:9090" }, nil},
		{"admin addr without port", func(s *config.Shared) { s.AdminAddr = "9090" }, []string{"ADMIN_ADDR"}},
		{"admin addr empty", func(s *config.Shared) { s.AdminAddr = "" }, []string{"ADMIN_ADDR"}},
		{"admin addr port too big", func(s *config.Shared) { s.AdminAddr = ":65536" }, []string{"ADMIN_ADDR"}},
		{"admin addr named port", func(s *config.Shared) { s.AdminAddr = ":http" }, []string{"ADMIN_ADDR"}},
		{"level debug", func(s *config.Shared) { s.LogLevel = "debug" }, nil},
		{"level warn", func(s *config.Shared) { s.LogLevel = "warn" }, nil},
		{"level error", func(s *config.Shared) { s.LogLevel = "error" }, nil},
		{"level unknown", func(s *config.Shared) { s.LogLevel = "trace" }, []string{"LOG_LEVEL"}},
		{"level upper case", func(s *config.Shared) { s.LogLevel = "INFO" }, []string{"LOG_LEVEL"}},
		{"level empty", func(s *config.Shared) { s.LogLevel = "" }, []string{"LOG_LEVEL"}},
		{"format json", func(s *config.Shared) { s.LogFormat = "json" }, nil},
		{"format console", func(s *config.Shared) { s.LogFormat = "console" }, nil},
		{"format unknown", func(s *config.Shared) { s.LogFormat = "xml" }, []string{"LOG_FORMAT"}},
		{"shutdown zero", func(s *config.Shared) { s.ShutdownTimeout = 0 }, nil},
		{"shutdown maximum", func(s *config.Shared) { s.ShutdownTimeout = 10 * time.Minute }, nil},
		{"shutdown negative", func(s *config.Shared) { s.ShutdownTimeout = -time.Second }, []string{"SHUTDOWN_TIMEOUT"}},
		{"shutdown too long", func(s *config.Shared) { s.ShutdownTimeout = 10*time.Minute + time.Nanosecond }, []string{"SHUTDOWN_TIMEOUT"}},
		{
			name: "all bad",
			modify: func(s *config.Shared) {
				*s = config.Shared{AdminAddr: "x", LogLevel: "x", LogFormat: "x", ShutdownTimeout: time.Hour}
			},
			wantVars: []string{"ADMIN_ADDR", "LOG_FORMAT", "LOG_LEVEL", "SHUTDOWN_TIMEOUT"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := configtest.SharedDefaults()
			tt.modify(&s)
			err := s.Validate()
			if got := configtest.Vars(err); !slices.Equal(got, tt.wantVars) {
				t.Errorf("Validate() vars = %v, want %v (err: %v)", got, tt.wantVars, err)
			}
			if tt.wantVars == nil {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Errorf("errors.As(%v, *config.Error) = false", err)
			}
		})
	}
}
