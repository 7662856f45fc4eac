package program_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
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

// load reads environ, whatever Main passes.
func load(environ map[string]string) func(map[string]string) (testConfig, error) {
	return func(map[string]string) (testConfig, error) {
		var c testConfig
		err := config.Load(&c, environ)
		return c, err
	}
}

func TestMain_ExitCodes(t *testing.T) {
	runErr := errors.New("listen: boom")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	busy := ln.Addr().String()
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
		{"run fails", nil, map[string]string{"LOG_LEVEL": "error", "ADMIN_ADDR": "127.0.0.1:0"}, runErr, 1, "listen: boom"},
		{"run returns", nil, map[string]string{"LOG_LEVEL": "error", "ADMIN_ADDR": "127.0.0.1:0"}, nil, 0, ""},
		{"admin address in use", nil, map[string]string{"LOG_LEVEL": "error", "ADMIN_ADDR": busy}, nil, 1, "listen admin"},
		{"healthcheck without a server", []string{"healthcheck"}, map[string]string{"ADMIN_ADDR": "127.0.0.1:1"}, nil, 1, "unhealthy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p := program.Program[testConfig]{
				Name: "svc",
				Load: load(tt.environ),
				Run: func(ctx context.Context, cfg testConfig, env program.Env) error {
					env.Log.Error("run", zap.Error(tt.run)) // visible at LOG_LEVEL=error
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
				Run:  func(context.Context, testConfig, program.Env) error { return nil },
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

// closedPort fails the test if something still listens on addr.
func closedPort(t *testing.T, addr string) {
	t.Helper()
	if conn, err := net.Dial("tcp", addr); err == nil {
		_ = conn.Close()
		t.Errorf("the admin listener on %s is still open", addr)
	}
}

// Not parallel: it checks that a closed port stays closed.
func TestMain_RunFailingBeforeServeClosesTheAdminListener(t *testing.T) {
	var adminAddr string
	p := program.Program[testConfig]{
		Name: "svc",
		Load: load(map[string]string{"LOG_LEVEL": "error", "ADMIN_ADDR": "127.0.0.1:0"}),
		Run: func(_ context.Context, _ testConfig, env program.Env) error {
			adminAddr = env.Admin.Addr().String()
			return errors.New("listen tcp: boom")
		},
	}
	var out bytes.Buffer
	if code := program.Main(p, nil, &out, &out); code != program.ExitFailure {
		t.Fatalf("exit code %d, want %d; output:\n%s", code, program.ExitFailure, out.String())
	}
	closedPort(t, adminAddr)
}

// fakeServer serves until ctx is canceled, after running during.
type fakeServer struct {
	addr   net.Addr
	during func()
}

func (s fakeServer) Addr() net.Addr { return s.addr }

func (s fakeServer) Serve(ctx context.Context) error {
	s.during()
	<-ctx.Done()
	return nil
}

func readyz(t *testing.T, adminAddr string) int {
	t.Helper()
	resp, err := http.Get("http://" + adminAddr + "/readyz")
	if err != nil {
		t.Errorf("GET /readyz: %v", err)
		return 0
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// Env.Serve logs where the service listens, with its own fields, serves the
// server with the admin listener ready until SIGTERM, then closes the admin
// listener. Not parallel: the signal goes to the whole process.
func TestEnv_ServeRunsTheServerAndTheAdminListener(t *testing.T) {
	var adminAddr string
	var readyWhileServing int
	p := program.Program[testConfig]{
		Name: "svc",
		Load: load(map[string]string{"LOG_FORMAT": "json", "ADMIN_ADDR": "127.0.0.1:0"}),
		Run: func(ctx context.Context, _ testConfig, env program.Env) error {
			adminAddr = env.Admin.Addr().String()
			srv := fakeServer{addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4242}, during: func() {
				readyWhileServing = readyz(t, adminAddr)
				// Main's signal handler has SIGTERM registered by now.
				if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
					t.Error(err)
				}
			}}
			return env.Serve(ctx, srv, zap.String("mode", "greet"))
		},
	}
	var stdout, stderr bytes.Buffer
	if code := program.Main(p, nil, &stdout, &stderr); code != program.ExitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr.String())
	}
	if readyWhileServing != http.StatusOK {
		t.Errorf("/readyz while serving = %d, want 200", readyWhileServing)
	}
	var listening map[string]any
	for line := range strings.Lines(stderr.String()) {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err == nil && entry["msg"] == "listening" {
			listening = entry
		}
	}
	want := map[string]any{"addr": "127.0.0.1:4242", "admin_addr": adminAddr, "mode": "greet"}
	for k, v := range want {
		if listening[k] != v {
			t.Errorf("listening line %v: %s = %v, want %v", listening, k, listening[k], v)
		}
	}
	closedPort(t, adminAddr)
}
