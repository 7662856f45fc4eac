package main

import (
	"os"
	"testing"

	"github.com/netlab/netlab/services/platform/program/programtest"
)

func TestMain(m *testing.M) {
	programtest.RunIfChild(main)
	os.Exit(m.Run())
}

func TestProgram_ExitCodes(t *testing.T) {
	programtest.ExitCodes(t, append(programtest.CommonCases(service),
		programtest.Case{Name: "bad integer names the variable", Env: []string{"MAX_CONNS=abc"}, Code: 2, Output: `MAX_CONNS="abc": not a valid integer`},
		programtest.Case{Name: "bad duration names the variable", Env: []string{"IDLE_TIMEOUT=later"}, Code: 2, Output: "IDLE_TIMEOUT"},
	))
}
