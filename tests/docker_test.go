package tests_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
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
	// startedAt and finishedAt are when Docker started the container and
	// saw it exit.
	startedAt, finishedAt time.Time
}

// runOneShot runs a container from image until it exits and returns its exit
// code and output. The container is removed when t ends.
func runOneShot(t *testing.T, image string, opts ...testcontainers.ContainerCustomizer) oneShot {
	t.Helper()
	res, err := startOneShot(t, image, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// startOneShot is runOneShot for goroutines other than the test's own: it
// returns errors instead of failing t. The container is removed when t ends.
func startOneShot(t *testing.T, image string, opts ...testcontainers.ContainerCustomizer) (oneShot, error) {
	t.Helper()
	requireImages(t)
	ctx := t.Context()
	opts = append(opts,
		testcontainers.WithLabels(map[string]string{projectLabel: "netlab"}),
		testcontainers.WithWaitStrategy(wait.ForExit().WithExitTimeout(oneShotTimeout)),
	)
	ctr, err := testcontainers.Run(ctx, image, opts...)
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		return oneShot{}, fmt.Errorf("run %s: %w", image, err)
	}
	state, err := ctr.State(ctx)
	if err != nil {
		return oneShot{}, fmt.Errorf("container state: %w", err)
	}
	if state.Running {
		return oneShot{}, fmt.Errorf("container still running after %s", oneShotTimeout)
	}
	res := oneShot{exitCode: state.ExitCode}
	if res.startedAt, err = time.Parse(time.RFC3339Nano, state.StartedAt); err != nil {
		return oneShot{}, fmt.Errorf("container start time: %w", err)
	}
	if res.finishedAt, err = time.Parse(time.RFC3339Nano, state.FinishedAt); err != nil {
		return oneShot{}, fmt.Errorf("container finish time: %w", err)
	}
	if res.stdout, res.stderr, err = logsOf(ctx, ctr.GetContainerID()); err != nil {
		return oneShot{}, err
	}
	return res, nil
}

// String formats the result for failure messages.
func (r oneShot) String() string {
	return fmt.Sprintf("exit code %d\nstdout:\n%s\nstderr:\n%s", r.exitCode, tail(r.stdout, 30), tail(r.stderr, 30))
}

// containerLogs returns a container's stdout and stderr separately.
func containerLogs(t *testing.T, id string) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, err := logsOf(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return stdout, stderr
}

// logsOf returns a container's stdout and stderr separately.
func logsOf(ctx context.Context, id string) (stdout, stderr string, err error) {
	cli, err := dockerClient()
	if err != nil {
		return "", "", err
	}
	rc, err := cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return "", "", fmt.Errorf("container logs: %w", err)
	}
	defer rc.Close()
	var out, errOut bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &errOut, rc); err != nil {
		return "", "", fmt.Errorf("demultiplex logs: %w", err)
	}
	return out.String(), errOut.String(), nil
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

// assertNonRootReadOnly checks that ctr is configured to run as the
// non-root user on a read-only root filesystem, and that every process in it
// really runs as that user.
func assertNonRootReadOnly(t *testing.T, ctr *testcontainers.DockerContainer) {
	t.Helper()
	info := inspect(t, ctr)
	if info.Config.User != nonRootUser {
		t.Errorf("Config.User = %q, want %q", info.Config.User, nonRootUser)
	}
	if !info.HostConfig.ReadonlyRootfs {
		t.Error("HostConfig.ReadonlyRootfs = false, want true")
	}

	top, err := requireDocker(t).ContainerTop(t.Context(), ctr.GetContainerID(),
		client.ContainerTopOptions{Arguments: []string{"-o", "pid,uid,gid,comm"}})
	if err != nil {
		t.Fatalf("container top: %v", err)
	}
	uidCol, gidCol := slices.Index(top.Titles, "UID"), slices.Index(top.Titles, "GID")
	if uidCol < 0 || gidCol < 0 {
		t.Fatalf("container top titles %v: no UID or GID column", top.Titles)
	}
	if len(top.Processes) == 0 {
		t.Fatal("container top lists no processes")
	}
	for _, p := range top.Processes {
		if p[uidCol] != "65532" || p[gidCol] != "65532" {
			t.Errorf("process %v runs as uid %s gid %s, want 65532", p, p[uidCol], p[gidCol])
		}
	}
}
