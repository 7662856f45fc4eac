// Package proc runs netlab's servers as child processes for a soak run and
// reads what the kernel knows about them: resident memory and open files.
// Every process it starts belongs to a Group, so one deferred call stops
// them all, whatever way the run ends.
package proc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Group is every process a run started.
type Group struct {
	mu    sync.Mutex
	procs []*Proc
}

// Proc is one server process, in its own process group.
type Proc struct {
	Name   string
	cmd    *exec.Cmd
	done   chan struct{}
	err    error // the exit status, once done is closed
	stderr *tail
	stop   sync.Once
}

// Start runs argv with env added to this process's environment and waits
// up to 20 s for ready (nil: no wait). The child dies with the soak run
// even if the run itself is killed (Pdeathsig).
func (g *Group) Start(ctx context.Context, name string, env []string, ready func(context.Context) error, argv ...string) (*Proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &Proc{Name: name, cmd: cmd, done: make(chan struct{}), stderr: &tail{max: 16 << 10}}
	cmd.Stdout = p.stderr
	cmd.Stderr = p.stderr
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
	readyCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- ready(readyCtx) }()
	select {
	case err := <-errc:
		if err != nil {
			p.Stop()
			return nil, fmt.Errorf("%s not ready: %w\n%s", name, err, p.Stderr())
		}
	case <-p.done:
		return nil, fmt.Errorf("%s exited at start: %v\n%s", name, p.err, p.Stderr())
	}
	return p, nil
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

// Stop ends the process group: SIGTERM, then SIGKILL after 5 s. Safe to
// call more than once.
func (p *Proc) Stop() {
	p.stop.Do(func() {
		pgid := -p.cmd.Process.Pid
		_ = syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
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

// Stderr is the end of what the process wrote.
func (p *Proc) Stderr() string { return p.stderr.String() }

// RSS is the process's resident memory in bytes.
func (p *Proc) RSS() (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", p.Pid()))
	if err != nil {
		return 0, err
	}
	return parseStatmRSS(string(data), os.Getpagesize())
}

// parseStatmRSS reads the resident field (the second, in pages) of
// /proc/<pid>/statm.
func parseStatmRSS(statm string, pageSize int) (int64, error) {
	f := strings.Fields(statm)
	if len(f) < 2 {
		return 0, errors.New("short /proc statm")
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("statm: %w", err)
	}
	return pages * int64(pageSize), nil
}

// OpenFDs counts the process's open file descriptors.
func (p *Proc) OpenFDs() (int, error) {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.Pid()))
	return len(entries), err
}

// WaitHTTP polls url until it answers 200 (a server's /readyz).
func WaitHTTP(url string) func(context.Context) error {
	return func(ctx context.Context) error {
		client := &http.Client{Timeout: time.Second}
		for {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			resp, err := client.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
				err = fmt.Errorf("%s: %s", url, resp.Status)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// FreePorts returns n distinct loopback TCP ports nobody listens on now.
// All n are held open until every one is chosen, so none repeats.
func FreePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// FreeUDPPort returns a loopback UDP port nobody is bound to now.
func FreeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// RaiseFileLimit lifts this process's soft RLIMIT_NOFILE to the hard limit
// (children inherit it) and fails when even that leaves fewer than need.
func RaiseFileLimit(need uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("getrlimit: %w", err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("setrlimit: %w", err)
	}
	if lim.Cur < need {
		return lim.Cur, fmt.Errorf("open-file limit %d is below the %d this run needs (raise the hard limit: ulimit -Hn)", lim.Cur, need)
	}
	return lim.Cur, nil
}

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

// StartService starts one of netlab's servers with LISTEN_ADDR=listen, its
// admin listener on a free loopback port, and env, and waits for /readyz.
// It returns the admin base URL (http://127.0.0.1:port).
func (g *Group) StartService(ctx context.Context, name, binary, listen string, env ...string) (*Proc, string, error) {
	ports, err := FreePorts(1)
	if err != nil {
		return nil, "", err
	}
	admin := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	env = append([]string{"LISTEN_ADDR=" + listen, fmt.Sprintf("ADMIN_ADDR=127.0.0.1:%d", ports[0]), "LOG_FORMAT=json"}, env...)
	p, err := g.Start(ctx, name, env, WaitHTTP(admin+"/readyz"), binary)
	return p, admin, err
}

// clockTicks is Linux's USER_HZ: /proc times are in 1/100 s.
const clockTicks = 100

// CPU is the CPU time (user and system) the process has used.
func (p *Proc) CPU() (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Pid()))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(data))
}

// parseStatCPU reads utime+stime of /proc/<pid>/stat. The command name,
// in parentheses, may hold spaces: fields are counted after it.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	var ticks int64
	for _, k := range []int{11, 12} { // utime, stime
		v, err := strconv.ParseInt(f[k], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat: %w", err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// Sched is the CPU time the process's threads ran and the time they spent
// runnable but waiting for a CPU (/proc/<pid>/task/*/schedstat), summed.
// Much waiting means the host is busier than the process.
func (p *Proc) Sched() (ran, waited time.Duration, err error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", p.Pid()))
	if err != nil {
		return 0, 0, err
	}
	for _, t := range tasks {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", p.Pid(), t.Name()))
		if err != nil {
			continue // the thread ended meanwhile
		}
		r, w, err := parseSchedstat(string(data))
		if err != nil {
			return 0, 0, err
		}
		ran += r
		waited += w
	}
	return ran, waited, nil
}

// parseSchedstat reads "run_ns wait_ns timeslices".
func parseSchedstat(s string) (ran, waited time.Duration, err error) {
	f := strings.Fields(s)
	if len(f) < 2 {
		return 0, 0, errors.New("short schedstat")
	}
	r, err1 := strconv.ParseInt(f[0], 10, 64)
	w, err2 := strconv.ParseInt(f[1], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("schedstat: %w", err)
	}
	return time.Duration(r), time.Duration(w), nil
}
