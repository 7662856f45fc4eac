// Package proc runs the programs a lab command measures (netlab's servers,
// the anchors they are compared with) as child processes, and reads what
// the kernel knows about them: CPU time, resident memory, open files,
// scheduling. Every process it starts belongs to a Group, so one deferred
// call stops them all, whatever way the run ends.
package proc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// readyBound is how long Start waits for a process to become ready.
const readyBound = 20 * time.Second

// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
const stopGrace = 5 * time.Second

// stderrTail is how much of a process's output is kept for errors.
const stderrTail = 16 << 10

// Group is every process a run started.
type Group struct {
	mu    sync.Mutex
	procs []*Proc
}

// Proc is one started program, in its own process group.
type Proc struct {
	Name   string
	cmd    *exec.Cmd
	done   chan struct{}
	err    error // the exit status, once done is closed
	output *tail
	stop   sync.Once
}

// Start runs argv with env added to this process's environment and waits
// up to 20 s for ready (nil: no wait). The child runs in a process group
// of its own, so Stop ends the children it starts too, and it dies with
// the lab command even if that is killed (Pdeathsig).
func (g *Group) Start(ctx context.Context, name string, env []string, ready func(context.Context) error, argv ...string) (*Proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &Proc{Name: name, cmd: cmd, done: make(chan struct{}), output: &tail{max: stderrTail}}
	cmd.Stdout = p.output
	cmd.Stderr = p.output
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	g.mu.Lock()
	g.procs = append(g.procs, p)
	g.mu.Unlock()
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if ready == nil {
		return p, nil
	}
	if err := p.waitReady(ctx, ready); err != nil {
		return nil, err
	}
	return p, nil
}

// waitReady waits for ready, for the process to exit, or for readyBound,
// and stops the process unless it became ready.
func (p *Proc) waitReady(ctx context.Context, ready func(context.Context) error) error {
	readyCtx, cancel := context.WithTimeout(ctx, readyBound)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- ready(readyCtx) }()
	select {
	case err := <-errc:
		if err != nil {
			p.Stop()
			return fmt.Errorf("%s not ready: %w\n%s", p.Name, err, p.Stderr())
		}
		return nil
	case <-p.done:
		return fmt.Errorf("%s exited at start: %v\n%s", p.Name, p.err, p.Stderr())
	}
}

// StartService starts one of netlab's servers with LISTEN_ADDR=listen, its
// admin listener on a free loopback port, JSON logs and env, and waits for
// its /readyz. It returns the admin base URL (http://127.0.0.1:port).
func (g *Group) StartService(ctx context.Context, name, binary, listen string, env ...string) (*Proc, string, error) {
	adminAddr, err := FreeAddr()
	if err != nil {
		return nil, "", err
	}
	admin := "http://" + adminAddr
	env = append([]string{"LISTEN_ADDR=" + listen, "ADMIN_ADDR=" + adminAddr, "LOG_FORMAT=json"}, env...)
	p, err := g.Start(ctx, name, env, WaitHTTP(admin+"/readyz"), binary)
	return p, admin, err
}

// StopAll stops every process of the group that is still running.
func (g *Group) StopAll() {
	g.mu.Lock()
	procs := g.procs
	g.procs = nil
	g.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(p.Stop)
	}
	wg.Wait()
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Command is the program's name as the kernel shows it (comm: the file
// name, cut to 15 bytes), which profiles list functions under.
func (p *Proc) Command() string {
	name := filepath.Base(p.cmd.Path)
	if len(name) > 15 {
		name = name[:15]
	}
	return name
}

// Stop ends the process group: SIGTERM, then SIGKILL after 5 s. Safe to
// call more than once, and from several goroutines.
func (p *Proc) Stop() {
	p.stop.Do(func() {
		pgid := -p.cmd.Process.Pid
		_ = syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			_ = syscall.Kill(pgid, syscall.SIGKILL)
			<-p.done
		}
	})
}

// Exited reports whether the process has ended, and how.
func (p *Proc) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Stderr is the end of what the process wrote (stdout and stderr).
func (p *Proc) Stderr() string { return p.output.String() }

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
