package tests_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The Swarm stack is written by hand beside docker-compose.yml (see
// docs/decisions.md); these checks fail when the two drift apart. They
// read files only, so they run under -short too.

// composeFile is the part of a compose file (docker-compose.yml, or a stack
// file for docker stack deploy) the drift checks read.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Networks map[string]struct {
		Driver     string `yaml:"driver"`
		Attachable bool   `yaml:"attachable"`
	} `yaml:"networks"`
	Volumes map[string]struct {
		Name string `yaml:"name"`
	} `yaml:"volumes"`
	// dir is the file's directory: env_file paths are relative to it.
	dir string
}

type composeService struct {
	Image           string            `yaml:"image"`
	Build           any               `yaml:"build"`
	Profiles        []string          `yaml:"profiles"`
	User            string            `yaml:"user"`
	ReadOnly        bool              `yaml:"read_only"`
	CapDrop         []string          `yaml:"cap_drop"`
	CapAdd          []string          `yaml:"cap_add"`
	SecurityOpt     []string          `yaml:"security_opt"`
	EnvFile         string            `yaml:"env_file"`
	Environment     map[string]string `yaml:"environment"`
	Healthcheck     healthcheck       `yaml:"healthcheck"`
	StopGracePeriod string            `yaml:"stop_grace_period"`
	Restart         string            `yaml:"restart"`
	Scale           string            `yaml:"scale"`
	Ports           []yaml.Node       `yaml:"ports"`
	Networks        []string          `yaml:"networks"`
	Volumes         []yaml.Node       `yaml:"volumes"`
	Deploy          deploySpec        `yaml:"deploy"`
}

type healthcheck struct {
	Test        []string `yaml:"test"`
	Interval    string   `yaml:"interval"`
	Timeout     string   `yaml:"timeout"`
	Retries     int      `yaml:"retries"`
	StartPeriod string   `yaml:"start_period"`
}

type updateConfig struct {
	Order string `yaml:"order"`
}

type deploySpec struct {
	Replicas      string `yaml:"replicas"`
	EndpointMode  string `yaml:"endpoint_mode"`
	RestartPolicy struct {
		Condition string `yaml:"condition"`
	} `yaml:"restart_policy"`
	UpdateConfig   updateConfig `yaml:"update_config"`
	RollbackConfig updateConfig `yaml:"rollback_config"`
	Resources      struct {
		Limits struct {
			CPUs   string `yaml:"cpus"`
			Memory string `yaml:"memory"`
			Pids   int    `yaml:"pids"`
		} `yaml:"limits"`
	} `yaml:"resources"`
}

// publishPort is a port of deploy/swarm/publish.yml (long syntax).
type publishPort struct {
	Target    int    `yaml:"target"`
	Published string `yaml:"published"`
	Protocol  string `yaml:"protocol"`
	Mode      string `yaml:"mode"`
}

// swarmEnvChanges are the settings the stack sets differently from
// compose, on purpose: service, variable, compose's value, the stack's.
var swarmEnvChanges = map[string]map[string][2]string{
	"peer": {"PEERS": {"peer", "tasks.peer"}},
}

// swarmRestart is the stack's restart condition for compose's restart.
var swarmRestart = map[string]string{"unless-stopped": "any", "always": "any", "on-failure": "on-failure", "no": "none"}

// noNewPrivileges is compose's security_opt, which a Swarm service on
// Docker Engine 20.10 has no field for (docs/deploy.md).
const noNewPrivileges = "no-new-privileges:true"

func readComposeFile(t *testing.T, rel string) composeFile {
	t.Helper()
	path := filepath.Join("..", rel)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	f.dir = filepath.Dir(path)
	return f
}

// longRunning are compose's services that run with the stack, not on
// demand (no profile).
func longRunning(c composeFile) []string {
	var names []string
	for name, s := range c.Services {
		if len(s.Profiles) == 0 {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// swarmDrift lists every way stack differs from compose where it should
// not, each naming the service and the field.
func swarmDrift(compose, stack composeFile) []string {
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if want, got := longRunning(compose), slices.Sorted(maps.Keys(stack.Services)); !slices.Equal(want, got) {
		add("services: stack has %v, compose's long-running ones are %v", got, want)
	}
	for _, name := range longRunning(compose) {
		c, ok := stack.Services[name]
		if !ok {
			continue
		}
		errs = append(errs, serviceDrift(name, compose.Services[name], c, compose.dir, stack.dir)...)
		errs = append(errs, swarmShape(name, c, stack)...)
	}
	return errs
}

// serviceDrift compares what compose and the stack must agree on for one
// service: image, hardening, settings, healthcheck, restart, stop time,
// replicas.
func serviceDrift(name string, c, s composeService, composeDir, stackDir string) []string {
	var errs []string
	add := func(field string, got, want any) {
		errs = append(errs, fmt.Sprintf("%s: %s is %v in the stack, %v in compose", name, field, got, want))
	}
	if c.Image != s.Image {
		add("image", s.Image, c.Image)
	}
	if c.User != s.User || c.ReadOnly != s.ReadOnly || !slices.Equal(c.CapDrop, s.CapDrop) || !slices.Equal(c.CapAdd, s.CapAdd) {
		add("user/read_only/cap_drop/cap_add", fmt.Sprint(s.User, s.ReadOnly, s.CapDrop, s.CapAdd), fmt.Sprint(c.User, c.ReadOnly, c.CapDrop, c.CapAdd))
	}
	if !slices.Equal(c.SecurityOpt, []string{noNewPrivileges}) || len(s.SecurityOpt) != 0 {
		add("security_opt (Swarm on Engine 20.10 has none; docs/deploy.md)", s.SecurityOpt, c.SecurityOpt)
	}
	if filepath.Join(composeDir, c.EnvFile) != filepath.Join(stackDir, s.EnvFile) {
		add("env_file", filepath.Join(stackDir, s.EnvFile), filepath.Join(composeDir, c.EnvFile))
	}
	want := maps.Clone(c.Environment)
	for k, v := range swarmEnvChanges[name] {
		if want[k] != v[0] {
			add("environment "+k+" (compose's value in swarmEnvChanges)", v[0], want[k])
		}
		want[k] = v[1]
	}
	if !maps.Equal(want, s.Environment) {
		add("environment", s.Environment, want)
	}
	if fmt.Sprint(c.Healthcheck) != fmt.Sprint(s.Healthcheck) {
		add("healthcheck", s.Healthcheck, c.Healthcheck)
	}
	if c.StopGracePeriod != s.StopGracePeriod {
		add("stop_grace_period", s.StopGracePeriod, c.StopGracePeriod)
	}
	if r, ok := swarmRestart[c.Restart]; !ok || r != s.Deploy.RestartPolicy.Condition {
		add("deploy.restart_policy.condition", s.Deploy.RestartPolicy.Condition, c.Restart)
	}
	if replicas := cmpOr(c.Scale, "1"); replicas != s.Deploy.Replicas {
		add("deploy.replicas", s.Deploy.Replicas, "scale "+replicas)
	}
	return errs
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// swarmShape checks what the stack must have whatever compose says: dnsrr,
// no published port, the attachable overlay, limits, update order, and
// peer's volume per replica.
func swarmShape(name string, s composeService, stack composeFile) []string {
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, name+": "+fmt.Sprintf(format, args...)) }
	if s.Build != nil {
		add("build: docker stack deploy ignores it; make images builds")
	}
	if s.Deploy.EndpointMode != "dnsrr" {
		add("deploy.endpoint_mode is %q, want dnsrr (no IPVS, no virtual IPs)", s.Deploy.EndpointMode)
	}
	if len(s.Ports) > 0 {
		add("ports: publishing is opt-in, in deploy/swarm/publish.yml")
	}
	if !slices.Equal(s.Networks, []string{"netlab"}) {
		add("networks is %v, want [netlab]", s.Networks)
	}
	if n := stack.Networks["netlab"]; n.Driver != "overlay" || !n.Attachable {
		add("network netlab is %+v, want an attachable overlay", n)
	}
	if l := s.Deploy.Resources.Limits; l.CPUs == "" || l.Memory == "" || l.Pids <= 0 {
		add("deploy.resources.limits is %+v, want cpus, memory and pids", l)
	}
	wantOrder := "start-first"
	if name == "peer" {
		// Two nodes must never write the same share volume.
		wantOrder = "stop-first"
		var mount struct{ Type, Source, Target string }
		if len(s.Volumes) != 1 || s.Volumes[0].Decode(&mount) != nil || mount.Type != "volume" || mount.Target != "/share" ||
			!strings.Contains(stack.Volumes[mount.Source].Name, "{{.Task.Slot}}") {
			add("volumes: want /share on a volume named per replica ({{.Task.Slot}})")
		}
	}
	if s.Deploy.UpdateConfig.Order != wantOrder || s.Deploy.RollbackConfig.Order != wantOrder {
		add("deploy update/rollback order is %q/%q, want %s", s.Deploy.UpdateConfig.Order, s.Deploy.RollbackConfig.Order, wantOrder)
	}
	return errs
}

// publishDrift checks deploy/swarm/publish.yml: host-mode ports for the
// container ports compose publishes (the admin port excepted), and
// stop-first updates where a host port is held.
func publishDrift(compose, publish composeFile) ([]string, error) {
	var errs []string
	for name, p := range publish.Services {
		var want, got []string
		for _, node := range compose.Services[name].Ports {
			spec := node.Value
			port := spec[strings.LastIndex(spec, ":")+1:]
			if !strings.HasPrefix(port, "9090") {
				want = append(want, strings.TrimSuffix(port, "/tcp"))
			}
		}
		for _, node := range p.Ports {
			var pp publishPort
			if err := node.Decode(&pp); err != nil {
				return nil, fmt.Errorf("%s: ports: %w", name, err)
			}
			port := fmt.Sprint(pp.Target)
			if pp.Protocol != "tcp" {
				port += "/" + pp.Protocol
			}
			got = append(got, port)
			if pp.Mode != "host" {
				errs = append(errs, fmt.Sprintf("%s: port %d has mode %q, want host (no routing mesh without IPVS)", name, pp.Target, pp.Mode))
			}
		}
		if !slices.Equal(want, got) || len(want) == 0 {
			errs = append(errs, fmt.Sprintf("%s: publish.yml publishes %v, compose %v (admin port aside)", name, got, want))
		}
		if p.Deploy.UpdateConfig.Order != "stop-first" || p.Deploy.RollbackConfig.Order != "stop-first" {
			errs = append(errs, name+": a host port allows one replica per node: updates must be stop-first")
		}
	}
	return errs, nil
}

func TestSwarmStack_MatchesCompose(t *testing.T) {
	compose := readComposeFile(t, "docker-compose.yml")
	stack := readComposeFile(t, "deploy/swarm/stack.yml")
	if len(longRunning(compose)) < 5 {
		t.Fatalf("docker-compose.yml has long-running services %v: want tcp-echo, udp-responder, http-hello, peer, dashboard at least", longRunning(compose))
	}
	for _, e := range swarmDrift(compose, stack) {
		t.Error("deploy/swarm/stack.yml: " + e)
	}
	publish := readComposeFile(t, "deploy/swarm/publish.yml")
	errs, err := publishDrift(compose, publish)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Error("deploy/swarm/publish.yml: " + e)
	}
	for name := range publish.Services {
		if _, ok := stack.Services[name]; !ok {
			t.Errorf("deploy/swarm/publish.yml: service %s is not in the stack", name)
		}
	}
}

// TestSwarmStack_DriftIsCaught breaks a copy of the stack in one place at
// a time and expects the drift check to name the service and the field.
func TestSwarmStack_DriftIsCaught(t *testing.T) {
	compose := readComposeFile(t, "docker-compose.yml")
	cases := []struct {
		name, want string
		breakIt    func(f *composeFile)
	}{
		{"other image", "tcp-echo: image", func(f *composeFile) {
			setService(f, "tcp-echo", func(s *composeService) { s.Image = "netlab/tcp-echo:latest" })
		}},
		{"capabilities kept", "peer: user/read_only/cap_drop", func(f *composeFile) { setService(f, "peer", func(s *composeService) { s.CapDrop = nil }) }},
		{"setting changed", "http-hello: environment", func(f *composeFile) {
			setService(f, "http-hello", func(s *composeService) { s.Environment = map[string]string{"GREETING": "hi"} })
		}},
		{"peer seeds as compose", "peer: environment is map[PEERS:peer", func(f *composeFile) {
			setService(f, "peer", func(s *composeService) { s.Environment["PEERS"] = "peer" })
		}},
		{"virtual IP", "dashboard: deploy.endpoint_mode", func(f *composeFile) {
			setService(f, "dashboard", func(s *composeService) { s.Deploy.EndpointMode = "vip" })
		}},
		{"port published", "udp-responder: ports", func(f *composeFile) {
			setService(f, "udp-responder", func(s *composeService) { s.Ports = []yaml.Node{{Kind: yaml.ScalarNode, Value: "12345:12345/udp"}} })
		}},
		{"one volume for all", "peer: volumes", func(f *composeFile) { f.Volumes = nil }},
		{"service missing", "services: stack has", func(f *composeFile) { delete(f.Services, "dashboard") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stack := readComposeFile(t, "deploy/swarm/stack.yml")
			tc.breakIt(&stack)
			errs := swarmDrift(compose, stack)
			if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, tc.want) }) {
				t.Errorf("drift check found %q, want a message containing %q", errs, tc.want)
			}
		})
	}
}

// setService changes one service of f in place.
func setService(f *composeFile, name string, change func(*composeService)) {
	s := f.Services[name]
	s.Environment = maps.Clone(s.Environment)
	change(&s)
	f.Services[name] = s
}
