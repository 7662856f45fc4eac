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

// svc is a program named svc that loads its configuration from environ,
// whatever Main passes, and runs run.
func svc(environ map[string]string, run func(context.Context, testConfig, program.Env) error) program.Program[testConfig] {
	load := func(map[string]string) (testConfig, error) { return config.LoadAs[testConfig](environ) }
	return program.Program[testConfig]{Name: "svc", Load: load, Run: run}
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
			p := svc(tt.environ, func(ctx context.Context, cfg testConfig, env program.Env) error {
				env.Log.Error("run", zap.Error(tt.run)) // visible at LOG_LEVEL=error
				return tt.run
			})
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
			p := svc(map[string]string{"ADMIN_ADDR": adm.Addr().String()},
				func(context.Context, testConfig, program.Env) error { return nil })
			p.Healthcheck = func(_ context.Context, _ testConfig, w io.Writer) error {
				if tt.check == nil {
					_, _ = io.WriteString(w, "probe answered\n")
				}
				return tt.check
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
	p := svc(map[string]string{"LOG_LEVEL": "error", "ADMIN_ADDR": "127.0.0.1:0"},
		func(_ context.Context, _ testConfig, env program.Env) error {
			adminAddr = env.Admin.Addr().String()
			return errors.New("listen tcp: boom")
		})
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

// listeningLine returns the fields of the last "listening" line in a JSON
// log.
func listeningLine(log string) map[string]any {
	var listening map[string]any
	for line := range strings.Lines(log) {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err == nil && entry["msg"] == "listening" {
			listening = entry
		}
	}
	return listening
}

// sigterm ends the Main under test as an operator would. Main's signal
// handler has SIGTERM registered by the time a server serves.
func sigterm(t *testing.T) {
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Error(err)
	}
}

// Env.Serve logs where the service listens, with its own fields, serves the
// server with the admin listener ready until SIGTERM, then closes the admin
// listener. Not parallel: the signal goes to the whole process.
func TestEnv_ServeRunsTheServerAndTheAdminListener(t *testing.T) {
	var adminAddr string
	var readyWhileServing int
	p := svc(map[string]string{"LOG_FORMAT": "json", "ADMIN_ADDR": "127.0.0.1:0"},
		func(ctx context.Context, _ testConfig, env program.Env) error {
			adminAddr = env.Admin.Addr().String()
			srv := fakeServer{addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4242}, during: func() {
				readyWhileServing = readyz(t, adminAddr)
				sigterm(t)
			}}
			return env.Serve(ctx, srv, zap.String("mode", "greet"))
		})
	var stdout, stderr bytes.Buffer
	if code := program.Main(p, nil, &stdout, &stderr); code != program.ExitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", code, stderr.String())
	}
	if readyWhileServing != http.StatusOK {
		t.Errorf("/readyz while serving = %d, want 200", readyWhileServing)
	}
	listening := listeningLine(stderr.String())
	want := map[string]any{"addr": "127.0.0.1:4242", "admin_addr": adminAddr, "mode": "greet"}
	for k, v := range want {
		if listening[k] != v {
			t.Errorf("listening line %v: %s = %v, want %v", listening, k, listening[k], v)
		}
	}
	closedPort(t, adminAddr)
}

// program.Serve builds the server from the configuration and serves it
// with the fields listening gives; a server that fails to build is never
// served and its error ends Main with exit 1. Not parallel: SIGTERM.
func TestServe_BuildsTheServerThenServesIt(t *testing.T) {
	for _, tt := range []struct {
		name     string
		buildErr error
		wantCode int
		wantOut  string
	}{
		{"builds and serves", nil, program.ExitOK, `"port":7`},
		{"fails to build", errors.New("listen tcp: boom"), program.ExitFailure, "listen tcp: boom"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			served := false
			newServer := func(cfg testConfig, log *zap.Logger, reg prometheus.Registerer) (fakeServer, error) {
				if log == nil || reg == nil {
					t.Error("newServer got no logger or registry")
				}
				addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: cfg.Port}
				return fakeServer{addr: addr, during: func() { served = true; sigterm(t) }}, tt.buildErr
			}
			listening := func(cfg testConfig) []zap.Field { return []zap.Field{zap.Int("port", cfg.Port)} }
			p := svc(map[string]string{"LOG_FORMAT": "json", "ADMIN_ADDR": "127.0.0.1:0", "PORT": "7"},
				program.Serve(newServer, listening))
			var stdout, stderr bytes.Buffer
			if code := program.Main(p, nil, &stdout, &stderr); code != tt.wantCode {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantOut) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.wantOut)
			}
			if served != (tt.buildErr == nil) {
				t.Errorf("served = %v with build error %v", served, tt.buildErr)
			}
			if tt.buildErr == nil && listeningLine(stderr.String())["addr"] != "127.0.0.1:7" {
				t.Errorf("listening line %v: want the built server's address", listeningLine(stderr.String()))
			}
		})
	}
}
