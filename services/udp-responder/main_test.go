package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The test binary runs main itself when this variable is set, so tests can
// check exit codes and output of the real program.
const runMainEnv = "UDP_RESPONDER_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runProgram(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], args...)
	cmd.Env = append([]string{runMainEnv + "=1", "PATH=" + os.Getenv("PATH")}, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), errOut.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String(), errOut.String()
	default:
		t.Fatalf("run: %v", err)
		return 0, "", ""
	}
}

func TestProgram_ExitCodes(t *testing.T) {
	tests := []struct {
		name       string
		env        []string
		args       []string
		wantCode   int
		wantOutput string
	}{
		{"bad integer names the variable", []string{"RATE_BURST=abc"}, nil, 2, `RATE_BURST="abc": not a valid integer`},
		{"bad mode names the variable", []string{"MODE=loud"}, nil, 2, "MODE"},
		{"unknown subcommand", nil, []string{"serve-please"}, 2, `unknown command "serve-please"`},
		{"healthcheck without a server", []string{"ADMIN_ADDR=127.0.0.1:1"}, []string{"healthcheck"}, 1, "unhealthy"},
		{"version", nil, []string{"version"}, 0, "udp-responder dev"},
		{"version ignores config", []string{"MODE=loud"}, []string{"version"}, 0, "udp-responder dev"},
		{"healthcheck checks config", []string{"ADMIN_ADDR=nope"}, []string{"healthcheck"}, 2, "ADMIN_ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runProgram(t, tt.env, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr: %s)", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stdout+stderr, tt.wantOutput) {
				t.Errorf("output %q does not contain %q", stdout+stderr, tt.wantOutput)
			}
		})
	}
}
