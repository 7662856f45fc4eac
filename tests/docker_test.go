package tests_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// oneShotTimeout bounds how long a one-shot container may run.
const oneShotTimeout = time.Minute

// oneShot is what a container that ran to completion left behind.
type oneShot struct {
	exitCode int
	stdout   string
	stderr   string
}

// runOneShot runs a container from the tcp-echo image until it exits and
// returns its exit code and output. The container is removed when t ends.
func runOneShot(t *testing.T, opts ...testcontainers.ContainerCustomizer) oneShot {
	t.Helper()
	requireImages(t)
	ctx := t.Context()
	opts = append(opts,
		testcontainers.WithLabels(map[string]string{projectLabel: "netlab"}),
		testcontainers.WithWaitStrategy(wait.ForExit().WithExitTimeout(oneShotTimeout)),
	)
	ctr, err := testcontainers.Run(ctx, tcpEchoImage, opts...)
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		t.Fatalf("run %s: %v", tcpEchoImage, err)
	}
	state, err := ctr.State(ctx)
	if err != nil {
		t.Fatalf("container state: %v", err)
	}
	if state.Running {
		t.Fatalf("container still running after %s", oneShotTimeout)
	}
	stdout, stderr := containerLogs(t, ctr.GetContainerID())
	return oneShot{exitCode: state.ExitCode, stdout: stdout, stderr: stderr}
}

// containerLogs returns a container's stdout and stderr separately.
func containerLogs(t *testing.T, id string) (stdout, stderr string) {
	t.Helper()
	cli := requireDocker(t)
	rc, err := cli.ContainerLogs(t.Context(), id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatalf("container logs: %v", err)
	}
	defer rc.Close()
	var out, errOut bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &errOut, rc); err != nil {
		t.Fatalf("demultiplex logs: %v", err)
	}
	return out.String(), errOut.String()
}

// inspect returns the container's current inspect data.
func inspect(t *testing.T, ctr *testcontainers.DockerContainer) *container.InspectResponse {
	t.Helper()
	info, err := ctr.Inspect(t.Context())
	if err != nil {
		t.Fatalf("inspect %s: %v", ctr.GetContainerID(), err)
	}
	return info
}

// waitExited polls until the container has stopped running (and is not
// being restarted) and returns its final state.
func waitExited(ctx context.Context, ctr *testcontainers.DockerContainer, timeout time.Duration) (*container.State, error) {
	var last *container.State
	err := poll(ctx, timeout, 100*time.Millisecond, func() error {
		info, err := ctr.Inspect(ctx)
		if err != nil {
			return err
		}
		last = info.State
		if last.Running || last.Restarting {
			return fmt.Errorf("container is %s", last.Status)
		}
		return nil
	})
	return last, err
}

// poll calls cond every interval until it returns nil or timeout passes; it
// returns cond's last error on timeout.
func poll(ctx context.Context, timeout, interval time.Duration, cond func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("after %s: %w", timeout, err)
		case <-tick.C:
		}
	}
}
