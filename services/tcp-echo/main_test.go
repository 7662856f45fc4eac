package main

import (
	"testing"

	"github.com/netlab/netlab/services/platform/program/programtest"
)

func TestMain(m *testing.M) { programtest.Main(m, main) }

// The rows every service passes, and a bad value of tcp-echo's own (the
// config tests cover the rest of its variables).
func TestProgram_ExitCodes(t *testing.T) {
	programtest.ExitCodes(t, service, programtest.Case{Name: "bad integer names the variable", Env: []string{"MAX_CONNS=abc"}, Code: 2, Output: `MAX_CONNS="abc": not a valid integer`})
}
