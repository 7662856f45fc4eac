package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/internal/proc"
)

// Containers runs netlab's images for the "netlab-container" rows, on a
// private bridge network of their own, hardened as in docker-compose.yml.
// The load still comes from the host's clients, to the container's
// address on the bridge: the path a client on the stack network takes
// (veth and bridge), not docker-proxy on a published port, which would
// add a user-space copy the stack never has.
type Containers struct {
	docker  string
	prefix  string // image name prefix (IMAGE_PREFIX)
	tag     string
	network string
}

// containerAdminPort is the admin listener's port in every image.
const containerAdminPort = "9090"

// OpenContainers checks that docker answers and the images exist, and
// creates the bench network.
func OpenContainers(ctx context.Context, prefix, tag string, services []string) (*Containers, error) {
	docker, err := exec.LookPath("docker")
	if err != nil {
		return nil, fmt.Errorf("docker is not installed")
	}
	c := &Containers{docker: docker, prefix: prefix, tag: tag, network: fmt.Sprintf("netlab-bench-%d", os.Getpid())}
	for _, s := range services {
		if _, err := c.run(ctx, "image", "inspect", "-f", "{{.Id}}", c.image(s)); err != nil {
			return nil, fmt.Errorf("image %s not found (make images): %w", c.image(s), err)
		}
	}
	if _, err := c.run(ctx, "network", "create", "--label", "org.netlab.project=netlab", c.network); err != nil {
		return nil, err
	}
	return c, nil
}

// Close removes the bench network (Start's containers are gone by then).
func (c *Containers) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = c.run(ctx, "network", "rm", c.network)
}

func (c *Containers) image(service string) string { return c.prefix + "/" + service + ":" + c.tag }

func (c *Containers) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, c.docker, args...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// Start runs service's image with env and waits for its /readyz. The
// Server's Addr is the container's address with port; admin is the base
// URL of its admin listener. CPU is the server's: the image's only
// process.
func (c *Containers) Start(ctx context.Context, service, port string, env []string, mounts ...string) (s *Server, admin string, err error) {
	args := []string{"run", "-d", "--network", c.network, "--label", "org.netlab.project=netlab",
		"--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges:true", "--user", "65532:65532"}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	for _, m := range mounts {
		args = append(args, "-v", m)
	}
	id, err := c.run(ctx, append(args, c.image(service))...)
	if err != nil {
		return nil, "", err
	}
	remove := func() {
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = c.run(rctx, "rm", "-f", id)
	}
	pid, ip, err := c.pidAndIP(ctx, id)
	if err != nil {
		remove()
		return nil, "", err
	}
	admin = "http://" + ip + ":" + containerAdminPort
	s = &Server{Addr: ip + ":" + port, Command: "server", Stop: remove,
		CPU: func() (time.Duration, error) { return proc.PidCPU(pid) }}
	readyCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := proc.WaitHTTP(admin + "/readyz")(readyCtx); err != nil {
		logs, _ := c.run(ctx, "logs", "--tail", "20", id)
		remove()
		return nil, "", fmt.Errorf("%s container not ready: %w: %s", service, err, logs)
	}
	return s, admin, nil
}

// pidAndIP is a running container's process id on the host and its
// address on the bench network.
func (c *Containers) pidAndIP(ctx context.Context, id string) (int, string, error) {
	info, err := c.run(ctx, "inspect", "-f", "{{.State.Pid}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", id)
	if err != nil {
		return 0, "", err
	}
	pidText, ip, _ := strings.Cut(info, " ")
	pid, err := strconv.Atoi(pidText)
	if err != nil || ip == "" {
		return 0, "", fmt.Errorf("container %s: no pid or address in %q", id[:12], info)
	}
	return pid, ip, nil
}
