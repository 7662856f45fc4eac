package programtest_test

import (
	"context"
	"os"
	"testing"

	"github.com/netlab/netlab/services/platform/config"
	"github.com/netlab/netlab/services/platform/program"
	"github.com/netlab/netlab/services/platform/program/programtest"
)

type svcConfig struct {
	config.Shared
	Port int `env:"PORT" envDefault:"1"`
}

// svcMain is a service's main with nothing of its own to serve.
func svcMain() {
	os.Exit(program.Main(program.Program[svcConfig]{
		Name: "svc",
		Load: config.LoadAs[svcConfig],
		Run:  func(context.Context, svcConfig, program.Env) error { return nil },
	}, os.Args[1:], os.Stdout, os.Stderr))
}

func TestMain(m *testing.M) { programtest.Main(m, svcMain) }

// The shared rows hold for any program.Main, beside a service's own.
func TestExitCodes_CommonCases(t *testing.T) {
	programtest.ExitCodes(t, "svc",
		programtest.Case{Name: "bad integer names the variable", Env: []string{"PORT=abc"}, Code: 2, Output: `PORT="abc"`},
		programtest.Case{Name: "serves and stops", Env: []string{"ADMIN_ADDR=127.0.0.1:0"}, Code: 0, Output: "stopped"},
	)
}
