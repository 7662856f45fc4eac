package main

import (
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/internal/cli"
)

// netlab runs the command as main does, with no environment.
func netlab(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut strings.Builder
	code = cli.Main(t.Context(), "netlab", about, commands, args, &out, &errOut, func(string) string { return "" })
	return code, out.String(), errOut.String()
}

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
			code, stdout, stderr := netlab(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			for _, want := range tt.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if tt.code == 0 && stderr != "" {
				t.Errorf("stderr = %q, want nothing", stderr)
			}
			if tt.code != 0 && stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}
