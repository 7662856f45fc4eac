package exp

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/runner"
	"github.com/netlab/netlab/lab/internal/stack"
	"github.com/netlab/netlab/services/platform/version"
)

// environment describes the machine and the versions a run used: what
// spec.yaml's header and the report show.
func environment(ctx context.Context, d stack.Docker, p *runner.Project, services []string) map[string]string {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v := version.Get()
	env := map[string]string{
		"netlab":  v.String(),
		"os/arch": runtime.GOOS + "/" + runtime.GOARCH,
		"cpus":    strconv.Itoa(runtime.NumCPU()),
		"cpu":     procField("/proc/cpuinfo", "model name"),
		"memory":  procField("/proc/meminfo", "MemTotal"),
		"kernel":  readTrim("/proc/sys/kernel/osrelease"),
		"compose": strings.Join(p.Compose, " "),
	}
	// A busy machine makes timings noisy (a userspace delayer runs late):
	// the load at the start says how busy it was.
	env["load average"] = loadAverage()
	if out, err := d.Run(ctx, "version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})"); err == nil {
		env["docker"] = strings.TrimSpace(string(out))
	}
	for _, s := range append(services, "shaper") {
		image := p.Prefix + "/" + s + ":" + p.Tag
		if out, err := d.Run(ctx, "image", "inspect", "-f", "{{.Id}} {{index .Config.Labels \"org.opencontainers.image.version\"}}", image); err == nil {
			env["image "+image] = strings.TrimSpace(string(out))
		}
	}
	return env
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// procField is the first "key : value" line's value of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// loadAverage is /proc/loadavg's 1, 5 and 15 minute load averages.
func loadAverage() string {
	f := strings.Fields(readTrim("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
