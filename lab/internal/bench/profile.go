package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Profiler records where the whole machine's CPU goes — server, load
// generator and kernel — during one extra measurement of a target, with
// perf's software clock (hardware counters are often missing in VMs).
// Whole-system sampling is the point: on two cores the load generator and
// the kernel's loopback path take as much CPU as the server, and a
// server-only profile would hide that.
type Profiler struct {
	Dir  string
	perf string
}

// NewProfiler finds perf and creates dir.
func NewProfiler(dir string) (*Profiler, error) {
	perf, err := exec.LookPath("perf")
	if err != nil {
		return nil, errors.New("perf is not installed (Debian: linux-perf)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &Profiler{Dir: dir, perf: perf}, nil
}

// Record runs measure under `perf record -a` and writes name.txt in Dir:
// CPU shares per command, then the hottest functions. It returns the
// report's path.
// When comm is set, a third part lists that program's hottest functions
// on their own.
func (p *Profiler) Record(ctx context.Context, name, comm string, measure func() error) (string, error) {
	data := filepath.Join(p.Dir, name+".data")
	defer os.Remove(data)
	rec := exec.CommandContext(ctx, p.perf, "record", "-a", "-e", "cpu-clock", "-F", "499", "-o", data)
	var stderr bytes.Buffer
	rec.Stderr = &stderr
	if err := rec.Start(); err != nil {
		return "", fmt.Errorf("perf record: %w", err)
	}
	// perf needs a moment to open its per-CPU buffers; samples before
	// then would be lost, not wrong.
	time.Sleep(300 * time.Millisecond)
	merr := measure()
	_ = rec.Process.Signal(syscall.SIGINT)
	if err := rec.Wait(); err != nil && !isInterrupt(err) {
		return "", fmt.Errorf("perf record: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	if merr != nil {
		return "", merr
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "# %s: perf record -a -e cpu-clock -F 499 during one measurement\n\n", name)
	reports := [][]string{{"--sort", "comm,dso"}, {"--sort", "comm,dso,sym", "--percent-limit", "0.7"}}
	if comm != "" {
		// Percentages here are of that program's own samples.
		reports = append(reports, []string{"--comms", comm, "--sort", "dso,sym", "--percentage", "relative", "--percent-limit", "0.7"})
	}
	for _, args := range reports {
		fmt.Fprintf(&out, "## perf report %s\n", strings.Join(args, " "))
		rep := exec.CommandContext(ctx, p.perf, append([]string{"report", "-i", data, "--stdio", "--no-children"}, args...)...)
		rep.Stderr = &stderr
		txt, err := rep.Output()
		if err != nil {
			return "", fmt.Errorf("perf report: %w: %s", err, strings.TrimSpace(stderr.String()))
		}
		out.Write(dropComments(txt))
		out.WriteString("\n")
	}
	path := filepath.Join(p.Dir, name+".txt")
	return path, os.WriteFile(path, out.Bytes(), 0o644)
}

func isInterrupt(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && (ws.Signaled() && ws.Signal() == syscall.SIGINT || ws.ExitStatus() == 130)
}

// dropComments removes perf's '#' header lines and blank lines.
func dropComments(b []byte) []byte {
	var out bytes.Buffer
	for line := range strings.SplitSeq(string(b), "\n") {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		out.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	return out.Bytes()
}
