package shape

import (
	"bufio"
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
// output, FirstLine for a container that runs on after its first line.
type Docker interface {
	stack.Docker
	// FirstLine runs docker with args (a `docker run` in the foreground)
	// until it has printed its first line on standard output, returns that
	// line and lets go of the container, which runs on. When docker ends
	// first, the error carries what it said on standard error.
	FirstLine(ctx context.Context, args ...string) ([]byte, error)
}

// CLI is Docker through the docker binary.
type CLI struct{ stack.CLI }

// FirstLine runs docker until its first line. Letting go is killing the
// client: a container started without -i outlives it, and SIGKILL is not
// a signal the client could pass on to the container.
func (c CLI) FirstLine(ctx context.Context, args ...string) ([]byte, error) {
	bin := c.Bin
	if bin == "" {
		bin = "docker"
	}
	var errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &errOut
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("docker %s: %w", args[0], err)
	}
	line := make(chan []byte, 1)
	go func() {
		b, _ := bufio.NewReader(stdout).ReadBytes('\n')
		line <- b
	}()
	select {
	case b := <-line:
		if bytes.HasSuffix(b, []byte("\n")) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return b, nil
		}
		err := cmd.Wait() // the output ended: docker has exited
		msg := strings.TrimSpace(errOut.String())
		if msg == "" {
			msg = fmt.Sprintf("%v, after printing %q", err, b)
		}
		return nil, fmt.Errorf("docker %s: %s", args[0], msg)
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, ctx.Err()
	}
}

// Labels on every container the lab starts from the shaper image: the
// project's (so make clean finds it), the compose project it acts on (so
// make down and netlab reset find it), and its target's ID.
const (
	LabelNetlab  = "org.netlab.project"
	LabelProject = "org.netlab.shaper.project"
	LabelTarget  = "org.netlab.shaper.target"
	LabelRole    = "org.netlab.shaper.role" // oneshot or sidecar
	// LabelUntil is when a --for sidecar reverts its shape (RFC 3339).
	LabelUntil = "org.netlab.shaper.until"
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
// (the shape is applied) into out. With forD it reverts the shape by
// itself after that long and is removed once it has (--rm): nothing is
// left of it. A sidecar that exits first is removed and its error
// returned.
func (r Runner) StartSidecar(ctx context.Context, c stack.Container, out any, forD time.Duration, args ...string) (string, error) {
	name := r.SidecarName(c)
	cmd := append([]string{"run", "--name", name}, r.hardening(c, "sidecar")...)
	if forD > 0 {
		until := time.Now().Add(forD).UTC().Format(time.RFC3339)
		cmd = append(cmd, "--rm", "--label", LabelUntil+"="+until)
		args = append(args, "-for", forD.String())
	}
	cmd = append(append(cmd, r.Image, "run"), args...)
	wait := r.Wait
	if wait == 0 {
		wait = 30 * time.Second
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	first, err := r.Docker.FirstLine(wctx, cmd...)
	if err != nil {
		if ctx.Err() == nil && wctx.Err() != nil {
			err = fmt.Errorf("applied nothing in %v", wait)
		}
		return name, errors.Join(fmt.Errorf("%s: the shaper sidecar: %w", c.Label(), err), r.Remove(context.WithoutCancel(ctx), name))
	}
	return name, json.Unmarshal(first, out)
}

// Sidecar is one shaper sidecar container.
type Sidecar struct {
	Name   string `json:"name"`
	Target string `json:"target_id"`
	State  string `json:"state"`  // running, exited
	Status string `json:"status"` // as docker ps says it: "Up 5 seconds"
	// Until is when it reverts the shape by itself (--for), RFC 3339.
	Until string `json:"until,omitempty"`
}

// Sidecars lists the project's sidecars (of target, when not empty),
// running or not.
func (r Runner) Sidecars(ctx context.Context, target string) ([]Sidecar, error) {
	args := []string{"ps", "-a", "--filter", "label=" + LabelProject + "=" + r.Project,
		"--filter", "label=" + LabelRole + "=sidecar", "--format", `{{.Names}}	{{.Label "` + LabelTarget + `"}}	{{.State}}	{{.Status}}	{{.Label "` + LabelUntil + `"}}`}
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
		if len(f) == 5 {
			list = append(list, Sidecar{Name: f[0], Target: f[1], State: f[2], Status: f[3], Until: f[4]})
		}
	}
	return list, nil
}

// Remove stops a sidecar (its SIGTERM resets the shape it set: the
// delayer lets its held packets go and its rules are removed) and removes
// the container; one started with --rm may be on its way out already.
func (r Runner) Remove(ctx context.Context, name string) error {
	_, err := r.Docker.Run(ctx, "stop", "-t", "10", name)
	_, rerr := r.Docker.Run(ctx, "rm", "-f", name)
	switch {
	case rerr == nil:
		return nil
	case strings.Contains(rerr.Error(), "already in progress"):
		return r.waitGone(ctx, name)
	}
	return errors.Join(err, rerr)
}

// waitGone waits until Docker no longer knows the container.
func (r Runner) waitGone(ctx context.Context, name string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := r.Docker.Run(ctx, "inspect", "-f", "{{.State.Status}}", name); err != nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sidecar %s: still there 30s after its removal began", name)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
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
