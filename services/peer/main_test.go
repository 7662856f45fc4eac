package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netlab/netlab/services/platform/program/programtest"
)

func TestMain(m *testing.M) {
	programtest.RunIfChild(main)
	os.Exit(m.Run())
}

func TestProgram_ExitCodes(t *testing.T) {
	// A regular file where the share directory should be: the node cannot
	// open it, so the program fails at start.
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		env        []string
		args       []string
		wantCode   int
		wantOutput string
	}{
		{"bad integer names the variable", []string{"MAX_PEERS=abc"}, nil, 2, `MAX_PEERS="abc"`},
		{"bad size names the variable", []string{"PIECE_SIZE=1KiB"}, nil, 2, `PIECE_SIZE="1024"`},
		{"bad seed names the variable", []string{"PEERS=host:99999"}, nil, 2, `PEERS="host:99999"`},
		{"unknown subcommand", nil, []string{"serve-please"}, 2, `unknown command "serve-please"`},
		{"healthcheck without a server", []string{"ADMIN_ADDR=127.0.0.1:1"}, []string{"healthcheck"}, 1, "unhealthy"},
		{"version", nil, []string{"version"}, 0, "peer dev"},
		{
			"share dir is a file",
			[]string{"SHARE_DIR=" + notADir, "LISTEN_ADDR=127.0.0.1:0", "ADMIN_ADDR=127.0.0.1:0", "LOG_FORMAT=json"},
			nil, 1, "share: open share",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := programtest.Run(t, tt.env, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stdout: %s; stderr: %s)", code, tt.wantCode, stdout, stderr)
			}
			if !strings.Contains(stdout+stderr, tt.wantOutput) {
				t.Errorf("output %q does not contain %q", stdout+stderr, tt.wantOutput)
			}
		})
	}
}
