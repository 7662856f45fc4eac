package config_test

import (
	"strings"
	"testing"

	"github.com/netlab/netlab/services/platform/config/configtest"
	"github.com/netlab/netlab/services/udp-responder/internal/config"
)

func TestLoad_Defaults(t *testing.T) {
	cfg := configtest.Defaults(t, config.Load)
	want := config.Config{
		Shared:           cfg.Shared, // checked by configtest.Defaults
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
	configtest.Refuses(t, config.Load, []configtest.Bad{
		{Env: map[string]string{"MODE": "loud"}, Var: "MODE"},
		{Env: map[string]string{"MAX_AMPLIFICATION": "2"}, Var: "MAX_AMPLIFICATION"},
		{Env: map[string]string{"MAX_AMPLIFICATION": "0"}, Var: "MAX_AMPLIFICATION"},
		{Env: map[string]string{"MAX_AMPLIFICATION": "lots"}, Var: "MAX_AMPLIFICATION", Msg: `MAX_AMPLIFICATION="lots": not a valid number`},
		{Env: map[string]string{"MAX_DATAGRAM": "70000"}, Var: "MAX_DATAGRAM"},
		{Env: map[string]string{"RATE_LIMIT": "0"}, Var: "RATE_LIMIT"},
		{Env: map[string]string{"RATE_BURST": "0"}, Var: "RATE_BURST"},
		{Env: map[string]string{"RATE_TABLE_SIZE": "1"}, Var: "RATE_TABLE_SIZE"},
		{Env: map[string]string{"SOCKETS": "-1"}, Var: "SOCKETS"},
		{Env: map[string]string{"BATCH_SIZE": "0"}, Var: "BATCH_SIZE"},
		{Env: map[string]string{"GREETING": strings.Repeat("g", 1025)}, Var: "GREETING"},
		{Env: map[string]string{"SHUTDOWN_TOKEN": "short"}, Var: "SHUTDOWN_TOKEN"},
		{Env: map[string]string{"SHUTDOWN_TOKEN": "has a space"}, Var: "SHUTDOWN_TOKEN"},
		{Env: map[string]string{"SHUTDOWN_ALLOW": "10.0.0.0/8,nonsense"}, Var: "SHUTDOWN_ALLOW"},
		{Env: map[string]string{"LISTEN_ADDR": "12345"}, Var: "LISTEN_ADDR"},
	})
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
