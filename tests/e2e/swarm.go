package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

const (
	// StackLabel is the label docker stack deploy puts on a stack's
	// services, containers, networks and volumes.
	StackLabel = "com.docker.stack.namespace"
	// gwBridge is the bridge network docker swarm init creates and
	// docker swarm leave keeps.
	gwBridge = "docker_gwbridge"
	// swarmCmdTimeout bounds one docker command (deploy, scale, update,
	// stack removal).
	swarmCmdTimeout = 4 * time.Minute
	// swarmWait is how long deploy/swarm/up.sh and down.sh wait, seconds.
	swarmWait = "150"
)

// DockerCLI runs the docker command with args and returns its standard
// output, trimmed; the error carries its standard error. Swarm stacks are
// a feature of the command (it reads the compose file), not of the API.
func DockerCLI(ctx context.Context, args ...string) (string, error) {
	return runCmd(ctx, nil, "docker", args...)
}

// runCmd runs name with args and env added to the environment.
func runCmd(ctx context.Context, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, swarmCmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w\n%s%s", name, strings.Join(args, " "), err, Tail(string(out), 20), Tail(stderr.String(), 20))
	}
	return strings.TrimSpace(string(out)), nil
}

// madeSwarm is set once this process has made the engine a swarm: a
// later RequireSwarm then uses that swarm, which still leaves at exit.
var madeSwarm atomic.Bool

// RequireSwarm makes sure the engine is a swarm manager for the test. An
// engine in no swarm becomes a single-node swarm, which it leaves (with
// the gateway bridge it created) after the last test, when TestMain calls
// RunAtExit, or when the tests are interrupted; an engine already in one
// is used as it is, and left in it.
//
// Leaving waits for the end of the run because Docker 20.10 forgets the
// DNS names of every container running across a swarm leave: the
// containers of the stacks other tests share would no longer find each
// other by service name.
func RequireSwarm(t testing.TB) {
	t.Helper()
	ctx := t.Context()
	state, err := DockerCLI(ctx, "info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}")
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case state == "active true" && madeSwarm.Load():
		t.Log("the engine is the single-node swarm this run made; it leaves after the last test")
		return
	case state == "active true":
		t.Log("the engine is a swarm manager already: the stack is deployed into that swarm, which stays")
		return
	case state != "inactive false":
		t.Fatalf("swarm state %q: want a manager, or no swarm (the test then makes one)", state)
	}
	_, gwErr := DockerCLI(ctx, "network", "inspect", gwBridge)
	if _, err := DockerCLI(ctx, "swarm", "init", "--advertise-addr", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	madeSwarm.Store(true)
	t.Log("made the engine a single-node swarm; it leaves after the last test")
	AtExitEvenIfInterrupted(func() error { return leaveSwarm(gwErr != nil) })
}

// leaveSwarm leaves the swarm this run made, and removes the gateway
// bridge when swarm init created it.
func leaveSwarm(removeGateway bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), swarmCmdTimeout)
	defer cancel()
	if _, err := DockerCLI(ctx, "swarm", "leave", "--force"); err != nil {
		return fmt.Errorf("leave the swarm the tests made: %w", err)
	}
	if state, err := DockerCLI(ctx, "info", "--format", "{{.Swarm.LocalNodeState}}"); err != nil || state != "inactive" {
		return fmt.Errorf("after leaving the swarm the tests made, the engine is %q (%v), want inactive", state, err)
	}
	if removeGateway {
		if _, err := DockerCLI(ctx, "network", "rm", gwBridge); err != nil {
			return fmt.Errorf("remove %s, which swarm init made: %w", gwBridge, err)
		}
	}
	return nil
}

// SwarmStack is deploy/swarm/stack.yml deployed under a name of its own.
type SwarmStack struct {
	// Name is the stack's name; its services are <Name>_<service>.
	Name string
	// Network is its attachable overlay network, for client containers.
	Network string
	script  string
}

// DeploySwarmStack deploys the stack with deploy/swarm/up.sh (what make
// swarm-up runs) and waits until every replica is healthy. The stack is
// removed with deploy/swarm/down.sh when t ends or the test is
// interrupted, even when the deploy failed halfway, and the test fails if
// anything of it is left.
func DeploySwarmStack(t testing.TB) *SwarmStack {
	t.Helper()
	RequireImages(t)
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := "netlab-e2e-" + hex.EncodeToString(suffix)
	s := &SwarmStack{Name: name, Network: name + "_netlab", script: filepath.Join(root, "deploy", "swarm")}
	CleanupEvenIfInterrupted(t, func() { s.remove(t) })
	img := images()
	env := []string{"NETLAB_IMAGE_PREFIX=" + img.prefix, "NETLAB_TAG=" + img.tag, "SWARM_WAIT=" + swarmWait}
	start := time.Now()
	out, err := runCmd(t.Context(), env, filepath.Join(s.script, "up.sh"), name)
	if err != nil {
		t.Fatalf("deploy the swarm stack: %v", err)
	}
	t.Logf("stack %s up and healthy in %s:\n%s", name, time.Since(start).Round(100*time.Millisecond), Tail(out, 8))
	return s
}

// remove takes the stack down and checks that nothing of it is left.
func (s *SwarmStack) remove(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), swarmCmdTimeout)
	defer cancel()
	if _, err := runCmd(ctx, []string{"SWARM_WAIT=" + swarmWait}, filepath.Join(s.script, "down.sh"), s.Name); err != nil {
		t.Errorf("remove the swarm stack: %v", err)
	}
	if err := s.leftovers(ctx); err != nil {
		t.Error(err)
	}
}

// leftovers reports the stack's services, containers, networks and
// volumes that are still there.
func (s *SwarmStack) leftovers(ctx context.Context) error {
	var errs []error
	filter := "label=" + StackLabel + "=" + s.Name
	kinds := [][]string{{"ps", "-aq"}, {"network", "ls", "-q"}, {"volume", "ls", "-q"}}
	if state, _ := DockerCLI(ctx, "info", "--format", "{{.Swarm.LocalNodeState}}"); state == "active" {
		kinds = append(kinds, []string{"service", "ls", "-q"})
	}
	for _, kind := range kinds {
		out, err := DockerCLI(ctx, append(slices.Clone(kind), "--filter", filter)...)
		if err != nil {
			errs = append(errs, err)
		} else if out != "" {
			errs = append(errs, fmt.Errorf("stack %s left behind (docker %s): %s", s.Name, kind[0], strings.Join(strings.Fields(out), " ")))
		}
	}
	return errors.Join(errs...)
}

// Service is the swarm service name of a stack.yml service.
func (s *SwarmStack) Service(name string) string { return s.Name + "_" + name }

// TaskIPs are the addresses on the stack's network of the service's
// running replicas, by slot.
func (s *SwarmStack) TaskIPs(t testing.TB, service string) []string {
	t.Helper()
	ids, err := DockerCLI(t.Context(), "service", "ps", "-q", "--filter", "desired-state=running", s.Service(service))
	if err != nil {
		t.Fatal(err)
	}
	format := `{{.Slot}} {{.Status.State}}{{range .NetworksAttachments}}{{if eq .Network.Spec.Name "` + s.Network + `"}}{{range .Addresses}} {{.}}{{end}}{{end}}{{end}}`
	out, err := DockerCLI(t.Context(), append([]string{"inspect", "--format", format}, strings.Fields(ids)...)...)
	if err != nil {
		t.Fatal(err)
	}
	var ips []string
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) != 3 || f[1] != "running" {
			t.Fatalf("%s: replica %q: want slot, running and one address on %s", s.Service(service), line, s.Network)
		}
		ip, _, _ := strings.Cut(f[2], "/")
		ips = append(ips, ip)
	}
	return ips
}

// Containers are the running containers of the stack's replicas.
func (s *SwarmStack) Containers(t testing.TB) []string {
	t.Helper()
	out, err := DockerCLI(t.Context(), "ps", "-q", "--filter", "label="+StackLabel+"="+s.Name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(out)
}

// AssertSwarmReplicaHardened checks a replica's container as the engine
// runs it: non-root, read-only, every capability dropped and none added,
// not privileged, CPU, memory and process limits; and the kernel's view of
// its main process (no capability, no root id). It returns the process's
// NoNewPrivs, which Docker Engine 20.10 cannot set for a Swarm service
// (docs/deploy.md), so that the caller can report it.
func AssertSwarmReplicaHardened(t testing.TB, id string) string {
	t.Helper()
	res, err := Docker(t).ContainerInspect(t.Context(), id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatalf("inspect %s: %v", id, err)
	}
	info := res.Container
	name := strings.TrimPrefix(info.Name, "/")
	assertNoPrivilegeConfig(t, name, &info)
	if r := info.HostConfig.Resources; r.NanoCPUs <= 0 || r.Memory <= 0 || r.PidsLimit == nil || *r.PidsLimit <= 0 {
		t.Errorf("%s: limits cpus %d, memory %d, pids %v: want all three", name, r.NanoCPUs, r.Memory, r.PidsLimit)
	}
	for port, bindings := range info.NetworkSettings.Ports {
		if len(bindings) > 0 {
			t.Errorf("%s: publishes %s on %v: the stack publishes no port by default", name, port, bindings)
		}
	}
	return assertProcessStatus(t, name, info.State.Pid, nil)["NoNewPrivs"]
}
