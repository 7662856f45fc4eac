package tests_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/tests/e2e"
)

const (
	// tcpEchoPort is tcp-echo's container port (docker-compose.yml
	// publishes it and the admin port).
	tcpEchoPort = "65432"
	// shutdownTimeout is SHUTDOWN_TIMEOUT of the tcp-echo service in
	// docker-compose.yml.
	shutdownTimeout = 10 * time.Second
)

func TestTCPEcho_ContainerIsHealthy(t *testing.T) {
	s := e2e.SharedStack(t)
	e2e.RequireHealthy(t, s.Service(e2e.TCPEcho).Container())
}

func TestTCPEcho_EchoesHelloWorldFromHost(t *testing.T) {
	s := e2e.SharedStack(t)

	conn := e2e.Dial(t, s.Service(e2e.TCPEcho).Addr(tcpEchoPort))
	e2e.ExpectEcho(t, conn, []byte("Hello, world"))
}

func TestTCPEcho_ClientReachesServerByServiceName(t *testing.T) {
	s := e2e.SharedStack(t)

	// Hardened like the compose tcp-echo-client service.
	res := e2e.RunOneShot(t, e2e.Image(e2e.TCPEcho),
		e2e.ClientOpts(s.Network, "/tcp-echo-client", map[string]string{"TCP_ECHO_ADDR": "tcp-echo:65432"})...)
	if res.ExitCode != 0 {
		t.Fatalf("tcp-echo-client: %s", res)
	}
	const want = "Received b'Hello, world'"
	if got := strings.Split(strings.TrimRight(res.Stdout, "\n"), "\n"); !slices.Equal(got, []string{want}) {
		t.Fatalf("tcp-echo-client stdout = %q, want exactly the line %q\nstderr:\n%s", res.Stdout, want, res.Stderr)
	}
}

func TestTCPEcho_EchoesOneMiBPayloadByteForByte(t *testing.T) {
	s := e2e.SharedStack(t)

	payload := make([]byte, 1<<20)
	_, _ = rand.Read(payload)
	conn := e2e.Dial(t, s.Service(e2e.TCPEcho).Addr(tcpEchoPort))
	got, err := e2e.RoundTrip(conn, payload, time.Now().Add(e2e.IOTimeout))
	if err != nil {
		t.Fatalf("1 MiB round trip: %v", err)
	}
	if i := e2e.FirstDiff(got, payload); i >= 0 {
		t.Fatalf("echoed payload differs from sent payload at byte %d of %d", i, len(payload))
	}
}

func TestTCPEcho_EchoesHundredConcurrentClientsTheirOwnBytes(t *testing.T) {
	addr := e2e.SharedStack(t).Service(e2e.TCPEcho).Addr(tcpEchoPort)
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

				conn, err := e2e.DialContext(t.Context(), addr)
				if err != nil {
					return err
				}
				defer conn.Close()
				ok = true
				connected.Done()
				<-start

				got, err := e2e.RoundTrip(conn, payload, time.Now().Add(e2e.IOTimeout))
				if err != nil {
					return err
				}
				if i := e2e.FirstDiff(got, payload); i >= 0 {
					return fmt.Errorf("got other bytes back: differs at byte %d (%q...)", i, e2e.Abbrev(got[i:]))
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
	s := e2e.SharedStack(t)
	e2e.AssertNonRootReadOnly(t, s.Service(e2e.TCPEcho).Container())
}

func TestTCPEcho_AdminServesReadyzAndMetrics(t *testing.T) {
	echo := e2e.SharedStack(t).Service(e2e.TCPEcho)

	code, body, err := e2e.HTTPGet(t.Context(), "http://"+echo.AdminAddr()+"/readyz")
	if err != nil || code != 200 {
		t.Fatalf("GET /readyz = %d %q, %v; want 200", code, body, err)
	}

	// Make sure at least one connection was accepted even when this test
	// runs alone.
	e2e.ExpectEcho(t, e2e.Dial(t, echo.Addr(tcpEchoPort)), []byte("count me"))

	const metric = "netlab_tcp_echo_connections_accepted_total"
	v := e2e.WaitMetric(t, echo.AdminAddr(), 1, metric)
	t.Logf("%s = %v", metric, v)
}

func TestTCPEcho_BadConfigExitsTwoNamingTheVariable(t *testing.T) {
	e2e.ExpectConfigError(t, e2e.TCPEcho, "MAX_CONNS", "abc")
}

// TestTCPEcho_GracefulShutdownOnSIGTERM stops the service, so it runs on a
// stack of its own.
func TestTCPEcho_GracefulShutdownOnSIGTERM(t *testing.T) {
	echo := e2e.NewService(t, e2e.TCPEcho)
	ctx := t.Context()

	conn := e2e.Dial(t, echo.Addr(tcpEchoPort))
	e2e.ExpectEcho(t, conn, []byte("before SIGTERM"))

	sent := e2e.SendSIGTERM(t, echo.Container())

	// Readiness fails as soon as shutdown starts.
	err := e2e.Poll(ctx, 5*time.Second, 50*time.Millisecond, func() error {
		code, _, err := e2e.HTTPGet(ctx, "http://"+echo.AdminAddr()+"/readyz")
		if err == nil && code == 200 {
			return errors.New("/readyz still answers 200")
		}
		return nil
	})
	if err != nil {
		t.Errorf("after SIGTERM: %v", err)
	}

	// The open connection is still served...
	e2e.ExpectEcho(t, conn, []byte("after SIGTERM"))

	// ...but new ones are not.
	err = e2e.Poll(ctx, 5*time.Second, 100*time.Millisecond, func() error {
		return noEchoOnNewConn(ctx, echo.Addr(tcpEchoPort))
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

	e2e.RequireExitedZero(t, echo.Container(), exitWithin)
	t.Logf("tcp-echo exited with code 0 %s after SIGTERM", time.Since(sent).Round(10*time.Millisecond))
}

// noEchoOnNewConn returns nil if a new connection to addr is refused, reset
// or closed without an echo, i.e. the server no longer accepts. Through
// Docker's userland proxy the dial itself succeeds and the proxy closes the
// connection when it cannot reach the container.
func noEchoOnNewConn(ctx context.Context, addr string) error {
	conn, err := e2e.DialWithin(ctx, addr, 2*time.Second)
	if err != nil {
		return nil // refused
	}
	defer conn.Close()
	msg := []byte("are you there?")
	got, err := e2e.RoundTrip(conn, msg, time.Now().Add(2*time.Second))
	switch {
	case err == nil && bytes.Equal(got, msg):
		return errors.New("a new connection was accepted and echoed")
	case err == nil:
		return fmt.Errorf("a new connection got %q", got)
	case e2e.IsClosedByPeer(err):
		return nil
	default:
		return fmt.Errorf("new connection: %w", err)
	}
}
