// Package programtest runs a service's real main in a child process, so a
// test can check its exit codes and output:
//
//	func TestMain(m *testing.M) { programtest.Main(m, main) }
//
//	code, stdout, stderr := programtest.Run(t, []string{"MAX_CONNS=abc"})
//
// A service's exit-code test lists only its own rows; ExitCodes adds the
// ones every service shares:
//
//	programtest.ExitCodes(t, "tcp-echo", programtest.Case{Name: "bad integer names the variable",
//		Env: []string{"MAX_CONNS=abc"}, Code: 2, Output: `MAX_CONNS="abc"`})
package programtest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// childEnv marks the child process started by Run.
const childEnv = "NETLAB_PROGRAMTEST_RUN_MAIN"

// RunIfChild runs main and exits when this test binary was started by Run;
// otherwise it returns at once. Call it first in TestMain.
func RunIfChild(main func()) {
	if os.Getenv(childEnv) == "1" {
		main()
		os.Exit(0)
	}
}

// Main is a service's TestMain: it runs main when this test binary was
// started by Run, and the tests otherwise.
func Main(m *testing.M, main func()) {
	RunIfChild(main)
	os.Exit(m.Run())
}

// Run starts the test binary as the program with only env (plus PATH) as its
// environment and args as its arguments, and returns its exit code and
// output.
func Run(t testing.TB, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], args...)
	cmd.Env = append([]string{childEnv + "=1", "PATH=" + os.Getenv("PATH")}, env...)
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
		t.Fatalf("run %s: %v", os.Args[0], err)
		return 0, "", ""
	}
}

// Case is one run of a service binary: its environment and arguments, and
// the exit code and a piece of output (stdout or stderr) it must give.
type Case struct {
	Name   string
	Env    []string
	Args   []string
	Code   int
	Output string
}

// CommonCases are the rows every service binary passes the same way:
// subcommands, and which of them read the configuration. service is the
// binary's name as version prints it.
func CommonCases(service string) []Case {
	return []Case{
		{Name: "unknown subcommand", Args: []string{"serve-please"}, Code: 2, Output: `unknown command "serve-please"`},
		{Name: "version", Args: []string{"version"}, Code: 0, Output: service + " dev"},
		{Name: "version ignores the config", Env: []string{"ADMIN_ADDR=nope"}, Args: []string{"version"}, Code: 0, Output: service + " dev"},
		{Name: "healthcheck without a server", Env: []string{"ADMIN_ADDR=127.0.0.1:1"}, Args: []string{"healthcheck"}, Code: 1, Output: "unhealthy"},
		{Name: "healthcheck checks the config", Env: []string{"ADMIN_ADDR=nope"}, Args: []string{"healthcheck"}, Code: 2, Output: "ADMIN_ADDR"},
	}
}

// ExitCodes runs the CommonCases of service and then its own cases, each as
// a subtest with Run, and checks their exit codes and output.
func ExitCodes(t *testing.T, service string, own ...Case) {
	t.Helper()
	for _, tc := range append(CommonCases(service), own...) {
		t.Run(tc.Name, func(t *testing.T) {
			code, stdout, stderr := Run(t, tc.Env, tc.Args...)
			if code != tc.Code {
				t.Errorf("exit code %d, want %d (stdout: %s; stderr: %s)", code, tc.Code, stdout, stderr)
			}
			if !strings.Contains(stdout+stderr, tc.Output) {
				t.Errorf("output %q does not contain %q", stdout+stderr, tc.Output)
			}
		})
	}
}
