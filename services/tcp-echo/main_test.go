package main

import (
	"os"
	"strings"
	"testing"

	"github.com/netlab/netlab/services/platform/program/programtest"
)

func TestMain(m *testing.M) {
	programtest.RunIfChild(main)
	os.Exit(m.Run())
}

func TestProgram_ExitCodes(t *testing.T) {
	tests := []struct {
		name       string
		env        []string
		args       []string
		wantCode   int
		wantOutput string
	}{
		{"bad integer names the variable", []string{"MAX_CONNS=abc"}, nil, 2, `MAX_CONNS="abc": not a valid integer`},
		{"bad duration names the variable", []string{"IDLE_TIMEOUT=later"}, nil, 2, "IDLE_TIMEOUT"},
		{"unknown subcommand", nil, []string{"serve-please"}, 2, `unknown command "serve-please"`},
		{"healthcheck without a server", []string{"ADMIN_ADDR=127.0.0.1:1"}, []string{"healthcheck"}, 1, "unhealthy"},
		{"version", nil, []string{"version"}, 0, "tcp-echo dev"},
		{"version ignores config", []string{"MAX_CONNS=abc"}, []string{"version"}, 0, "tcp-echo dev"},
		{"healthcheck checks config", []string{"ADMIN_ADDR=nope"}, []string{"healthcheck"}, 2, "ADMIN_ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := programtest.Run(t, tt.env, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr: %s)", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stdout+stderr, tt.wantOutput) {
				t.Errorf("output %q does not contain %q", stdout+stderr, tt.wantOutput)
			}
		})
	}
}
