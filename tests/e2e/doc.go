// Package e2e is the harness of netlab's black-box end-to-end tests: it finds
// or builds the service images, brings up the real docker-compose.yml with
// testcontainers-go's compose module, runs one-shot client containers,
// injects faults (signals, crashes, tc and iptables in a container's network
// namespace), drives the peer API and reads the services' Prometheus metrics.
// The tests themselves live in the package above; both import no service
// code and reach the services over the network only.
//
// Images. With NETLAB_TAG set (`make e2e` sets it after `make images`), the
// tests run the images <NETLAB_IMAGE_PREFIX>/<service>:<NETLAB_TAG> as they
// are (prefix `netlab` by default) and never build: a missing image fails the
// test, naming `make images`. Without it (`go test` run by hand), they build
// the build stage and every service's stage of deploy/Dockerfile themselves,
// tagged `e2e` as `make images` tags its own, from the builder image
// GO_IMAGE (default netlab/go-builder:1.26.8, which `make builder-image`
// makes). Compose stacks the tests bring up run the same images.
//
// Run the tests with TESTCONTAINERS_RYUK_DISABLED=true and
// TESTCONTAINERS_HOST_OVERRIDE=localhost (the Makefile sets both); -short
// skips every test that needs Docker. Stacks and containers carry the label
// org.netlab.project=netlab and are removed when their test ends (shared
// stacks when TestMain calls TeardownSharedStacks).
//
// Swarm. RequireSwarm makes the engine a single-node swarm when it is in
// none, and DeploySwarmStack deploys deploy/swarm/stack.yml under a name of
// its own with the scripts make swarm-up and swarm-down run; both undo what
// they did when the test ends, and also on SIGINT or SIGTERM
// (CleanupEvenIfInterrupted). Clients reach the stack from containers on
// its overlay network (OverlayClientOpts).
package e2e
