package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	platformconfig "github.com/netlab/netlab/services/platform/config"
	"github.com/netlab/netlab/services/udp-responder/internal/config"
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
		ListenAddr:       ":12345",
		Mode:             "greet",
		Greeting:         "Hello, client!",
		MaxDatagram:      2048,
		MaxAmplification: 1,
		RateLimit:        2000,
		RateBurst:        4000,
		RateTableSize:    65536,
		Sockets:          0,
		BatchSize:        32,
		ShutdownToken:    "",
		ShutdownAllow:    "127.0.0.0/8,::1/128",
	}
	if cfg != want {
		t.Fatalf("defaults:\n got %+v\nwant %+v", cfg, want)
	}
}

func TestLoad_ErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"MODE": "loud"}, "MODE"},
		{map[string]string{"MAX_AMPLIFICATION": "2"}, "MAX_AMPLIFICATION"},
		{map[string]string{"MAX_AMPLIFICATION": "0"}, "MAX_AMPLIFICATION"},
		{map[string]string{"MAX_AMPLIFICATION": "lots"}, `MAX_AMPLIFICATION="lots": not a valid number`},
		{map[string]string{"MAX_DATAGRAM": "70000"}, "MAX_DATAGRAM"},
		{map[string]string{"RATE_LIMIT": "0"}, "RATE_LIMIT"},
		{map[string]string{"RATE_BURST": "0"}, "RATE_BURST"},
		{map[string]string{"RATE_TABLE_SIZE": "1"}, "RATE_TABLE_SIZE"},
		{map[string]string{"SOCKETS": "-1"}, "SOCKETS"},
		{map[string]string{"BATCH_SIZE": "0"}, "BATCH_SIZE"},
		{map[string]string{"GREETING": strings.Repeat("g", 1025)}, "GREETING"},
		{map[string]string{"SHUTDOWN_TOKEN": "short"}, "SHUTDOWN_TOKEN"},
		{map[string]string{"SHUTDOWN_TOKEN": "has a space"}, "SHUTDOWN_TOKEN"},
		{map[string]string{"SHUTDOWN_ALLOW": "10.0.0.0/8,nonsense"}, "SHUTDOWN_ALLOW"},
		{map[string]string{"LISTEN_ADDR": "12345"}, "LISTEN_ADDR"},
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

func TestLoad_NeverPrintsTheToken(t *testing.T) {
	_, err := config.Load(map[string]string{"SHUTDOWN_TOKEN": "abc def ghi"})
	if err == nil || strings.Contains(err.Error(), "abc def ghi") {
		t.Fatalf("error %v: want an error that hides the token", err)
	}
}

func TestShutdownNetworks(t *testing.T) {
	cfg := config.Config{ShutdownAllow: " 10.1.2.3/8, ::1/128 ,"}
	nets, err := cfg.ShutdownNetworks()
	if err != nil {
		t.Fatal(err)
	}
	if len(nets) != 2 || nets[0].String() != "10.0.0.0/8" || nets[1].String() != "::1/128" {
		t.Fatalf("networks = %v", nets)
	}
}
