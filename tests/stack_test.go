package tests_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/modules/compose"
	"github.com/testcontainers/testcontainers-go/wait"
)

const (
	// Container ports of tcp-echo (docker-compose.yml publishes both).
	tcpEchoPort      = "65432/tcp"
	tcpEchoAdminPort = "9090/tcp"
	// udpResponderAdminPort is udp-responder's admin port. Its UDP port is
	// published too, but the tests reach it from containers on the network.
	udpResponderAdminPort = "9090/tcp"
	// Container ports of http-hello (docker-compose.yml publishes both).
	httpHelloPort      = "8000/tcp"
	httpHelloAdminPort = "9090/tcp"
	// composeNetwork is the network's key in docker-compose.yml; compose
	// names it <project>_netlab.
	composeNetwork = "netlab"

	// Service names in docker-compose.yml.
	tcpEchoService      = "tcp-echo"
	udpResponderService = "udp-responder"
	httpHelloService    = "http-hello"

	stackUpTimeout   = 3 * time.Minute
	stackDownTimeout = 3 * time.Minute
)

// allServices are the services of docker-compose.yml that run by default
// (the clients are in the tools profile and run as one-shot containers).
var allServices = []string{tcpEchoService, udpResponderService, httpHelloService}

// stack is one running copy of docker-compose.yml under its own project name.
// Only the fields of the services it was started with are set.
type stack struct {
	name    string
	compose *compose.DockerCompose
	// network is the name Docker gave the compose network `netlab`.
	network string

	// tcpEcho is the tcp-echo service's container.
	tcpEcho *testcontainers.DockerContainer
	// echoAddr and adminAddr are the host addresses of tcp-echo's published
	// echo and admin ports (random host ports on 127.0.0.1).
	echoAddr  string
	adminAddr string

	// udpResponder is the udp-responder service's container.
	udpResponder *testcontainers.DockerContainer
	// udpAdminAddr is the host address of udp-responder's admin port.
	udpAdminAddr string

	// httpHello is the (first) http-hello container.
	httpHello *testcontainers.DockerContainer
	// httpAddr and httpAdminAddr are the host addresses of that container's
	// published HTTP and admin ports.
	httpAddr      string
	httpAdminAddr string

	// peers are the peer service's containers (one per replica).
	peers []*testcontainers.DockerContainer
}

// String describes the stack's host addresses for logs.
func (s *stack) String() string {
	var parts []string
	if s.tcpEcho != nil {
		parts = append(parts, "tcp-echo "+s.echoAddr, "tcp-echo admin "+s.adminAddr)
	}
	if s.udpResponder != nil {
		parts = append(parts, "udp-responder admin "+s.udpAdminAddr)
	}
	if s.httpHello != nil {
		parts = append(parts, "http-hello "+s.httpAddr, "http-hello admin "+s.httpAdminAddr)
	}
	if len(s.peers) > 0 {
		parts = append(parts, fmt.Sprintf("%d peer nodes", len(s.peers)))
	}
	return s.name + " (" + strings.Join(parts, ", ") + ")"
}

// stackConfig chooses what a stack runs.
type stackConfig struct {
	// services to start; nil means allServices.
	services []string
	// env is added to the environment docker-compose.yml is read with.
	env map[string]string
	// replicas runs that many containers of a service (compose's scale,
	// set through an override file: the compose module has no scale
	// option). Every replica gets its own random host ports.
	replicas map[string]int
}

// newStack starts a stack that belongs to t alone and is taken down when t
// ends. Use it for tests that stop or break a service. With no services, it
// runs every service.
func newStack(t *testing.T, cfg stackConfig) *stack {
	t.Helper()
	requireImages(t)
	start := time.Now()
	s, err := startStack(t.Context(), projectName(t.Name()), cfg, func(down func() error) {
		t.Cleanup(func() {
			if err := down(); err != nil {
				t.Errorf("compose down: %v", err)
			}
		})
	})
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Logf("stack %s up in %s", s, time.Since(start).Round(100*time.Millisecond))
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
		shared, sharedErr = startStack(ctx, projectName("shared"), stackConfig{}, func(down func() error) {
			sharedTeardowns = append(sharedTeardowns, down)
		})
		if sharedErr == nil {
			t.Logf("shared stack %s up in %s", shared, time.Since(start).Round(100*time.Millisecond))
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

// startStack brings up cfg.services of docker-compose.yml as project name
// with the e2e images, random host ports and a health-check wait. register
// receives the teardown before Up's error is checked, so a half-started stack
// is removed too.
func startStack(ctx context.Context, name string, cfg stackConfig, register func(down func() error)) (*stack, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	services := cfg.services
	if services == nil {
		services = allServices
	}
	files := []string{filepath.Join(root, "docker-compose.yml")}
	var overrideDir string
	if len(cfg.replicas) > 0 {
		if overrideDir, err = os.MkdirTemp("", "netlab-e2e-compose-"); err != nil {
			return nil, fmt.Errorf("override dir: %w", err)
		}
		override, err := writeScaleOverride(overrideDir, cfg.replicas)
		if err != nil {
			_ = os.RemoveAll(overrideDir)
			return nil, err
		}
		// The first file stays the project directory, so env_file and build
		// paths still resolve against the repository root.
		files = append(files, override)
	}
	c, err := compose.NewDockerComposeWith(
		compose.WithStackFiles(files...),
		compose.StackIdentifier(name),
	)
	if err != nil {
		_ = os.RemoveAll(overrideDir)
		return nil, fmt.Errorf("compose %s: %w", name, err)
	}
	env := map[string]string{
		// The images built by requireImages; they exist, so compose does
		// not build (pull_policy missing) even though the file has build:.
		"NETLAB_TAG": imageTag,
		// Empty host port: Docker picks a free one on 127.0.0.1.
		"TCP_ECHO_PUBLISH":            "127.0.0.1:",
		"TCP_ECHO_ADMIN_PUBLISH":      "127.0.0.1:",
		"UDP_RESPONDER_PUBLISH":       "127.0.0.1:",
		"UDP_RESPONDER_ADMIN_PUBLISH": "127.0.0.1:",
		"HTTP_HELLO_PUBLISH":          "127.0.0.1:",
		"HTTP_HELLO_ADMIN_PUBLISH":    "127.0.0.1:",
		"PEER_ADMIN_PUBLISH":          "127.0.0.1:",
	}
	maps.Copy(env, cfg.env)
	c.WithEnv(env)
	for _, svc := range services {
		// tcp-echo's and udp-responder's healthchecks exercise the real
		// protocol (an echo, a UDP probe); http-hello's asks /readyz, which
		// answers once the HTTP listener is open. Healthy means serving.
		c.WaitForService(svc, wait.ForHealthCheck().WithStartupTimeout(90*time.Second))
	}

	register(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), stackDownTimeout)
		defer cancel()
		err := c.Down(ctx, compose.RemoveOrphans(true), compose.RemoveVolumes(true))
		return errors.Join(err, c.Close(), os.RemoveAll(overrideDir))
	})
	if err := c.Up(ctx, compose.RunServices(services...), compose.Wait(true)); err != nil {
		return nil, fmt.Errorf("compose up %s: %w", name, err)
	}

	s := &stack{name: name, compose: c}
	var member *testcontainers.DockerContainer
	if slices.Contains(services, tcpEchoService) {
		if s.tcpEcho, err = c.ServiceContainer(ctx, tcpEchoService); err != nil {
			return nil, fmt.Errorf("%s container: %w", tcpEchoService, err)
		}
		if s.echoAddr, err = hostAddr(ctx, s.tcpEcho, tcpEchoPort); err != nil {
			return nil, err
		}
		if s.adminAddr, err = hostAddr(ctx, s.tcpEcho, tcpEchoAdminPort); err != nil {
			return nil, err
		}
		member = s.tcpEcho
	}
	if slices.Contains(services, udpResponderService) {
		if s.udpResponder, err = c.ServiceContainer(ctx, udpResponderService); err != nil {
			return nil, fmt.Errorf("%s container: %w", udpResponderService, err)
		}
		if s.udpAdminAddr, err = hostAddr(ctx, s.udpResponder, udpResponderAdminPort); err != nil {
			return nil, err
		}
		member = s.udpResponder
	}
	if slices.Contains(services, httpHelloService) {
		if s.httpHello, err = c.ServiceContainer(ctx, httpHelloService); err != nil {
			return nil, fmt.Errorf("%s container: %w", httpHelloService, err)
		}
		if s.httpAddr, err = hostAddr(ctx, s.httpHello, httpHelloPort); err != nil {
			return nil, err
		}
		if s.httpAdminAddr, err = hostAddr(ctx, s.httpHello, httpHelloAdminPort); err != nil {
			return nil, err
		}
		member = s.httpHello
	}
	if slices.Contains(services, peerService) {
		if s.peers, err = serviceContainers(ctx, name, peerService); err != nil {
			return nil, err
		}
		member = s.peers[0]
	}
	if member == nil {
		return nil, fmt.Errorf("stack %s: no known service in %v", name, services)
	}
	if s.network, err = composeNetworkName(ctx, member, name); err != nil {
		return nil, err
	}
	return s, nil
}

// serviceContainers returns every container (replica) of a compose service.
func serviceContainers(ctx context.Context, project, service string) ([]*testcontainers.DockerContainer, error) {
	cli, err := dockerClient()
	if err != nil {
		return nil, err
	}
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{
		Filters: make(client.Filters).Add("label", "com.docker.compose.project="+project, "com.docker.compose.service="+service),
	})
	if err != nil {
		return nil, fmt.Errorf("list %s containers: %w", service, err)
	}
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return nil, err
	}
	defer provider.Close()
	var out []*testcontainers.DockerContainer
	for _, c := range list.Items {
		ctr, err := provider.ContainerFromType(ctx, c)
		if err != nil {
			return nil, err
		}
		out = append(out, ctr)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s container in %s", service, project)
	}
	return out, nil
}

// writeScaleOverride writes a compose override file into dir that sets the
// scale of each service in replicas, and returns its path.
func writeScaleOverride(dir string, replicas map[string]int) (string, error) {
	var b strings.Builder
	b.WriteString("services:\n")
	for _, svc := range slices.Sorted(maps.Keys(replicas)) {
		fmt.Fprintf(&b, "  %s:\n    scale: %d\n", svc, replicas[svc])
	}
	path := filepath.Join(dir, "docker-compose.scale.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return "", fmt.Errorf("write compose override: %w", err)
	}
	return path, nil
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
	return "", fmt.Errorf("%s is not on network %s (networks: %v)", strings.TrimPrefix(info.Name, "/"), want, names)
}
