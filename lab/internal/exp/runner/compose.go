package runner

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/spec"
	"github.com/netlab/netlab/lab/internal/shape"
	"github.com/netlab/netlab/lab/internal/stack"
	"go.yaml.in/yaml/v3"
)

// LabelRun marks every container the runner starts itself (the clients),
// with the compose project as its value, so teardown finds them.
const LabelRun = "org.netlab.exp.project"

// publishVars are docker-compose.yml's host port variables: each set to
// "127.0.0.1:" so Docker picks a free port and the run never collides
// with a stack the user started.
var publishVars = []string{"TCP_ECHO_PUBLISH", "TCP_ECHO_ADMIN_PUBLISH", "UDP_RESPONDER_PUBLISH", "UDP_RESPONDER_ADMIN_PUBLISH",
	"HTTP_HELLO_PUBLISH", "HTTP_HELLO_ADMIN_PUBLISH", "PEER_ADMIN_PUBLISH"}

// Project is one experiment's compose project.
type Project struct {
	Name        string
	ComposeFile string
	Compose     []string // "docker compose" or "docker-compose"
	Prefix, Tag string   // the images: PREFIX/SERVICE:TAG
	dir         string   // holds the override file
}

// ProjectName is a unique compose project name for experiment name.
func ProjectName(name string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "netlab-exp-" + name + "-" + hex.EncodeToString(b[:])
}

// FindCompose is the compose command: docker compose (v2) when the docker
// command has it, else docker-compose (v1).
func FindCompose(ctx context.Context) ([]string, error) {
	if exec.CommandContext(ctx, "docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}, nil
	}
	if p, err := exec.LookPath("docker-compose"); err == nil {
		return []string{p}, nil
	}
	return nil, errors.New("neither 'docker compose' nor 'docker-compose' is installed")
}

// FindComposeFile is docker-compose.yml in dir or the nearest directory
// above it.
func FindComposeFile(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "docker-compose.yml")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no docker-compose.yml in %s or above it: run from the netlab checkout, or give --compose-file", dir)
		}
	}
}

func (p *Project) env() []string {
	env := append(os.Environ(), "NETLAB_IMAGE_PREFIX="+p.Prefix, "NETLAB_TAG="+p.Tag)
	for _, v := range publishVars {
		env = append(env, v+"=127.0.0.1:")
	}
	return env
}

func (p *Project) compose(ctx context.Context, args ...string) ([]byte, error) {
	full := append(slicesClone(p.Compose[1:]), "-p", p.Name, "-f", p.ComposeFile)
	if p.dir != "" {
		full = append(full, "-f", filepath.Join(p.dir, "override.yml"))
	}
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, p.Compose[0], full...)
	cmd.Env = p.env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("compose %s: %v: %s", args[0], err, tail(stderr.String(), 800))
	}
	return stdout.Bytes(), nil
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// Up writes the override (each service's settings) and starts the spec's
// services with their replicas, without building.
func (p *Project) Up(ctx context.Context, s *spec.Spec) error {
	if err := p.writeOverride(s); err != nil {
		return err
	}
	args := []string{"up", "-d", "--no-build"}
	var names []string
	for _, sv := range s.Services {
		args = append(args, "--scale", fmt.Sprintf("%s=%d", sv.Name, sv.Replicas))
		names = append(names, sv.Name)
	}
	_, err := p.compose(ctx, append(args, names...)...)
	return err
}

// writeOverride writes the services' settings into an override file, when
// the spec has any (compose v1 reads an override without services as a
// version 1 file, which it refuses beside a version 3 one).
func (p *Project) writeOverride(s *spec.Spec) error {
	override := map[string]any{}
	for _, sv := range s.Services {
		if len(sv.Env) > 0 {
			override[sv.Name] = map[string]any{"environment": sv.Env}
		}
	}
	if len(override) == 0 {
		return nil
	}
	dir, err := os.MkdirTemp("", "netlab-exp-")
	if err != nil {
		return err
	}
	p.dir = dir
	data, err := yaml.Marshal(map[string]any{"services": override})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "override.yml"), data, 0o644)
}

// WaitHealthy waits until every container of the project is healthy.
func (p *Project) WaitHealthy(ctx context.Context, d stack.Docker, within time.Duration) ([]stack.Container, error) {
	deadline := time.Now().Add(within)
	st := stack.Stack{Project: p.Name, Docker: d}
	for {
		cs, err := st.Containers(ctx)
		if err == nil {
			var waiting []string
			for _, c := range cs {
				out, herr := d.Run(ctx, "inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}", c.ID)
				if s := strings.TrimSpace(string(out)); herr != nil || (s != "healthy" && s != "running") {
					waiting = append(waiting, c.Label()+" "+s)
				}
			}
			if len(waiting) == 0 {
				return cs, nil
			}
			err = fmt.Errorf("not healthy: %s", strings.Join(waiting, ", "))
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the stack did not come up in %v: %w", within, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// AdminPorts are the host addresses of each container's admin listener
// (/metrics), by container ID.
func AdminPorts(ctx context.Context, d stack.Docker, cs []stack.Container) (map[string]string, error) {
	out := map[string]string{}
	for _, c := range cs {
		b, err := d.Run(ctx, "inspect", "-f", "{{json .NetworkSettings.Ports}}", c.ID)
		if err != nil {
			return nil, err
		}
		var ports map[string][]struct{ HostIP, HostPort string }
		if err := json.Unmarshal(bytes.TrimSpace(b), &ports); err != nil {
			return nil, fmt.Errorf("%s ports: %w", c.Label(), err)
		}
		for _, b := range ports["9090/tcp"] {
			if b.HostPort != "" {
				out[c.ID] = "127.0.0.1:" + b.HostPort
				break
			}
		}
	}
	return out, nil
}

// Teardown removes everything of the project, also when ctx has ended:
// the clients, the shaper containers (sidecars and one-shots), then the
// compose project with its networks and volumes. It then checks that
// nothing with the project's name is left.
func (p *Project) Teardown(d stack.Docker) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var errs []error
	for _, label := range []string{LabelRun + "=" + p.Name, shape.LabelProject + "=" + p.Name} {
		out, err := d.Run(ctx, "ps", "-aq", "--filter", "label="+label)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ids := strings.Fields(string(out)); len(ids) > 0 {
			_, err := d.Run(ctx, append([]string{"rm", "-f", "-v"}, ids...)...)
			errs = append(errs, err)
		}
	}
	_, err := p.compose(ctx, "--profile", "tools", "--profile", "shaper", "down", "--volumes", "--remove-orphans", "--timeout", "5")
	errs = append(errs, err)
	if p.dir != "" {
		errs = append(errs, os.RemoveAll(p.dir))
	}
	if left := p.Leftovers(ctx, d); left != "" {
		errs = append(errs, errors.New("left behind: "+left))
	}
	return errors.Join(errs...)
}

// Leftovers names what of the project is still there: containers (its
// own, the clients, the shaper's) and networks; "" when nothing.
func (p *Project) Leftovers(ctx context.Context, d stack.Docker) string {
	var left []string
	for _, q := range [][]string{
		{"ps", "-aq", "--filter", "label=" + stack.LabelProject + "=" + p.Name},
		{"ps", "-aq", "--filter", "label=" + LabelRun + "=" + p.Name},
		{"ps", "-aq", "--filter", "label=" + shape.LabelProject + "=" + p.Name},
		{"network", "ls", "-q", "--filter", "label=" + stack.LabelProject + "=" + p.Name},
		{"network", "ls", "-q", "--filter", "name=" + p.Name + "_"},
	} {
		out, err := d.Run(ctx, q...)
		if err != nil {
			left = append(left, err.Error())
			continue
		}
		if ids := strings.Fields(string(out)); len(ids) > 0 {
			left = append(left, fmt.Sprintf("%d %s (%s)", len(ids), q[0], strings.Join(q[len(q)-1:], "")))
		}
	}
	return strings.Join(left, "; ")
}
