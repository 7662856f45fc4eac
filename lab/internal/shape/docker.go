package shape

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/internal/stack"
)

// Docker is the docker command: Run for what a command prints on standard
// output, Logs for a container's two streams apart (a sidecar's error is
// on its standard error).
type Docker interface {
	stack.Docker
	Logs(ctx context.Context, container string) (stdout, stderr []byte, err error)
}

// CLI is Docker through the docker binary.
type CLI struct{ stack.CLI }

// Logs runs docker logs.
func (c CLI) Logs(ctx context.Context, name string) (stdout, stderr []byte, err error) {
	bin := c.Bin
	if bin == "" {
		bin = "docker"
	}
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "logs", name)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, nil, fmt.Errorf("docker logs %s: %s", name, strings.TrimSpace(errOut.String()))
	}
	return out.Bytes(), errOut.Bytes(), nil
}

// Labels on every container the lab starts from the shaper image: the
// project's (so make clean finds it), the compose project it acts on (so
// make down and netlab reset find it), and its target's ID.
const (
	LabelNetlab  = "org.netlab.project"
	LabelProject = "org.netlab.shaper.project"
	LabelTarget  = "org.netlab.shaper.target"
	LabelRole    = "org.netlab.shaper.role" // oneshot or sidecar
)

// Runner runs the shaper image in the network namespace of a stack's
// containers.
type Runner struct {
	Docker  Docker
	Project string
	Image   string
	// Wait bounds how long a sidecar may take to apply its shape.
	Wait time.Duration
}

// hardening is how every shaper container runs: uid 0 (Docker gives a
// non-root user no effective capability from --cap-add) with NET_ADMIN
// alone, read-only, no-new-privileges, in the target's network namespace.
func (r Runner) hardening(c stack.Container, role string) []string {
	return []string{
		"--network", "container:" + c.ID,
		"--user", "0:0", "--cap-drop", "ALL", "--cap-add", "NET_ADMIN",
		"--read-only", "--security-opt", "no-new-privileges",
		"--label", LabelNetlab + "=netlab", "--label", LabelProject + "=" + r.Project,
		"--label", LabelTarget + "=" + c.ID, "--label", LabelRole + "=" + role,
	}
}

// OneShot runs netlab-shaper with args in c's network namespace and
// decodes the JSON it prints into out.
func (r Runner) OneShot(ctx context.Context, c stack.Container, out any, args ...string) error {
	cmd := append([]string{"run", "--rm"}, r.hardening(c, "oneshot")...)
	cmd = append(append(cmd, r.Image), args...)
	stdout, err := r.Docker.Run(ctx, cmd...)
	if err != nil {
		return fmt.Errorf("%s: netlab-shaper %s: %w", c.Label(), args[0], err)
	}
	if err := json.Unmarshal(lastLine(stdout), out); err != nil {
		return fmt.Errorf("%s: netlab-shaper %s printed %q: %w", c.Label(), args[0], stdout, err)
	}
	return nil
}

func lastLine(b []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	return lines[len(lines)-1]
}

// SidecarName is the name of c's sidecar: one per target.
func (r Runner) SidecarName(c stack.Container) string {
	return r.Project + "-shaper-" + c.Label()
}

// StartSidecar runs `netlab-shaper run args` as a long-lived container in
// c's network namespace and waits until it printed its first JSON line
// (the shape is applied) into out. A sidecar that exits first is removed
// and its error returned.
func (r Runner) StartSidecar(ctx context.Context, c stack.Container, out any, args ...string) (string, error) {
	name := r.SidecarName(c)
	cmd := append([]string{"run", "-d", "--name", name}, r.hardening(c, "sidecar")...)
	cmd = append(append(cmd, r.Image, "run"), args...)
	if _, err := r.Docker.Run(ctx, cmd...); err != nil {
		return name, fmt.Errorf("%s: start the shaper sidecar: %w", c.Label(), err)
	}
	wait := r.Wait
	if wait == 0 {
		wait = 30 * time.Second
	}
	deadline := time.Now().Add(wait)
	for {
		stdout, stderr, err := r.Docker.Logs(ctx, name)
		if err == nil && len(bytes.TrimSpace(stdout)) > 0 {
			first, _, _ := bytes.Cut(stdout, []byte("\n"))
			return name, json.Unmarshal(first, out)
		}
		state, serr := r.Docker.Run(ctx, "inspect", "-f", "{{.State.Status}}", name)
		if serr == nil && strings.TrimSpace(string(state)) == "exited" {
			msg := strings.TrimSpace(string(stderr))
			return name, errors.Join(fmt.Errorf("%s: the shaper sidecar exited: %s", c.Label(), msg), r.Remove(context.WithoutCancel(ctx), name))
		}
		if time.Now().After(deadline) {
			return name, fmt.Errorf("%s: the shaper sidecar applied nothing in %v", c.Label(), wait)
		}
		select {
		case <-ctx.Done():
			return name, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Sidecar is one shaper sidecar container.
type Sidecar struct {
	Name   string `json:"name"`
	Target string `json:"target_id"`
	State  string `json:"state"`  // running, exited
	Status string `json:"status"` // as docker ps says it: "Up 5 seconds"
}

// Sidecars lists the project's sidecars (of target, when not empty),
// running or not.
func (r Runner) Sidecars(ctx context.Context, target string) ([]Sidecar, error) {
	args := []string{"ps", "-a", "--filter", "label=" + LabelProject + "=" + r.Project,
		"--filter", "label=" + LabelRole + "=sidecar", "--format", `{{.Names}}	{{.Label "` + LabelTarget + `"}}	{{.State}}	{{.Status}}`}
	if target != "" {
		args = append(args, "--filter", "label="+LabelTarget+"="+target)
	}
	out, err := r.Docker.Run(ctx, args...)
	if err != nil {
		return nil, err
	}
	var list []Sidecar
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimRight(line, "\n"), "\t")
		if len(f) == 4 {
			list = append(list, Sidecar{Name: f[0], Target: f[1], State: f[2], Status: f[3]})
		}
	}
	return list, nil
}

// Remove stops a sidecar (its SIGTERM resets the shape it set: the
// delayer lets its held packets go and its rules are removed) and removes
// the container.
func (r Runner) Remove(ctx context.Context, name string) error {
	_, err := r.Docker.Run(ctx, "stop", "-t", "10", name)
	if _, rerr := r.Docker.Run(ctx, "rm", "-f", name); rerr != nil {
		return errors.Join(err, rerr)
	}
	return nil
}

// RemoveSidecars removes every sidecar of target (every one of the
// project when target is "") and returns their names.
func (r Runner) RemoveSidecars(ctx context.Context, target string) ([]string, error) {
	list, err := r.Sidecars(ctx, target)
	if err != nil {
		return nil, err
	}
	var names []string
	var errs []error
	for _, s := range list {
		names = append(names, s.Name)
		errs = append(errs, r.Remove(ctx, s.Name))
	}
	return names, errors.Join(errs...)
}
