// Package programtest runs a service's real main in a child process, so a
// test can check its exit codes and output:
//
//	func TestMain(m *testing.M) {
//		programtest.RunIfChild(main)
//		os.Exit(m.Run())
//	}
//
//	code, stdout, stderr := programtest.Run(t, []string{"MAX_CONNS=abc"})
package programtest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
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
