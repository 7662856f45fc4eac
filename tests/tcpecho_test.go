package tests_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
)

const (
	// shutdownTimeout is SHUTDOWN_TIMEOUT of the tcp-echo service in
	// docker-compose.yml.
	shutdownTimeout = 10 * time.Second
	// nonRootUser is the numeric user the images run as.
	nonRootUser = "65532:65532"
)

func TestTCPEcho_ContainerIsHealthy(t *testing.T) {
	s := sharedStack(t)

	state := inspect(t, s.tcpEcho).State
	if state.Health == nil {
		t.Fatal("tcp-echo has no health check (expected one from docker-compose.yml)")
	}
	if state.Health.Status != container.Healthy {
		t.Fatalf("health status = %q, want %q (last results: %+v)", state.Health.Status, container.Healthy, state.Health.Log)
	}
}

func TestTCPEcho_EchoesHelloWorldFromHost(t *testing.T) {
	s := sharedStack(t)

	conn := dial(t, s.echoAddr)
	expectEcho(t, conn, []byte("Hello, world"))
}

func TestTCPEcho_ClientReachesServerByServiceName(t *testing.T) {
	s := sharedStack(t)

	res := runOneShot(t, tcpEchoImage,
		testcontainers.WithEntrypoint("/tcp-echo-client"),
		testcontainers.WithEnv(map[string]string{"TCP_ECHO_ADDR": "tcp-echo:65432"}),
		network.WithNetworkName(nil, s.network),
	)
	if res.exitCode != 0 {
		t.Fatalf("tcp-echo-client exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", res.exitCode, res.stdout, res.stderr)
	}
	const want = "Received b'Hello, world'"
	if got := strings.Split(strings.TrimRight(res.stdout, "\n"), "\n"); !slices.Equal(got, []string{want}) {
		t.Fatalf("tcp-echo-client stdout = %q, want exactly the line %q\nstderr:\n%s", res.stdout, want, res.stderr)
	}
}

func TestTCPEcho_EchoesOneMiBPayloadByteForByte(t *testing.T) {
	s := sharedStack(t)

	payload := make([]byte, 1<<20)
	_, _ = rand.Read(payload)
	conn := dial(t, s.echoAddr)
	got, err := roundTrip(conn, payload, time.Now().Add(ioTimeout))
	if err != nil {
		t.Fatalf("1 MiB round trip: %v", err)
	}
	if i := firstDiff(got, payload); i >= 0 {
		t.Fatalf("echoed payload differs from sent payload at byte %d of %d", i, len(payload))
	}
}

func TestTCPEcho_EchoesHundredConcurrentClientsTheirOwnBytes(t *testing.T) {
	s := sharedStack(t)
	const clients = 100

	var (
		connected sync.WaitGroup // every client holds an open connection
		start     = make(chan struct{})
		done      sync.WaitGroup
		errs      = make([]error, clients)
	)
	connected.Add(clients)
	for i := range clients {
		done.Go(func() {
			errs[i] = func() error {
				var ok bool
				defer func() {
					if !ok {
						connected.Done()
					}
				}()
				payload := make([]byte, 16<<10)
				_, _ = rand.Read(payload)
				copy(payload, fmt.Sprintf("client %03d:", i))

				conn, err := netDial(t.Context(), s.echoAddr)
				if err != nil {
					return err
				}
				defer conn.Close()
				ok = true
				connected.Done()
				<-start

				got, err := roundTrip(conn, payload, time.Now().Add(ioTimeout))
				if err != nil {
					return err
				}
				if i := firstDiff(got, payload); i >= 0 {
					return fmt.Errorf("got other bytes back: differs at byte %d (%q...)", i, abbrev(got[i:]))
				}
				return nil
			}()
			if errs[i] != nil {
				errs[i] = fmt.Errorf("client %d: %w", i, errs[i])
			}
		})
	}
	connected.Wait()
	close(start)
	done.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

func TestTCPEcho_RunsAsNonRootWithReadOnlyRootFS(t *testing.T) {
	s := sharedStack(t)
	assertNonRootReadOnly(t, s.tcpEcho)
}

func TestTCPEcho_AdminServesReadyzAndMetrics(t *testing.T) {
	s := sharedStack(t)
	ctx := t.Context()

	code, body, err := httpGet(ctx, "http://"+s.adminAddr+"/readyz")
	if err != nil || code != 200 {
		t.Fatalf("GET /readyz = %d %q, %v; want 200", code, body, err)
	}

	// Make sure at least one connection was accepted even when this test
	// runs alone.
	expectEcho(t, dial(t, s.echoAddr), []byte("count me"))

	const metric = "netlab_tcp_echo_connections_accepted_total"
	err = poll(ctx, 10*time.Second, 100*time.Millisecond, func() error {
		code, body, err := httpGet(ctx, "http://"+s.adminAddr+"/metrics")
		if err != nil {
			return err
		}
		if code != 200 {
			return fmt.Errorf("GET /metrics = %d", code)
		}
		v, found, err := metricValue(body, metric)
		switch {
		case err != nil:
			return err
		case !found:
			return fmt.Errorf("/metrics has no %s", metric)
		case v < 1:
			return fmt.Errorf("%s = %v, want >= 1", metric, v)
		}
		t.Logf("%s = %v", metric, v)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTCPEcho_BadConfigExitsTwoNamingTheVariable(t *testing.T) {
	skipShort(t)

	res := runOneShot(t, tcpEchoImage, testcontainers.WithEnv(map[string]string{"MAX_CONNS": "abc"}))
	if res.exitCode != 2 {
		t.Errorf("exit code = %d, want 2", res.exitCode)
	}
	if !strings.Contains(res.stderr, "MAX_CONNS") {
		t.Errorf("stderr does not name MAX_CONNS\nstdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	}
}

// TestTCPEcho_GracefulShutdownOnSIGTERM stops the service, so it runs on a
// stack of its own.
func TestTCPEcho_GracefulShutdownOnSIGTERM(t *testing.T) {
	s := newStack(t, stackConfig{services: []string{tcpEchoService}})
	ctx := t.Context()

	conn := dial(t, s.echoAddr)
	expectEcho(t, conn, []byte("before SIGTERM"))

	sent := time.Now()
	if _, err := requireDocker(t).ContainerKill(ctx, s.tcpEcho.GetContainerID(), client.ContainerKillOptions{Signal: "SIGTERM"}); err != nil {
		t.Fatalf("send SIGTERM: %v", err)
	}

	// Readiness fails as soon as shutdown starts.
	err := poll(ctx, 5*time.Second, 50*time.Millisecond, func() error {
		code, _, err := httpGet(ctx, "http://"+s.adminAddr+"/readyz")
		if err == nil && code == 200 {
			return errors.New("/readyz still answers 200")
		}
		return nil
	})
	if err != nil {
		t.Errorf("after SIGTERM: %v", err)
	}

	// The open connection is still served...
	expectEcho(t, conn, []byte("after SIGTERM"))

	// ...but new ones are not.
	err = poll(ctx, 5*time.Second, 100*time.Millisecond, func() error {
		return noEchoOnNewConn(ctx, s.echoAddr)
	})
	if err != nil {
		t.Errorf("after SIGTERM: %v", err)
	}

	// The server closes the connection cleanly (FIN, not RST) once
	// SHUTDOWN_TIMEOUT has passed.
	const margin = 5 * time.Second
	if err := conn.SetReadDeadline(sent.Add(shutdownTimeout + margin)); err != nil {
		t.Fatal(err)
	}
	n, err := conn.Read(make([]byte, 1))
	switch {
	case errors.Is(err, io.EOF):
		t.Logf("server closed the connection %s after SIGTERM", time.Since(sent).Round(10*time.Millisecond))
	case err == nil:
		t.Fatalf("read %d unexpected bytes while waiting for the server to close", n)
	default:
		t.Fatalf("waiting for the server to close the connection (want io.EOF within %s): %v", shutdownTimeout+margin, err)
	}
	_ = conn.Close()

	state, err := waitExited(ctx, s.tcpEcho, 30*time.Second)
	if err != nil {
		t.Fatalf("tcp-echo did not exit: %v", err)
	}
	if state.ExitCode != 0 {
		stdout, stderr := containerLogs(t, s.tcpEcho.GetContainerID())
		t.Fatalf("tcp-echo exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", state.ExitCode, tail(stdout, 20), tail(stderr, 20))
	}
	t.Logf("tcp-echo exited with code 0 %s after SIGTERM", time.Since(sent).Round(10*time.Millisecond))
}

// firstDiff returns the index of the first byte where got and want differ
// (including a length difference), or -1 if they are equal.
func firstDiff(got, want []byte) int {
	if bytes.Equal(got, want) {
		return -1
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return i
		}
	}
	return min(len(got), len(want))
}
