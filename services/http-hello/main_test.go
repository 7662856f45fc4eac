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
		programtest.Case{Name: "bad duration names the variable", Env: []string{"MAX_DELAY=abc"}, Code: 2, Output: `MAX_DELAY="abc"`},
	))
}
