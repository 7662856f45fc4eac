// Package tests_test holds netlab's black-box end-to-end tests: one file per
// service (its behaviour and hardening) and one per service for its faults,
// plus the whole-stack tests. They run the service images (those `make
// images` built, or their own; see package e2e), bring up the real
// docker-compose.yml and talk to the services over the network only: no
// service code is imported. The harness is package e2e.
//
// Run with TESTCONTAINERS_RYUK_DISABLED=true and
// TESTCONTAINERS_HOST_OVERRIDE=localhost (the Makefile sets both); -short
// skips every test here.
package tests_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/netlab/netlab/tests/e2e"
)

func TestMain(m *testing.M) {
	// m.Run parses the flags itself; nothing reads them before it.
	code := m.Run()
	// Stacks shared between tests are torn down here, after the last test
	// that uses them; per-test stacks clean up through t.Cleanup.
	if err := e2e.RemoveNetlabBin(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: remove the netlab command: %v\n", err)
	}
	if err := e2e.TeardownSharedStacks(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: tear down shared stacks: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	// Last: a swarm the tests made leaves only when no container of
	// theirs is left (see e2e.RequireSwarm).
	if err := e2e.RunAtExit(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}
