// Package term tells whether output goes to a terminal, where netlab's
// programs draw for a person (console logs, progress bars) rather than
// for a machine.
package term

import (
	"io"
	"os"
)

// IsTerminal reports whether w is a character device such as a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
