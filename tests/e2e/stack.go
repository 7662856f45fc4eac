package e2e

import (
	"cmp"
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
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/modules/compose"
	"github.com/testcontainers/testcontainers-go/wait"
)

const (
	// AdminPort is the container port of every service's admin listener.
	AdminPort = "9090/tcp"
	// composeNetwork is the network's key in docker-compose.yml; compose
	// names it <project>_netlab.
	composeNetwork = "netlab"

	stackUpTimeout   = 3 * time.Minute
	stackDownTimeout = 3 * time.Minute
)

// DefaultServices are the services of docker-compose.yml a stack runs when
// StackConfig names none (the clients are in the tools profile and run as
// one-shot containers; the peers run in stacks of their own, and the
// dashboard shows them as not found here).
var DefaultServices = []string{TCPEcho, UDPResponder, HTTPHello, Dashboard}

// Stack is one running copy of docker-compose.yml under its own project
// name, with every port published on a free host port of 127.0.0.1.
type Stack struct {
	// Name is the compose project name.
	Name string
	// Network is the name Docker gave the compose network `netlab`.
	Network  string
	compose  *compose.DockerCompose
	services map[string]*Service
}

// Service is one compose service of a running stack.
type Service struct {
	Name string
	// Containers are its replicas, in compose's numbering (replica 1
	// first).
	Containers []*testcontainers.DockerContainer
	// ports maps the first replica's published container ports ("9090/tcp")
	// to their host addresses, as they were when the stack came up.
	ports map[string]string
}

// Service returns the running service name; asking for one the stack was
// not started with is a mistake in the test, and panics.
func (s *Stack) Service(name string) *Service {
	svc, ok := s.services[name]
	if !ok {
		panic(fmt.Sprintf("stack %s runs no service %q (it runs %v)", s.Name, name, slices.Sorted(maps.Keys(s.services))))
	}
	return svc
}

// Container is the service's (first) container.
func (s *Service) Container() *testcontainers.DockerContainer { return s.Containers[0] }

// Addr is the host address (127.0.0.1 and a free port) under which the first
// replica's container port is published: "65432" or "65432/tcp" for TCP,
// "12345/udp" for UDP. A port the service does not publish is a mistake in
// the test, and panics. After a restart the host port may change; the
// container's own address (ContainerIP) does not.
func (s *Service) Addr(port string) string {
	if !strings.Contains(port, "/") {
		port += "/tcp"
	}
	addr, ok := s.ports[port]
	if !ok {
		panic(fmt.Sprintf("%s publishes no port %s (it publishes %v)", s.Name, port, slices.Sorted(maps.Keys(s.ports))))
	}
	return addr
}

// AdminAddr is the host address of the service's admin listener
// (/healthz, /readyz, /metrics, /version).
func (s *Service) AdminAddr() string { return s.Addr(AdminPort) }

// String describes the stack's services and host addresses for logs.
func (s *Stack) String() string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(s.services)) {
		svc := s.services[name]
		part := name
		for _, port := range slices.Sorted(maps.Keys(svc.ports)) {
			part += " " + port + "=" + svc.ports[port]
		}
		if n := len(svc.Containers); n > 1 {
			part += fmt.Sprintf(" (%d containers)", n)
		}
		parts = append(parts, part)
	}
	return s.Name + " (" + strings.Join(parts, ", ") + ")"
}

// StackConfig chooses what a stack runs.
type StackConfig struct {
	// Services to start; nil means DefaultServices.
	Services []string
	// Env is added to the environment docker-compose.yml is read with.
	Env map[string]string
	// Replicas runs that many containers of a service (compose's scale,
	// set through an override file: the compose module has no scale
	// option). Every replica gets its own free host ports.
	Replicas map[string]int
}

// NewService starts a stack of the one service name (NewStack) and
// returns that service.
func NewService(t *testing.T, name string) *Service {
	t.Helper()
	return NewStack(t, StackConfig{Services: []string{name}}).Service(name)
}

// NewStack starts a stack that belongs to t alone and is taken down when t
// ends. Use it for tests that stop or break a service.
func NewStack(t *testing.T, cfg StackConfig) *Stack {
	t.Helper()
	RequireImages(t)
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
	shared          *Stack
	sharedErr       error
	sharedTeardowns []func() error
)

// SharedStack returns the stack of DefaultServices shared by the tests that
// only read from it, starting it on first use. TestMain takes it down with
// TeardownSharedStacks after the last test.
func SharedStack(t *testing.T) *Stack {
	t.Helper()
	RequireImages(t)
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil {
		ctx, cancel := context.WithTimeout(context.Background(), stackUpTimeout)
		defer cancel()
		start := time.Now()
		shared, sharedErr = startStack(ctx, projectName("shared"), StackConfig{}, func(down func() error) {
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

// TeardownSharedStacks takes down what SharedStack started.
func TeardownSharedStacks() error {
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

// startStack brings up cfg.Services of docker-compose.yml as project name,
// with the tests' images, free host ports and a health-check wait. register
// receives the teardown before Up's error is checked, so a half-started
// stack is removed too.
func startStack(ctx context.Context, name string, cfg StackConfig, register func(down func() error)) (*Stack, error) {
	services := cfg.Services
	if services == nil {
		services = DefaultServices
	}
	c, overrideDir, err := newCompose(name, cfg)
	if err != nil {
		return nil, err
	}
	for _, svc := range services {
		// tcp-echo's and udp-responder's healthchecks exercise the real
		// protocol (an echo, a UDP probe); the others ask /readyz, which
		// answers once the listener is open. Healthy means serving.
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

	s := &Stack{Name: name, compose: c, services: map[string]*Service{}}
	for _, svc := range services {
		if s.services[svc], err = runningService(ctx, name, svc); err != nil {
			return nil, err
		}
	}
	if s.Network, err = composeNetworkName(ctx, s.services[services[0]].Container(), name); err != nil {
		return nil, err
	}
	return s, nil
}

// newCompose prepares docker-compose.yml (plus a scale override when cfg
// has replicas, written to a temporary directory it returns) for project
// name.
func newCompose(name string, cfg StackConfig) (*compose.DockerCompose, string, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, "", err
	}
	files := []string{filepath.Join(root, "docker-compose.yml")}
	var overrideDir string
	if len(cfg.Replicas) > 0 {
		if overrideDir, err = os.MkdirTemp("", "netlab-e2e-compose-"); err != nil {
			return nil, "", fmt.Errorf("override dir: %w", err)
		}
		override, err := writeScaleOverride(overrideDir, cfg.Replicas)
		if err != nil {
			return nil, "", errors.Join(err, os.RemoveAll(overrideDir))
		}
		// The first file stays the project directory, so env_file and build
		// paths still resolve against the repository root.
		files = append(files, override)
	}
	c, err := compose.NewDockerComposeWith(compose.WithStackFiles(files...), compose.StackIdentifier(name))
	if err != nil {
		return nil, "", errors.Join(fmt.Errorf("compose %s: %w", name, err), os.RemoveAll(overrideDir))
	}
	// The images RequireImages found or built: they exist, so compose does
	// not build (pull_policy missing) even though the file has build:.
	env := composeImageEnv()
	// Empty host port: Docker picks a free one on 127.0.0.1.
	for _, v := range []string{"TCP_ECHO_PUBLISH", "TCP_ECHO_ADMIN_PUBLISH", "UDP_RESPONDER_PUBLISH", "UDP_RESPONDER_ADMIN_PUBLISH",
		"HTTP_HELLO_PUBLISH", "HTTP_HELLO_ADMIN_PUBLISH", "PEER_ADMIN_PUBLISH", "DASHBOARD_PUBLISH", "DASHBOARD_ADMIN_PUBLISH"} {
		env[v] = "127.0.0.1:"
	}
	maps.Copy(env, cfg.Env)
	c.WithEnv(env)
	return c, overrideDir, nil
}

// runningService finds every container (replica) of a compose service, in
// compose's numbering, and the host addresses of the first one's ports.
func runningService(ctx context.Context, project, service string) (*Service, error) {
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
	if len(list.Items) == 0 {
		return nil, fmt.Errorf("no %s container in %s", service, project)
	}
	number := func(c container.Summary) int {
		n, _ := strconv.Atoi(c.Labels["com.docker.compose.container-number"])
		return n
	}
	slices.SortFunc(list.Items, func(a, b container.Summary) int { return cmp.Compare(number(a), number(b)) })
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return nil, err
	}
	defer provider.Close()
	svc := &Service{Name: service}
	for _, c := range list.Items {
		ctr, err := provider.ContainerFromType(ctx, c)
		if err != nil {
			return nil, err
		}
		svc.Containers = append(svc.Containers, ctr)
	}
	if svc.ports, err = publishedPorts(ctx, svc.Container()); err != nil {
		return nil, fmt.Errorf("%s: %w", service, err)
	}
	return svc, nil
}

// publishedPorts maps each published container port ("9090/tcp") to the
// host address it is published under.
func publishedPorts(ctx context.Context, ctr *testcontainers.DockerContainer) (map[string]string, error) {
	host, err := ctr.Host(ctx)
	if err != nil {
		return nil, fmt.Errorf("container host: %w", err)
	}
	info, err := ctr.Inspect(ctx)
	if err != nil {
		return nil, fmt.Errorf("inspect: %w", err)
	}
	ports := map[string]string{}
	for port, bindings := range info.NetworkSettings.Ports {
		if len(bindings) > 0 {
			ports[port.String()] = net.JoinHostPort(host, bindings[0].HostPort)
		}
	}
	return ports, nil
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

// HostAddr returns host:port under which the container's port is published,
// looked up now (a restart may publish it on another host port).
func HostAddr(ctx context.Context, ctr *testcontainers.DockerContainer, port string) (string, error) {
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
