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
		programtest.Case{Name: "bad integer names the variable", Env: []string{"RATE_BURST=abc"}, Code: 2, Output: `RATE_BURST="abc": not a valid integer`},
		programtest.Case{Name: "bad mode names the variable", Env: []string{"MODE=loud"}, Code: 2, Output: "MODE"},
	))
}
