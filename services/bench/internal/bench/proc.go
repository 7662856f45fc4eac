package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is Linux's USER_HZ: /proc times are in 1/100 s.
const clockTicks = 100

// Proc is a server started for a run, in its own process group so it and
// its children are stopped together.
type Proc struct {
	Name string
	Addr string // host:port the load goes to
	cmd  *exec.Cmd
	done chan error

	// Set for servers that are not a child process (containers).
	command string
	cpu     func() (time.Duration, error)
	stop    func()
}

// StartProc runs argv with env added to the environment and waits until
// addr accepts TCP connections (UDP targets pass a TCP-free check func).
func StartProc(ctx context.Context, name, addr string, env []string, ready func(context.Context) error, argv ...string) (*Proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr strings.Builder
	cmd.Stderr = &limitedWriter{w: &stderr, left: 4096}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, Addr: addr, cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	if ready == nil {
		ready = func(ctx context.Context) error { return waitTCP(ctx, addr) }
	}
	readyCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- ready(readyCtx) }()
	select {
	case err := <-errc:
		if err != nil {
			p.Stop()
			return nil, fmt.Errorf("%s not ready: %w: %s", name, err, stderr.String())
		}
	case err := <-p.done:
		p.done <- err
		return nil, fmt.Errorf("%s exited: %v: %s", name, err, stderr.String())
	}
	return p, nil
}

func waitTCP(ctx context.Context, addr string) error {
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", addr, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Command is the server's process name as the kernel shows it (comm:
// the program's file name, cut to 15 bytes).
func (p *Proc) Command() string {
	if p.command != "" {
		return p.command
	}
	name := filepath.Base(p.cmd.Path)
	if len(name) > 15 {
		name = name[:15]
	}
	return name
}

// CPU is the CPU time used by the process group: the server and every
// process it started (nginx's workers, socat's per-connection children;
// children that exited are in their parent's cutime/cstime).
func (p *Proc) CPU() (time.Duration, error) {
	if p.cpu != nil {
		return p.cpu()
	}
	pgid := p.cmd.Process.Pid
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	var ticks int64
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		group, t, err := procTimes(pid)
		if err != nil || group != pgid {
			continue // gone meanwhile, or another group
		}
		ticks += t
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// procTimes reads a process's group and its utime+stime+cutime+cstime.
func procTimes(pid int) (pgrp int, ticks int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The fields after the command name, which is in parentheses and may
	// contain spaces: state ppid pgrp ... utime(11) stime cutime cstime.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 15 {
		return 0, 0, errors.New("short /proc stat")
	}
	if pgrp, err = strconv.Atoi(f[2]); err != nil {
		return 0, 0, err
	}
	for _, k := range []int{11, 12, 13, 14} {
		v, err := strconv.ParseInt(f[k], 10, 64)
		if err != nil {
			return 0, 0, err
		}
		ticks += v
	}
	return pgrp, ticks, nil
}

// Stop ends the process group: SIGTERM, then SIGKILL after 5 s.
func (p *Proc) Stop() {
	if p.stop != nil {
		p.stop()
		return
	}
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-p.done
	}
}

type limitedWriter struct {
	w    *strings.Builder
	left int
}

func (l *limitedWriter) Write(b []byte) (int, error) {
	if l.left > 0 {
		n := min(len(b), l.left)
		l.w.Write(b[:n])
		l.left -= n
	}
	return len(b), nil
}

// FreePort returns a loopback TCP port nobody listens on now.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
