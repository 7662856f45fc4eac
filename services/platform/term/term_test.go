package term_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/netlab/netlab/services/platform/term"
)

func TestIsTerminal(t *testing.T) {
	t.Parallel()
	file, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if term.IsTerminal(file) || term.IsTerminal(&bytes.Buffer{}) {
		t.Error("a regular file or a buffer is taken for a terminal")
	}
	if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		defer null.Close()
		if !term.IsTerminal(null) {
			t.Errorf("%s, a character device, is not taken for one", os.DevNull)
		}
	}
}
