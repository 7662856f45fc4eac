//go:build !(linux || darwin || freebsd)

package share

import (
	"errors"
	"fmt"
)

// FreeBytes is not implemented on this platform.
func (s *Share) FreeBytes() (int64, error) {
	return 0, fmt.Errorf("free bytes: %w", errors.ErrUnsupported)
}
