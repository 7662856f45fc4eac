// Package stack finds the containers of a compose stack through the labels
// compose puts on every container it makes, so one name works with
// `docker compose` (v2) and `docker-compose` (v1), whose container names
// differ (netlab-peer-2 against netlab_peer_2). A target is a service
// ("peer": every replica), one replica ("peer-2"), or a container's name
// or ID. It talks to Docker through the docker command, as a user would.
package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// The labels compose sets on its containers.
const (
	LabelProject = "com.docker.compose.project"
	LabelService = "com.docker.compose.service"
	LabelNumber  = "com.docker.compose.container-number"
)

// MaxContainers bounds the containers one stack may have here.
const MaxContainers = 1000

// Docker runs the docker command with args and returns what it printed
// on standard output.
type Docker interface {
	Run(ctx context.Context, args ...string) ([]byte, error)
}

// CLI is Docker through the docker binary on the PATH (or Bin).
type CLI struct{ Bin string }

// Run runs docker; a failure carries what docker said on standard error.
func (c CLI) Run(ctx context.Context, args ...string) ([]byte, error) {
	bin := c.Bin
	if bin == "" {
		bin = "docker"
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("docker %s: %s", args[0], msg)
	}
	return stdout.Bytes(), nil
}

// Container is one container of the stack.
type Container struct {
	ID      string            // full ID
	Name    string            // without the leading "/"
	Service string            // compose service
	Number  int               // replica number, from 1
	State   string            // running, paused, exited, …
	IPs     map[string]string // network name → IPv4 address
}

// Label is the container's name as the lab prints it: service-number.
func (c Container) Label() string { return c.Service + "-" + strconv.Itoa(c.Number) }

// Stack is one compose project.
type Stack struct {
	Project string
	Docker  Docker
}

// Containers lists every container of the stack, running or not, by
// service and replica number.
func (s Stack) Containers(ctx context.Context) ([]Container, error) {
	out, err := s.Docker.Run(ctx, "ps", "-a", "-q", "--no-trunc", "--filter", "label="+LabelProject+"="+s.Project)
	if err != nil {
		return nil, err
	}
	ids := strings.Fields(string(out))
	if len(ids) == 0 {
		return nil, fmt.Errorf("no containers of compose project %q: is the stack up (make up)?", s.Project)
	}
	if len(ids) > MaxContainers {
		return nil, fmt.Errorf("compose project %q has %d containers, more than %d", s.Project, len(ids), MaxContainers)
	}
	out, err = s.Docker.Run(ctx, append([]string{"inspect"}, ids...)...)
	if err != nil {
		return nil, err
	}
	cs, err := parseInspect(out)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(cs, func(a, b Container) int {
		if c := strings.Compare(a.Service, b.Service); c != 0 {
			return c
		}
		return a.Number - b.Number
	})
	return cs, nil
}

// inspected is the part of `docker inspect` the lab reads.
type inspected struct {
	ID     string `json:"Id"`
	Name   string
	State  struct{ Status string }
	Config struct {
		Labels map[string]string
	}
	NetworkSettings struct {
		Networks map[string]struct{ IPAddress string }
	}
}

func parseInspect(out []byte) ([]Container, error) {
	var raw []inspected
	if err := json.Unmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("docker inspect: %w", err)
	}
	cs := make([]Container, 0, len(raw))
	for _, r := range raw {
		n, err := strconv.Atoi(r.Config.Labels[LabelNumber])
		if err != nil || r.Config.Labels[LabelService] == "" {
			return nil, fmt.Errorf("container %s has no compose service or number label", strings.TrimPrefix(r.Name, "/"))
		}
		c := Container{ID: r.ID, Name: strings.TrimPrefix(r.Name, "/"), Service: r.Config.Labels[LabelService],
			Number: n, State: r.State.Status, IPs: map[string]string{}}
		for net, ep := range r.NetworkSettings.Networks {
			if ep.IPAddress != "" {
				c.IPs[net] = ep.IPAddress
			}
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// ErrUnknownTarget is the error of a target that names no container.
var ErrUnknownTarget = errors.New("unknown target")

// Resolve finds the containers target names: every replica of a service
// ("peer"), one replica ("peer-2", or "peer_2"), or one container by its
// name or a prefix of its ID (at least 4 characters). An unknown target
// is ErrUnknownTarget, with the names there are.
func (s Stack) Resolve(ctx context.Context, target string) ([]Container, error) {
	cs, err := s.Containers(ctx)
	if err != nil {
		return nil, err
	}
	return Match(cs, target)
}

// Match is Resolve over containers already listed.
func Match(cs []Container, target string) ([]Container, error) {
	var out []Container
	for _, c := range cs {
		if c.Service == target {
			out = append(out, c)
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	for _, c := range cs {
		if c.Label() == target || c.Service+"_"+strconv.Itoa(c.Number) == target || c.Name == target ||
			len(target) >= 4 && strings.HasPrefix(c.ID, target) {
			return []Container{c}, nil
		}
	}
	names := make([]string, 0, len(cs))
	for _, c := range cs {
		names = append(names, c.Label())
	}
	return nil, fmt.Errorf("%w %q: the stack has %s", ErrUnknownTarget, target, strings.Join(names, ", "))
}

// IP is the container's address on network, or on its only network when
// network is ""; an error when it has none or several to choose from.
func (c Container) IP(network string) (string, error) {
	if network != "" {
		if ip, ok := c.IPs[network]; ok {
			return ip, nil
		}
		return "", fmt.Errorf("%s has no address on network %q", c.Label(), network)
	}
	if len(c.IPs) != 1 {
		return "", fmt.Errorf("%s has %d network addresses: name the network", c.Label(), len(c.IPs))
	}
	for _, ip := range c.IPs {
		return ip, nil
	}
	return "", nil
}
