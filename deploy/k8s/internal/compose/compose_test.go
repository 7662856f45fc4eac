package compose_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/netlab/netlab/deploy/k8s/internal/compose"
)

func TestInterpolate(t *testing.T) {
	vars := map[string]string{"SET": "v", "EMPTY": ""}
	for _, tc := range []struct{ in, want string }{
		{"${SET}", "v"},
		{"$SET/x", "v/x"},
		{"${UNSET:-d}", "d"},
		{"${EMPTY:-d}", "d"},
		{"${EMPTY-d}", ""},
		{"${SET:-d}", "v"},
		{"${UNSET:-127.0.0.1:9101-9110}:9090", "127.0.0.1:9101-9110:9090"},
		{"$$SET", "$SET"},
		{"${UNSET}", ""},
	} {
		got, err := compose.Interpolate(tc.in, vars)
		if err != nil || got != tc.want {
			t.Errorf("Interpolate(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := compose.Interpolate("${UNSET:?needed}", vars); err == nil {
		t.Error("Interpolate(${UNSET:?needed}): no error")
	}
}

func TestLoad_ResolvesServices(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(".env", "TAG=v1\n")
	write("a.env", "# comment\nA=1\n\nB=two words\n")
	write("compose.yml", `
x-common: &common
  env_file: a.env
services:
  svc:
    <<: *common
    image: example/svc:${TAG:-dev}
    environment:
      B: ${B_OVERRIDE:-over}
      C: ""
    ports: ["${PUB:-127.0.0.1:53}:53/udp", "9090"]
    volumes: [/data, "named:/cache:ro"]
  cli:
    image: example/svc:${TAG:-dev}
    profiles: [tools]
    environment: ["ADDR=svc:53"]
`)
	p, err := compose.Load(filepath.Join(dir, "compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	svc := p.Services["svc"]
	if svc.Image != "example/svc:v1" {
		t.Errorf("image %q, want example/svc:v1 (.env's TAG)", svc.Image)
	}
	want := map[string]string{"A": "1", "B": "over", "C": ""}
	if len(svc.Env) != len(want) {
		t.Errorf("env %v, want %v", svc.Env, want)
	}
	for k, v := range want {
		if svc.Env[k] != v {
			t.Errorf("env %s = %q, want %q", k, svc.Env[k], v)
		}
	}
	if len(svc.Ports) != 2 || svc.Ports[0] != (compose.Port{Number: 53, Protocol: "UDP"}) || svc.Ports[1] != (compose.Port{Number: 9090, Protocol: "TCP"}) {
		t.Errorf("ports %v, want 53/UDP and 9090/TCP", svc.Ports)
	}
	if len(svc.Volumes) != 2 || svc.Volumes[0] != "/data" || svc.Volumes[1] != "/cache" {
		t.Errorf("volumes %v, want [/data /cache]", svc.Volumes)
	}
	if cli := p.Services["cli"]; !cli.HasProfile("tools") || cli.Env["ADDR"] != "svc:53" {
		t.Errorf("cli: %+v", cli)
	}
	if got := p.Names(func(s compose.Service) bool { return len(s.Profiles) == 0 }); len(got) != 1 || got[0] != "svc" {
		t.Errorf("Names(no profile) = %v, want [svc]", got)
	}
}

func TestReadEnvFile_RejectsBadLines(t *testing.T) {
	for name, body := range map[string]string{
		"no equals": "A=1\nnonsense\n",
		"duplicate": "A=1\nA=2\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.env")
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := compose.ReadEnvFile(path); err == nil {
				t.Errorf("%q: no error", body)
			}
		})
	}
}
