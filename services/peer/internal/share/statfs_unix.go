//go:build linux || darwin || freebsd

package share

import (
	"fmt"
	"syscall"
)

// FreeBytes reports the space available to unprivileged users on the
// share's file system. It asks through the root's directory handle, so it
// measures the share even if the directory was moved.
func (s *Share) FreeBytes() (int64, error) {
	d, err := s.root.Open(".")
	if err != nil {
		return 0, fmt.Errorf("free bytes: %w", err)
	}
	defer d.Close()
	rc, err := d.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("free bytes: %w", err)
	}
	var st syscall.Statfs_t
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.Fstatfs(int(fd), &st) }); err != nil {
		return 0, fmt.Errorf("free bytes: %w", err)
	}
	if serr != nil {
		return 0, fmt.Errorf("free bytes: statfs: %w", serr)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
