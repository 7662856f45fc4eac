package e2e

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
)

// oneShotTimeout bounds how long a one-shot container may run.
const oneShotTimeout = time.Minute

// OneShot is what a container that ran to completion left behind.
type OneShot struct {
	ExitCode int
	Stdout   string
	Stderr   string
	// StartedAt and FinishedAt are when Docker started the container and
	// saw it exit.
	StartedAt, FinishedAt time.Time
}

// String formats the result for failure messages.
func (r OneShot) String() string {
	return fmt.Sprintf("exit code %d\nstdout:\n%s\nstderr:\n%s", r.ExitCode, Tail(r.Stdout, 30), Tail(r.Stderr, 30))
}

// RunOneShot runs a container from image until it exits and returns its
// exit code and output. The container is removed when t ends.
func RunOneShot(t testing.TB, image string, opts ...testcontainers.ContainerCustomizer) OneShot {
	t.Helper()
	res, err := StartOneShot(t, image, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// StartOneShot is RunOneShot for goroutines other than the test's own: it
// returns errors instead of failing t. The container is removed when t ends.
func StartOneShot(t testing.TB, image string, opts ...testcontainers.ContainerCustomizer) (OneShot, error) {
	t.Helper()
	return StartOneShotWithin(t, oneShotTimeout, image, opts...)
}

// StartOneShotWithin is StartOneShot for a container that may run up to
// limit (a load stopped by a signal, say).
func StartOneShotWithin(t testing.TB, limit time.Duration, image string, opts ...testcontainers.ContainerCustomizer) (OneShot, error) {
	t.Helper()
	RequireImages(t)
	ctx := t.Context()
	opts = append(opts,
		testcontainers.WithLabels(map[string]string{ProjectLabel: "netlab"}),
		testcontainers.WithWaitStrategy(wait.ForExit().WithExitTimeout(limit)),
	)
	ctr, err := testcontainers.Run(ctx, image, opts...)
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		return OneShot{}, fmt.Errorf("run %s: %w", image, err)
	}
	state, err := ctr.State(ctx)
	if err != nil {
		return OneShot{}, fmt.Errorf("container state: %w", err)
	}
	if state.Running {
		return OneShot{}, fmt.Errorf("container still running after %s", limit)
	}
	res := OneShot{ExitCode: state.ExitCode}
	if res.StartedAt, err = time.Parse(time.RFC3339Nano, state.StartedAt); err != nil {
		return OneShot{}, fmt.Errorf("container start time: %w", err)
	}
	if res.FinishedAt, err = time.Parse(time.RFC3339Nano, state.FinishedAt); err != nil {
		return OneShot{}, fmt.Errorf("container finish time: %w", err)
	}
	if res.Stdout, res.Stderr, err = logsOf(ctx, ctr.GetContainerID()); err != nil {
		return OneShot{}, err
	}
	return res, nil
}

// StartOneShots runs n containers of image with opts at the same time, as
// StartOneShot does one, and returns what each left behind, with the
// errors of those that failed joined.
func StartOneShots(t testing.TB, n int, image string, opts ...testcontainers.ContainerCustomizer) ([]OneShot, error) {
	t.Helper()
	res := make([]OneShot, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		// StartOneShot appends to its options: each run gets its own.
		wg.Go(func() { res[i], errs[i] = StartOneShot(t, image, slices.Clone(opts)...) })
	}
	wg.Wait()
	return res, errors.Join(errs...)
}

// ClientOpts runs the client binary entrypoint of a service image with args
// and env on the network networkName, hardened like the compose file's
// client services.
func ClientOpts(networkName, entrypoint string, env map[string]string, args ...string) []testcontainers.ContainerCustomizer {
	return append(clientOpts(entrypoint, env, args, func(*container.HostConfig) {}), network.WithNetworkName(nil, networkName))
}

// OverlayClientOpts is ClientOpts for a Swarm stack's attachable overlay
// network. ClientOpts names the network in the endpoint settings only, and
// Docker Engine 20.10 then runs the container on the default bridge (seen
// here); naming the overlay as the network mode attaches it, as docker run
// --network does.
func OverlayClientOpts(networkName, entrypoint string, env map[string]string, args ...string) []testcontainers.ContainerCustomizer {
	return clientOpts(entrypoint, env, args, func(hc *container.HostConfig) { hc.NetworkMode = container.NetworkMode(networkName) })
}

// NetnsClientOpts is ClientOpts in the network namespace of the container
// with id containerID: the client's traffic is that container's, so a
// rule or counter of its namespace applies to the client alone.
func NetnsClientOpts(containerID, entrypoint string, env map[string]string, args ...string) []testcontainers.ContainerCustomizer {
	return clientOpts(entrypoint, env, args, func(hc *container.HostConfig) { hc.NetworkMode = container.NetworkMode("container:" + containerID) })
}

// clientOpts are the options of a hardened client container; onNetwork
// adds to its host configuration (one modifier: a second replaces the
// first).
func clientOpts(entrypoint string, env map[string]string, args []string, onNetwork func(*container.HostConfig)) []testcontainers.ContainerCustomizer {
	return []testcontainers.ContainerCustomizer{
		testcontainers.WithEntrypoint(entrypoint),
		testcontainers.WithCmd(args...),
		testcontainers.WithEnv(env),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.ReadonlyRootfs = true
			hc.CapDrop = []string{"ALL"}
			hc.SecurityOpt = []string{"no-new-privileges:true"}
			onNetwork(hc)
		}),
	}
}
