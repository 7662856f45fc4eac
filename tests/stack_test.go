package tests_test

import (
	"testing"

	"github.com/netlab/netlab/tests/e2e"
)

// Every service the compose file runs by default is hardened; the peer
// nodes are checked in TestPeer_ComposeSwarmSpreadsFile, which runs them.
func TestStack_EveryServiceIsHardened(t *testing.T) {
	s := e2e.SharedStack(t)
	for _, name := range e2e.DefaultServices {
		t.Run(name, func(t *testing.T) { e2e.AssertHardened(t, s.Service(name).Container()) })
	}
}
