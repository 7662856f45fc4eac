package main

import (
	"testing"

	"github.com/netlab/netlab/lab/internal/cli/clitest"
)

func TestNetlab_Dispatch(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // each must appear; on exit 0 stderr stays empty
		stderr []string // each must appear; on exit 2 stdout stays empty
	}{
		{"help lists the commands", []string{"help"}, 0,
			[]string{"usage: netlab <command>", "  bench  ", "  soak  ", "  compare  ", "  chaos  ", "  help  "}, nil},
		{"-h is help", []string{"-h"}, 0, []string{"  bench  ", "  soak  "}, nil},
		{"--help is help", []string{"--help"}, 0, []string{"  bench  ", "  soak  "}, nil},
		{"help of a command is its flags", []string{"help", "soak"}, 0,
			[]string{"usage: netlab soak", "-tcp-hold", "SOAK_<FLAG>"}, nil},
		{"bench -h lists its flags", []string{"bench", "-h"}, 0,
			[]string{"usage: netlab bench", "-reps", "-duration", "-containers"}, nil},
		{"no command", nil, 2, nil, []string{"no command given", "  bench  ", "  soak  "}},
		{"unknown command", []string{"teleport"}, 2, nil, []string{`netlab: unknown command "teleport"`, "usage: netlab"}},
		{"help of an unknown command", []string{"help", "dns"}, 2, nil, []string{`unknown command "dns"`}},
		{"a bad bench flag is named", []string{"bench", "-reps", "many"}, 2, nil,
			[]string{`netlab bench: invalid value "many" for flag -reps`, "netlab bench -h"}},
		{"an unknown soak flag is named", []string{"soak", "-tcp-hols", "5s"}, 2, nil,
			[]string{"netlab soak: flag provided but not defined: -tcp-hols"}},
		{"a soak setting out of range is named", []string{"soak", "-scale", "0"}, 2, nil,
			[]string{"netlab soak: -scale must be above 0"}},
		{"compare wants saved runs", []string{"compare"}, 2, nil,
			[]string{"netlab compare: want 1 to 16 saved runs, got 0"}},
		{"compare names a file it cannot read", []string{"compare", "no-such-run.json"}, 2, nil,
			[]string{"netlab compare: no-such-run.json: no such file or directory"}},
		{"chaos names a bad flag", []string{"chaos", "pause", "peer", "--for", "soon"}, 2, nil,
			[]string{`netlab chaos pause: invalid value "soon" for flag -for`}},
		{"bench serve wants a kind and an address", []string{"bench", "serve", "tcp-copy"}, 2, nil,
			[]string{"netlab bench serve: want tcp-copy|udp-echo|http-hello ADDR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := clitest.Main(t, "netlab", about, commands, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			clitest.Contains(t, "stdout", stdout, tt.stdout...)
			clitest.Contains(t, "stderr", stderr, tt.stderr...)
			if tt.code == 0 && stderr != "" {
				t.Errorf("stderr = %q, want nothing", stderr)
			}
			if tt.code != 0 && stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}
