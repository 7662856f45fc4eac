package clientcli_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
)

// childEnv makes the test binary run TestRun_Child as a client whose
// behaviour after the first signal the variable names.
const childEnv = "CLIENTCLI_RUN_CHILD"

// TestRun_Child is not a test: run as a child process by TestRun, it is a
// client under clientcli.Run.
func TestRun_Child(t *testing.T) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		t.Skip("only run as the child of TestRun")
	}
	clientcli.Run(func(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
		line, _ := bufio.NewReader(stdin).ReadString('\n')
		fmt.Fprintf(stdout, "ready %s %s %s", args[len(args)-1], getenv(childEnv), line)
		<-ctx.Done()
		fmt.Fprintln(stdout, "interrupted")
		if mode == "slow" {
			select {} // a client that never finishes stopping
		}
		return 3
	})
}

// TestRun runs a client under clientcli.Run in a child process and sends it
// signals: the first cancels its context and it exits with its own code;
// a second one kills a client that does not stop.
func TestRun(t *testing.T) {
	tests := []struct {
		mode       string
		signals    int
		wantCode   int
		wantSignal syscall.Signal
	}{
		{mode: "stops", signals: 1, wantCode: 3},
		// The second signal is SIGTERM: a shell may start the tests with
		// SIGINT ignored, and Go keeps an inherited SIG_IGN once no handler
		// is left, so only SIGTERM's default action is certain here.
		{mode: "slow", signals: 2, wantCode: -1, wantSignal: syscall.SIGTERM},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestRun_Child$", "--", "last-arg")
			cmd.Env = append(os.Environ(), childEnv+"="+tt.mode)
			cmd.Stdin = strings.NewReader("from-stdin\n")
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewReader(out)
			expectLine(t, lines, "ready last-arg "+tt.mode+" from-stdin\n")
			_ = cmd.Process.Signal(syscall.SIGINT)
			expectLine(t, lines, "interrupted\n")
			if tt.signals == 2 {
				_ = cmd.Process.Signal(syscall.SIGTERM)
			}
			_, _ = io.Copy(io.Discard, lines)
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("exit: %v", err)
			}
			ws := ee.Sys().(syscall.WaitStatus)
			if ee.ExitCode() != tt.wantCode || tt.wantSignal != 0 && (!ws.Signaled() || ws.Signal() != tt.wantSignal) {
				t.Errorf("exit code %d, status %v; want code %d, signal %v", ee.ExitCode(), ws, tt.wantCode, tt.wantSignal)
			}
		})
	}
}

func expectLine(t *testing.T, r *bufio.Reader, want string) {
	t.Helper()
	got, err := r.ReadString('\n')
	if got != want {
		t.Fatalf("child printed %q (%v), want %q", got, err, want)
	}
}
