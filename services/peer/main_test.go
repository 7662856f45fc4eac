package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/netlab/netlab/services/platform/program/programtest"
)

func TestMain(m *testing.M) { programtest.Main(m, main) }

// The rows every service passes, bad values of the node's own (the config
// tests cover the rest of its variables), and a node that cannot start.
func TestProgram_ExitCodes(t *testing.T) {
	// A regular file where the share directory should be: the node cannot
	// open it, so the program fails at start.
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	programtest.ExitCodes(t, service,
		programtest.Case{Name: "bad size names the variable", Env: []string{"PIECE_SIZE=1KiB"}, Code: 2, Output: `PIECE_SIZE="1024"`},
		programtest.Case{Name: "bad seed names the variable", Env: []string{"PEERS=host:99999"}, Code: 2, Output: `PEERS="host:99999"`},
		programtest.Case{
			Name: "share dir is a file",
			Env:  []string{"SHARE_DIR=" + notADir, "LISTEN_ADDR=127.0.0.1:0", "ADMIN_ADDR=127.0.0.1:0", "LOG_FORMAT=json"},
			Code: 1, Output: "share: open share",
		},
	)
}
