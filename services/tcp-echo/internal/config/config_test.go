package config_test

import (
	"strings"
	"testing"
	"time"

	platformconfig "github.com/netlab/netlab/services/platform/config"
	"github.com/netlab/netlab/services/platform/config/configtest"
	"github.com/netlab/netlab/services/tcp-echo/internal/config"
)

func TestLoad_Defaults(t *testing.T) {
	configtest.Loads(t, config.Load, map[string]string{}, config.Config{
		Shared:       configtest.SharedDefaults(),
		ListenAddr:   ":65432",
		MaxConns:     10000,
		IdleTimeout:  5 * time.Minute,
		WriteTimeout: 30 * time.Second,
		BufferSize:   32768,
	})
}

func TestLoad_ReadsEveryVariable(t *testing.T) {
	configtest.Loads(t, config.Load, map[string]string{
		"LISTEN_ADDR": "127.0.0.1:7000", "ADMIN_ADDR": "127.0.0.1:7001", "LOG_LEVEL": "debug",
		"LOG_FORMAT": "console", "SHUTDOWN_TIMEOUT": "3s", "MAX_CONNS": "5", "IDLE_TIMEOUT": "1m",
		"WRITE_TIMEOUT": "2s", "BUFFER_SIZE": "4096",
	}, config.Config{
		Shared:       platformconfig.Shared{AdminAddr: "127.0.0.1:7001", LogLevel: "debug", LogFormat: "console", ShutdownTimeout: 3 * time.Second},
		ListenAddr:   "127.0.0.1:7000",
		MaxConns:     5,
		IdleTimeout:  time.Minute,
		WriteTimeout: 2 * time.Second,
		BufferSize:   4096,
	})
}

func TestLoad_ErrorsNameTheVariable(t *testing.T) {
	configtest.Refuses(t, config.Load, []configtest.Bad{
		{Env: map[string]string{"MAX_CONNS": "abc"}, Var: "MAX_CONNS", Msg: `MAX_CONNS="abc": not a valid integer`},
		{Env: map[string]string{"MAX_CONNS": "0"}, Var: "MAX_CONNS"},
		{Env: map[string]string{"IDLE_TIMEOUT": "soon"}, Var: "IDLE_TIMEOUT"},
		{Env: map[string]string{"IDLE_TIMEOUT": "10ms"}, Var: "IDLE_TIMEOUT"},
		{Env: map[string]string{"WRITE_TIMEOUT": "-1s"}, Var: "WRITE_TIMEOUT"},
		{Env: map[string]string{"BUFFER_SIZE": "10"}, Var: "BUFFER_SIZE"},
		{Env: map[string]string{"BUFFER_SIZE": "1073741824"}, Var: "BUFFER_SIZE"},
		{Env: map[string]string{"LISTEN_ADDR": "65432"}, Var: "LISTEN_ADDR"},
		{Env: map[string]string{"LISTEN_ADDR": ":99999"}, Var: "LISTEN_ADDR"},
		{Env: map[string]string{"ADMIN_ADDR": "nope"}, Var: "ADMIN_ADDR"},
		{Env: map[string]string{"LOG_LEVEL": "loud"}, Var: "LOG_LEVEL"},
		{Env: map[string]string{"SHUTDOWN_TIMEOUT": "forever"}, Var: "SHUTDOWN_TIMEOUT"},
	})
}

func TestLoad_ReportsEveryBadVariable(t *testing.T) {
	_, err := config.Load(map[string]string{"MAX_CONNS": "-1", "BUFFER_SIZE": "1"})
	if err == nil || !strings.Contains(err.Error(), "MAX_CONNS") || !strings.Contains(err.Error(), "BUFFER_SIZE") {
		t.Fatalf("want both MAX_CONNS and BUFFER_SIZE in the error, got %v", err)
	}
}
