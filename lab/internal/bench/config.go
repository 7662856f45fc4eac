package bench

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/internal/proc"
)

// Config says where things are and how long each measurement runs. The
// workloads are its methods, one file per family: tcp.go, udp.go,
// http.go, transfer.go; the helpers they share are here.
type Config struct {
	Bin      string        // netlab's binaries (make build)
	Self     string        // this program, for the Go anchors (netlab bench serve)
	Duration time.Duration // per measurement
	WorkDir  string        // scratch space (nginx config, the python script)
	// ScratchDir holds the bulk transfer's files (memory-backed where the
	// machine has /dev/shm); the run removes it when it ends.
	ScratchDir string
	Procs      *proc.Group // every process a workload starts
	// Containers, when set, adds a netlab-container row to each workload:
	// the service's image on a bridge network.
	Containers *Containers
}

// serveArgs run one of the Go anchors in this program (see ServeAnchor).
func (c Config) serveArgs(kind, addr string) []string {
	return []string{c.Self, "bench", "serve", kind, addr}
}

// netlabTarget is the "netlab" target: one of netlab's servers from Bin
// on a fresh loopback address, logging only warnings, with env, ready
// once its /readyz answers.
func (c Config) netlabTarget(service string, env ...string) Target {
	return Target{Name: "netlab", Start: func(ctx context.Context) (*Server, error) {
		addr, err := proc.FreeAddr()
		if err != nil {
			return nil, err
		}
		p, _, err := c.Procs.StartService(ctx, "netlab "+service, filepath.Join(c.Bin, service), addr,
			append([]string{"LOG_LEVEL=warn"}, env...)...)
		if err != nil {
			return nil, err
		}
		return procServer(p, addr), nil
	}}
}

// startTool runs an anchor serving on addr and waits for ready (nil: until
// addr takes a TCP connection).
func (c Config) startTool(ctx context.Context, name, addr string, ready func(context.Context) error, argv ...string) (*Server, error) {
	if ready == nil {
		ready = proc.WaitTCP(addr)
	}
	p, err := c.Procs.Start(ctx, name, nil, ready, argv...)
	if err != nil {
		return nil, err
	}
	return procServer(p, addr), nil
}

// toolTarget is an anchor target that listens on a fresh loopback
// address; argv builds its command line for that address.
func (c Config) toolTarget(name string, ready func(addr string) func(context.Context) error, argv func(addr string) []string) Target {
	return Target{Name: name, Start: func(ctx context.Context) (*Server, error) {
		addr, err := proc.FreeAddr()
		if err != nil {
			return nil, err
		}
		var r func(context.Context) error
		if ready != nil {
			r = ready(addr)
		}
		return c.startTool(ctx, name, addr, r, argv(addr)...)
	}}
}

// withContainer puts the container row after netlab's own.
func (c Config) withContainer(ts []Target, service, port string, env ...string) []Target {
	if c.Containers == nil {
		return ts
	}
	t := Target{Name: "netlab-container", Start: func(ctx context.Context) (*Server, error) {
		s, _, err := c.Containers.Start(ctx, service, port, append([]string{"LOG_LEVEL=warn"}, env...))
		return s, err
	}}
	return append(ts[:1:1], append([]Target{t}, ts[1:]...)...)
}

// lookTool finds an anchor tool on PATH or in ~/go/bin.
func lookTool(name string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, "go", "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	return "", false
}

// lookGoTool finds a program go install put in place: the first file
// called name on PATH, in $GOBIN, $GOPATH/bin or ~/go/bin that was built
// from the main package pkg. PATH may hold another program of that name
// (coreutils' whoami).
func lookGoTool(name, pkg string) (string, bool) {
	dirs := filepath.SplitList(os.Getenv("PATH"))
	dirs = append(dirs, os.Getenv("GOBIN"))
	for _, d := range filepath.SplitList(os.Getenv("GOPATH")) {
		dirs = append(dirs, filepath.Join(d, "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	return findGoTool(dirs, name, pkg)
}

// findGoTool is the first dirs/name built from pkg.
func findGoTool(dirs []string, name, pkg string) (string, bool) {
	for _, d := range dirs {
		if d == "" {
			continue // not the working directory
		}
		p := filepath.Join(d, name)
		if info, err := buildinfo.ReadFile(p); err == nil && info.Path == pkg {
			return p, true
		}
	}
	return "", false
}

// missing is a target for an anchor that is not installed: it is
// reported as skipped, with how to install it.
func missing(name, how string) Target {
	return Target{Name: name, Start: func(context.Context) (*Server, error) {
		return nil, fmt.Errorf("%s is not installed (%s)", name, how)
	}}
}

// portOf is the port of a host:port address.
func portOf(addr string) string {
	_, p, _ := strings.Cut(addr, ":")
	return p
}

// latencyJSON is the part of the clients' "latency" object (integer
// nanoseconds, the same keys in every client) that the table shows.
type latencyJSON struct {
	P50 time.Duration `json:"p50_ns"`
	P99 time.Duration `json:"p99_ns"`
}

// clientLoadJSON is what the bench reads of a netlab client's --load
// --json summary: tcp-echo-client counts ops, udp-client the replies it
// received; the keys of the other client stay zero.
type clientLoadJSON struct {
	Ops       float64     `json:"ops"`
	OpsPerSec float64     `json:"ops_per_second"`
	Received  float64     `json:"received"`
	RPS       float64     `json:"replies_per_second"`
	Latency   latencyJSON `json:"latency"`
}

// clientLoad runs a netlab client's --load mode against addr: conns
// connections (sockets, for UDP), 64 B messages, one outstanding on each,
// for the measurement's duration.
func (c Config) clientLoad(ctx context.Context, client, addr string, conns int) (clientLoadJSON, error) {
	var r clientLoadJSON
	err := runJSON(ctx, &r, filepath.Join(c.Bin, client), "--addr", addr, "--load",
		"--connections", strconv.Itoa(conns), "--size", "64", "--duration", c.Duration.String(), "--json")
	return r, err
}

// runJSON runs a program (a netlab client, iperf3) and decodes its JSON
// output.
func runJSON(ctx context.Context, out any, argv ...string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", filepath.Base(argv[0]), err, strings.TrimSpace(stderr.String()))
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		return fmt.Errorf("%s: bad JSON: %w", filepath.Base(argv[0]), err)
	}
	return nil
}

// poll calls cond every 5 ms (the clock is running for the transfer case)
// until it is true, fails, or timeout passes.
func poll(ctx context.Context, timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after %s", timeout)
		}
		if !proc.Sleep(ctx, 5*time.Millisecond) {
			return ctx.Err()
		}
	}
}
