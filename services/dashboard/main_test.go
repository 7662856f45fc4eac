package main

import (
	"testing"

	"github.com/netlab/netlab/services/platform/program/programtest"
)

func TestMain(m *testing.M) { programtest.Main(m, main) }

// The rows every service passes, and bad values of the dashboard's own
// (the config tests cover the rest of its variables).
func TestProgram_ExitCodes(t *testing.T) {
	programtest.ExitCodes(t, service,
		programtest.Case{Name: "bad target names the variable", Env: []string{"TARGETS=tcp-echo"}, Code: 2, Output: `TARGETS: "tcp-echo": want name=host:port`},
		programtest.Case{Name: "history over the memory bound", Env: []string{"MAX_SERIES=1000000", "HISTORY=24h", "POLL_INTERVAL=1s"}, Code: 2, Output: "over 1 GiB"},
	)
}
