// Package compose reads what docker-compose.yml gives each service (image,
// environment, ports, volumes), with the values compose uses when none of
// its variables is set, so the Kubernetes manifests can be held to it.
package compose

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxFileSize bounds every file read here (compose file, env files).
const maxFileSize = 1 << 20

// Project is the services of a compose file.
type Project struct {
	Services map[string]Service
}

// Service is one compose service as the containers see it.
type Service struct {
	Name  string
	Image string
	// Profiles are the service's compose profiles: none for the stack's
	// long-running services, "tools" for the clients.
	Profiles []string
	// Env is env_file's variables, then environment's, interpolated.
	Env map[string]string
	// Ports are the container side of the published ports.
	Ports []Port
	// Volumes are the container paths of the service's volumes.
	Volumes []string
}

// Port is a container port and its protocol ("TCP" or "UDP").
type Port struct {
	Number   int32
	Protocol string
}

// HasProfile reports whether the service is in profile p.
func (s Service) HasProfile(p string) bool {
	for _, q := range s.Profiles {
		if q == p {
			return true
		}
	}
	return false
}

// Names returns the services' names, sorted, that keep returns true for.
func (p *Project) Names(keep func(Service) bool) []string {
	var names []string
	for name, s := range p.Services {
		if keep(s) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

type rawService struct {
	Image       string   `yaml:"image"`
	Profiles    []string `yaml:"profiles"`
	EnvFile     strList  `yaml:"env_file"`
	Environment envMap   `yaml:"environment"`
	Ports       []string `yaml:"ports"`
	Volumes     []string `yaml:"volumes"`
}

// Load reads the compose file at path. Variables are read from the .env
// file beside it, if any; the process environment is ignored, so the
// result is what a plain `docker compose up` runs.
func Load(path string) (*Project, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	vars := map[string]string{}
	if _, err := os.Stat(filepath.Join(dir, ".env")); err == nil {
		if vars, err = ReadEnvFile(filepath.Join(dir, ".env")); err != nil {
			return nil, err
		}
	}
	var raw struct {
		Services map[string]rawService `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p := &Project{Services: map[string]Service{}}
	for name, rs := range raw.Services {
		s, err := rs.resolve(name, dir, vars)
		if err != nil {
			return nil, fmt.Errorf("%s: service %s: %w", path, name, err)
		}
		p.Services[name] = s
	}
	return p, nil
}

func (rs rawService) resolve(name, dir string, vars map[string]string) (Service, error) {
	s := Service{Name: name, Profiles: rs.Profiles, Env: map[string]string{}}
	var errs []error
	str := func(field, v string) string {
		out, err := Interpolate(v, vars)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
		}
		return out
	}
	s.Image = str("image", rs.Image)
	for _, f := range rs.EnvFile {
		env, err := ReadEnvFile(filepath.Join(dir, str("env_file", f)))
		errs = append(errs, err)
		for k, v := range env {
			s.Env[k] = v
		}
	}
	for k, v := range rs.Environment {
		s.Env[k] = str("environment "+k, v)
	}
	for _, spec := range rs.Ports {
		port, err := containerPort(str("ports", spec))
		errs = append(errs, err)
		if err == nil {
			s.Ports = append(s.Ports, port)
		}
	}
	for _, v := range rs.Volumes {
		v = str("volumes", v)
		// source:target[:mode] or a bare target (an anonymous volume).
		if parts := strings.Split(v, ":"); len(parts) > 1 {
			v = parts[1]
		}
		s.Volumes = append(s.Volumes, v)
	}
	return s, errors.Join(errs...)
}

// containerPort reads the container side of a ports entry in short
// syntax: [[ip:]host:]container[/protocol].
func containerPort(spec string) (Port, error) {
	proto := "TCP"
	if i := strings.LastIndexByte(spec, '/'); i >= 0 {
		proto = strings.ToUpper(spec[i+1:])
		spec = spec[:i]
	}
	target := spec[strings.LastIndexByte(spec, ':')+1:]
	n, err := strconv.ParseInt(target, 10, 32)
	if err != nil || n < 1 || n > 65535 || (proto != "TCP" && proto != "UDP") {
		return Port{}, fmt.Errorf("ports: %q: want [[ip:]host:]port[/tcp|/udp] with one container port", spec)
	}
	return Port{Number: int32(n), Protocol: proto}, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxFileSize)
	}
	return data, nil
}
