package config_test

import (
	"testing"
	"time"

	"github.com/netlab/netlab/services/http-hello/internal/config"
	"github.com/netlab/netlab/services/platform/config/configtest"
)

func TestLoad_Defaults(t *testing.T) {
	configtest.Loads(t, config.Load, map[string]string{}, config.Config{
		Shared:            configtest.SharedDefaults(),
		ListenAddr:        ":8000",
		Greeting:          "Hello, World!",
		MaxDelay:          10 * time.Second,
		MaxBytes:          100 << 20,
		MaxBody:           1 << 20,
		MaxHeaderBytes:    16 << 10,
		MaxConcurrent:     1000,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		TLSCertFile:       "",
		TLSKeyFile:        "",
		AccessLog:         true,
	})
}

func TestLoad_ErrorsNameTheVariable(t *testing.T) {
	configtest.Refuses(t, config.Load, []configtest.Bad{
		{Env: map[string]string{"MAX_DELAY": "forever"}, Var: "MAX_DELAY", Msg: `MAX_DELAY="forever": not a valid duration`},
		{Env: map[string]string{"MAX_BYTES": "-1"}, Var: "MAX_BYTES"},
		{Env: map[string]string{"MAX_BODY": "lots"}, Var: "MAX_BODY"},
		{Env: map[string]string{"MAX_HEADER_BYTES": "10"}, Var: "MAX_HEADER_BYTES"},
		{Env: map[string]string{"MAX_CONCURRENT": "0"}, Var: "MAX_CONCURRENT"},
		{Env: map[string]string{"READ_HEADER_TIMEOUT": "0s"}, Var: "READ_HEADER_TIMEOUT"},
		{Env: map[string]string{"WRITE_TIMEOUT": "5s"}, Var: "WRITE_TIMEOUT", Msg: "longer than MAX_DELAY"},
		{Env: map[string]string{"TLS_CERT_FILE": "/c.pem"}, Var: "TLS_CERT_FILE", Msg: "TLS_KEY_FILE"},
		{Env: map[string]string{"ACCESS_LOG": "maybe"}, Var: "ACCESS_LOG"},
		{Env: map[string]string{"LISTEN_ADDR": "8000"}, Var: "LISTEN_ADDR"},
	})
}
