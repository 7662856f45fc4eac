package tests_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/modules/compose"
	"github.com/testcontainers/testcontainers-go/wait"
)

const (
	// Container ports of tcp-echo (docker-compose.yml publishes both).
	tcpEchoPort      = "65432/tcp"
	tcpEchoAdminPort = "9090/tcp"
	// composeNetwork is the network's key in docker-compose.yml; compose
	// names it <project>_netlab.
	composeNetwork = "netlab"

	stackUpTimeout   = 3 * time.Minute
	stackDownTimeout = 3 * time.Minute
)

// stack is one running copy of docker-compose.yml under its own project name.
type stack struct {
	name    string
	compose *compose.DockerCompose
	// tcpEcho is the tcp-echo service's container.
	tcpEcho *testcontainers.DockerContainer
	// echoAddr and adminAddr are the host addresses of tcp-echo's published
	// echo and admin ports (random host ports on 127.0.0.1).
	echoAddr  string
	adminAddr string
	// network is the name Docker gave the compose network `netlab`.
	network string
}

// newStack starts a stack that belongs to t alone and is taken down when t
// ends. Use it for tests that stop or break a service.
func newStack(t *testing.T) *stack {
	t.Helper()
	requireImages(t)
	start := time.Now()
	s, err := startStack(t.Context(), projectName(t.Name()), func(down func() error) {
		t.Cleanup(func() {
			if err := down(); err != nil {
				t.Errorf("compose down: %v", err)
			}
		})
	})
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Logf("stack %s up in %s (echo %s, admin %s)", s.name, time.Since(start).Round(100*time.Millisecond), s.echoAddr, s.adminAddr)
	return s
}

var (
	sharedMu        sync.Mutex
	shared          *stack
	sharedErr       error
	sharedTeardowns []func() error
)

// sharedStack returns the stack shared by the read-only tests, starting it on
// first use. TestMain takes it down after the last test.
func sharedStack(t *testing.T) *stack {
	t.Helper()
	requireImages(t)
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil {
		ctx, cancel := context.WithTimeout(context.Background(), stackUpTimeout)
		defer cancel()
		start := time.Now()
		shared, sharedErr = startStack(ctx, projectName("shared"), func(down func() error) {
			sharedTeardowns = append(sharedTeardowns, down)
		})
		if sharedErr == nil {
			t.Logf("shared stack %s up in %s (echo %s, admin %s)", shared.name, time.Since(start).Round(100*time.Millisecond), shared.echoAddr, shared.adminAddr)
		}
	}
	if sharedErr != nil {
		t.Fatalf("start shared stack: %v", sharedErr)
	}
	return shared
}

// teardownSharedStacks takes down what sharedStack started.
func teardownSharedStacks() error {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	var errs []error
	for _, down := range slices.Backward(sharedTeardowns) {
		errs = append(errs, down())
	}
	sharedTeardowns = nil
	shared, sharedErr = nil, nil
	return errors.Join(errs...)
}

var unsafeProjectChars = regexp.MustCompile(`[^a-z0-9]+`)

// projectName makes a unique compose project name (lowercase letters, digits
// and dashes) from a hint such as the test name, so parallel runs and a
// user's `make up` never share containers or networks.
func projectName(hint string) string {
	hint = strings.Trim(unsafeProjectChars.ReplaceAllString(strings.ToLower(hint), "-"), "-")
	if len(hint) > 30 {
		hint = strings.TrimRight(hint[:30], "-")
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "netlab-e2e-" + hint + "-" + hex.EncodeToString(b[:])
}

// startStack brings up docker-compose.yml as project name with the e2e
// images, random host ports and a health-check wait. register receives the
// teardown before Up's error is checked, so a half-started stack is removed
// too.
func startStack(ctx context.Context, name string, register func(down func() error)) (*stack, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	c, err := compose.NewDockerComposeWith(
		compose.WithStackFiles(filepath.Join(root, "docker-compose.yml")),
		compose.StackIdentifier(name),
	)
	if err != nil {
		return nil, fmt.Errorf("compose %s: %w", name, err)
	}
	c.WithEnv(map[string]string{
		// The image built by requireImages; it exists, so compose does
		// not build (pull_policy missing) even though the file has build:.
		"NETLAB_TAG": imageTag,
		// Empty host port: Docker picks a free one on 127.0.0.1.
		"TCP_ECHO_PUBLISH":       "127.0.0.1:",
		"TCP_ECHO_ADMIN_PUBLISH": "127.0.0.1:",
	}).WaitForService("tcp-echo", wait.ForHealthCheck().WithStartupTimeout(90*time.Second))

	register(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), stackDownTimeout)
		defer cancel()
		err := c.Down(ctx, compose.RemoveOrphans(true), compose.RemoveVolumes(true))
		return errors.Join(err, c.Close())
	})
	if err := c.Up(ctx, compose.Wait(true)); err != nil {
		return nil, fmt.Errorf("compose up %s: %w", name, err)
	}

	s := &stack{name: name, compose: c}
	if s.tcpEcho, err = c.ServiceContainer(ctx, "tcp-echo"); err != nil {
		return nil, fmt.Errorf("tcp-echo container: %w", err)
	}
	if s.echoAddr, err = hostAddr(ctx, s.tcpEcho, tcpEchoPort); err != nil {
		return nil, err
	}
	if s.adminAddr, err = hostAddr(ctx, s.tcpEcho, tcpEchoAdminPort); err != nil {
		return nil, err
	}
	if s.network, err = composeNetworkName(ctx, s.tcpEcho, name); err != nil {
		return nil, err
	}
	return s, nil
}

// hostAddr returns host:port under which the container's port is published.
func hostAddr(ctx context.Context, ctr *testcontainers.DockerContainer, port string) (string, error) {
	host, err := ctr.Host(ctx)
	if err != nil {
		return "", fmt.Errorf("container host: %w", err)
	}
	p, err := ctr.MappedPort(ctx, port)
	if err != nil {
		return "", fmt.Errorf("mapped port %s: %w", port, err)
	}
	return net.JoinHostPort(host, p.Port()), nil
}

// composeNetworkName finds the Docker network compose created for the
// project's `netlab` network among the container's networks.
func composeNetworkName(ctx context.Context, ctr *testcontainers.DockerContainer, project string) (string, error) {
	info, err := ctr.Inspect(ctx)
	if err != nil {
		return "", fmt.Errorf("inspect: %w", err)
	}
	want := project + "_" + composeNetwork
	var names []string
	for n := range info.NetworkSettings.Networks {
		if n == want {
			return n, nil
		}
		names = append(names, n)
	}
	return "", fmt.Errorf("tcp-echo is not on network %s (networks: %v)", want, names)
}
