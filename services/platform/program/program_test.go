package program_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/netlab/netlab/services/platform/admin"
	"github.com/netlab/netlab/services/platform/config"
	"github.com/netlab/netlab/services/platform/program"
)

type testConfig struct {
	config.Shared
	Port int `env:"PORT" envDefault:"1"`
}

func load(environ map[string]string) func() (testConfig, error) {
	return func() (testConfig, error) {
		var c testConfig
		err := config.Load(&c, environ)
		return c, err
	}
}

func TestMain_ExitCodes(t *testing.T) {
	runErr := errors.New("listen: boom")
	tests := []struct {
		name     string
		args     []string
		environ  map[string]string
		run      error
		wantCode int
		wantOut  string
	}{
		{"version", []string{"version"}, map[string]string{"PORT": "bad"}, nil, 0, "svc dev"},
		{"unknown command", []string{"frobnicate"}, nil, nil, 2, `unknown command "frobnicate"`},
		{"bad config names the variable", nil, map[string]string{"PORT": "bad"}, nil, 2, `PORT="bad": not a valid integer`},
		{"run fails", nil, map[string]string{"LOG_LEVEL": "error"}, runErr, 1, "listen: boom"},
		{"run returns", nil, map[string]string{"LOG_LEVEL": "error"}, nil, 0, ""},
		{"healthcheck without a server", []string{"healthcheck"}, map[string]string{"ADMIN_ADDR": "127.0.0.1:1"}, nil, 1, "unhealthy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p := program.Program[testConfig]{
				Name: "svc",
				Load: load(tt.environ),
				Run: func(ctx context.Context, cfg testConfig, log *zap.Logger) error {
					log.Error("run", zap.Error(tt.run)) // visible at LOG_LEVEL=error
					return tt.run
				},
			}
			if code := program.Main(p, tt.args, &out, &out); code != tt.wantCode {
				t.Fatalf("exit code %d, want %d; output:\n%s", code, tt.wantCode, out.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Fatalf("output %q does not contain %q", out.String(), tt.wantOut)
			}
		})
	}
}

func TestMain_HealthcheckRunsTheServiceCheckAfterReadyz(t *testing.T) {
	adm, err := admin.New("127.0.0.1:0", prometheus.NewRegistry(), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	adm.SetReady(true)
	go func() { _ = adm.Serve() }()
	t.Cleanup(func() { _ = adm.Shutdown(context.Background()) })

	for _, tt := range []struct {
		name     string
		check    error
		wantCode int
		wantOut  string
	}{
		{"service check passes", nil, 0, "probe answered"},
		{"service check fails", errors.New("no reply"), 1, "unhealthy: no reply"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p := program.Program[testConfig]{
				Name: "svc",
				Load: load(map[string]string{"ADMIN_ADDR": adm.Addr().String()}),
				Run:  func(context.Context, testConfig, *zap.Logger) error { return nil },
				Healthcheck: func(_ context.Context, _ testConfig, w io.Writer) error {
					if tt.check == nil {
						_, _ = io.WriteString(w, "probe answered\n")
					}
					return tt.check
				},
			}
			if code := program.Main(p, []string{"healthcheck"}, &out, &out); code != tt.wantCode {
				t.Fatalf("exit code %d, want %d; output: %s", code, tt.wantCode, out.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Fatalf("output %q does not contain %q", out.String(), tt.wantOut)
			}
		})
	}
}
