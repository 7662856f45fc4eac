package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Logs returns a container's stdout and stderr separately.
func Logs(t testing.TB, ctr *testcontainers.DockerContainer) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, err := logsOf(t.Context(), ctr.GetContainerID())
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

// Inspect returns the container's current inspect data.
func Inspect(t testing.TB, ctr *testcontainers.DockerContainer) *container.InspectResponse {
	t.Helper()
	info, err := ctr.Inspect(t.Context())
	if err != nil {
		t.Fatalf("inspect %s: %v", ctr.GetContainerID(), err)
	}
	return info
}

// ContainerIP is the container's address on its network, reachable from the
// host through the bridge.
func ContainerIP(t testing.TB, ctr *testcontainers.DockerContainer) string {
	t.Helper()
	ip, err := ctr.ContainerIP(t.Context())
	if err != nil || ip == "" {
		t.Fatalf("container IP: %q, %v", ip, err)
	}
	return ip
}

// ContainerAddr is host:port of the container's port on its network,
// reachable from the host through the bridge and the same after a restart.
func ContainerAddr(t testing.TB, ctr *testcontainers.DockerContainer, port string) string {
	t.Helper()
	return net.JoinHostPort(ContainerIP(t, ctr), port)
}

// WaitExited polls until the container has stopped running (and is not
// being restarted) and returns its final state.
func WaitExited(ctx context.Context, ctr *testcontainers.DockerContainer, timeout time.Duration) (*container.State, error) {
	var last *container.State
	err := Poll(ctx, timeout, 100*time.Millisecond, func() error {
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

// SendSIGTERM sends SIGTERM to the container's main process and returns the
// time just before it was sent. Docker treats a signal sent with `docker
// kill` as a stop: the restart policy does not bring the container back.
func SendSIGTERM(t testing.TB, ctr *testcontainers.DockerContainer) time.Time {
	t.Helper()
	at := time.Now()
	if _, err := Docker(t).ContainerKill(t.Context(), ctr.GetContainerID(), client.ContainerKillOptions{Signal: "SIGTERM"}); err != nil {
		t.Fatalf("send SIGTERM: %v", err)
	}
	return at
}

// RequireExitedZero waits until the container has exited and fails t unless
// its exit code is 0.
func RequireExitedZero(t testing.TB, ctr *testcontainers.DockerContainer, within time.Duration) {
	t.Helper()
	state, err := WaitExited(t.Context(), ctr, within)
	if err != nil {
		t.Fatalf("did not exit: %v", err)
	}
	if state.ExitCode != 0 {
		stdout, stderr := Logs(t, ctr)
		t.Fatalf("exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", state.ExitCode, Tail(stdout, 20), Tail(stderr, 20))
	}
}

// LogLine is one JSON log line of a service, with the fields the tests read.
type LogLine struct {
	Msg      string `json:"msg"`
	Remote   string `json:"remote"`
	Reason   string `json:"reason"`
	BytesIn  int64  `json:"bytes_in"`
	BytesOut int64  `json:"bytes_out"`
	Path     string `json:"path"`
	Status   int    `json:"status"`
	TS       string `json:"ts"`
}

// JSONLogs parses a container's JSON log lines (zap writes them on stderr)
// logged at or after since; the logs of a container hold every run since it
// was created.
func JSONLogs(t testing.TB, ctr *testcontainers.DockerContainer, since time.Time) []LogLine {
	t.Helper()
	_, stderr := Logs(t, ctr)
	var lines []LogLine
	sc := bufio.NewScanner(strings.NewReader(stderr))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var l LogLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			continue
		}
		// zap's ISO 8601 encoder: milliseconds, numeric zone.
		ts, err := time.Parse("2006-01-02T15:04:05.000Z0700", l.TS)
		if err != nil {
			t.Fatalf("log line time %q: %v", l.TS, err)
		}
		if !ts.Before(since.Truncate(time.Millisecond)) {
			lines = append(lines, l)
		}
	}
	return lines
}

// CrashAndRecover kills the container's main process with SIGKILL from the
// host, as the kernel's OOM killer or a crash would (a `docker kill` counts
// as a stop and is never restarted), then waits until the restart policy has
// started it again and its healthcheck passes. It returns the time from the
// kill to healthy.
func CrashAndRecover(t testing.TB, ctr *testcontainers.DockerContainer) time.Duration {
	t.Helper()
	info := Inspect(t, ctr)
	if !info.State.Running || info.State.Pid == 0 {
		t.Fatalf("container is %q, want running", info.State.Status)
	}
	restarts := info.RestartCount
	killed := time.Now()
	if err := syscall.Kill(info.State.Pid, syscall.SIGKILL); err != nil {
		if errors.Is(err, syscall.EPERM) {
			t.Skipf("cannot signal the container's process from here (%v): run the e2e tests as root", err)
		}
		t.Fatalf("kill -9 %d: %v", info.State.Pid, err)
	}
	var last *container.InspectResponse
	err := Poll(t.Context(), 90*time.Second, 100*time.Millisecond, func() error {
		i, err := ctr.Inspect(t.Context())
		if err != nil {
			return err
		}
		last = i
		if i.RestartCount <= restarts {
			return fmt.Errorf("not restarted yet (status %q, restart count %d)", i.State.Status, i.RestartCount)
		}
		if err := Unhealthy(i.State); err != nil {
			return fmt.Errorf("restarted, %w", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("after kill -9: %v", err)
	}
	took := time.Since(killed)
	t.Logf("restarted (restart count %d) and healthy %s after kill -9", last.RestartCount, took.Round(10*time.Millisecond))
	return took
}

// Unhealthy says why a container in state s is not running with its
// health check passing, or is nil when it is.
func Unhealthy(s *container.State) error {
	switch {
	case !s.Running:
		return fmt.Errorf("status %q", s.Status)
	case s.Health == nil || s.Health.Status != container.Healthy:
		return fmt.Errorf("health %+v", s.Health)
	}
	return nil
}

// RequireHealthy fails t unless the container has a health check (the
// compose file declares one for every service) and it passes; it returns
// the health state with its recent results.
func RequireHealthy(t testing.TB, ctr *testcontainers.DockerContainer) *container.Health {
	t.Helper()
	info := Inspect(t, ctr)
	name := strings.TrimPrefix(info.Name, "/")
	health := info.State.Health
	if health == nil {
		t.Fatalf("%s has no health check (expected one from docker-compose.yml)", name)
	}
	if health.Status != container.Healthy {
		t.Fatalf("%s: health status = %q, want %q (last results: %+v)", name, health.Status, container.Healthy, health.Log)
	}
	return health
}

// ExpectConfigError runs service's server with variable set to a bad value
// and fails t unless it exits with code 2 (a configuration error) and says
// which variable is wrong on stderr.
func ExpectConfigError(t testing.TB, service, variable, value string) {
	t.Helper()
	res := RunOneShot(t, Image(service), testcontainers.WithEnv(map[string]string{variable: value}))
	if res.ExitCode != 2 {
		t.Errorf("%s=%q: exit code = %d, want 2", variable, value, res.ExitCode)
	}
	if !strings.Contains(res.Stderr, variable) {
		t.Errorf("%s=%q: stderr does not name %s\n%s", variable, value, variable, res)
	}
}
