package k8s_test

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/netlab/netlab/deploy/k8s/internal/compose"
	"github.com/netlab/netlab/deploy/k8s/internal/policy"
	"github.com/netlab/netlab/deploy/k8s/internal/render"
)

// composeFile is the stack's compose file, the source of truth.
var composeFile = filepath.Join("..", "..", "docker-compose.yml")

func loadCompose(t *testing.T) *compose.Project {
	t.Helper()
	p, err := compose.Load(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The stack's services (no compose profile) and the clients (profile
// "tools"); the shaper (its own profile) needs NET_ADMIN as root and has no
// counterpart here.
func servers(p *compose.Project) policy.Set {
	return policy.Set{Compose: p, Servers: true, Services: p.Names(func(s compose.Service) bool { return len(s.Profiles) == 0 })}
}

func clients(p *compose.Project) policy.Set {
	return policy.Set{Compose: p, Services: p.Names(func(s compose.Service) bool { return s.HasProfile("tools") })}
}

// verify renders dir and returns every strict-decoding error and finding.
func verify(dir string, set policy.Set) ([]render.Object, error) {
	objs, _, err := render.Kustomize(dir)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, f := range policy.Check(objs, set) {
		errs = append(errs, f)
	}
	return objs, errors.Join(errs...)
}

func TestCompose_ServicesListenOnTheDocumentedPorts(t *testing.T) {
	p := loadCompose(t)
	// The README's and the design's port table; every service's admin
	// listener is on 9090.
	documented := map[string]string{
		"tcp-echo": ":65432", "udp-responder": ":12345", "http-hello": ":8000", "peer": ":8001", "dashboard": ":8080",
	}
	if got := servers(p).Services; len(got) != len(documented) {
		t.Errorf("compose's long-running services are %v; the table has %d", got, len(documented))
	}
	for name, listen := range documented {
		env := p.Services[name].Env
		if env["LISTEN_ADDR"] != listen || env["ADMIN_ADDR"] != ":9090" {
			t.Errorf("compose %s: LISTEN_ADDR=%q ADMIN_ADDR=%q, documented %q and \":9090\"", name, env["LISTEN_ADDR"], env["ADMIN_ADDR"], listen)
		}
	}
	if ports := p.Services["udp-responder"].Ports; len(ports) == 0 || ports[0] != (compose.Port{Number: 12345, Protocol: "UDP"}) {
		t.Errorf("compose udp-responder publishes %v, want 12345/UDP first", ports)
	}
}

func TestOverlays_MatchCompose(t *testing.T) {
	p := loadCompose(t)
	for _, tc := range []struct {
		dir      string
		set      policy.Set
		replicas map[string]int32
	}{
		{"overlays/dev", servers(p), map[string]int32{"tcp-echo": 1, "udp-responder": 1, "http-hello": 1, "peer": 1, "dashboard": 1}},
		{"overlays/lab", servers(p), map[string]int32{"tcp-echo": 1, "udp-responder": 1, "http-hello": 1, "peer": 10, "dashboard": 1}},
		{"jobs", clients(p), nil},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			objs, err := verify(tc.dir, tc.set)
			if err != nil {
				t.Fatalf("%s:\n%v", tc.dir, err)
			}
			for _, o := range objs {
				var n *int32
				switch v := o.Value.(type) {
				case *appsv1.Deployment:
					n = v.Spec.Replicas
				case *appsv1.StatefulSet:
					n = v.Spec.Replicas
				default:
					continue
				}
				if want := tc.replicas[o.Name]; n == nil || *n != want {
					t.Errorf("%s: %v replicas, want %d", o, n, want)
				}
			}
		})
	}
}

// The kustomize library and kubectl's kustomize must render the same
// objects: what the tests check is what `kubectl apply -k` applies.
func TestOverlays_KubectlRendersTheSame(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed: the kubectl kustomize cross-check is skipped (the other checks ran)")
	}
	for _, dir := range []string{"overlays/dev", "overlays/lab", "jobs"} {
		t.Run(dir, func(t *testing.T) {
			ours, _, err := render.Kustomize(dir)
			if err != nil {
				t.Fatal(err)
			}
			theirs, err := render.Kubectl(t.Context(), kubectl, dir)
			if err != nil {
				t.Fatal(err)
			}
			byName := map[string]render.Object{}
			for _, o := range theirs {
				byName[o.String()] = o
			}
			for _, o := range ours {
				k, ok := byName[o.String()]
				switch {
				case !ok:
					t.Errorf("%s: kubectl kustomize does not render it", o)
				case !equality.Semantic.DeepEqual(o.Value, k.Value):
					t.Errorf("%s: kubectl kustomize renders it differently", o)
				}
				delete(byName, o.String())
			}
			for name := range byName {
				t.Errorf("%s: only kubectl kustomize renders it", name)
			}
		})
	}
}

// Each broken manifest fails, and the message names the object and the
// field.
func TestBrokenManifests_AreRefused(t *testing.T) {
	p := loadCompose(t)
	for _, tc := range []struct {
		dir  string
		want []string
	}{
		{"misspelled-field", []string{"Deployment netlab/http-hello", `unknown field "spec.template.spec.containers[0].imagePullPolcy"`}},
		{"missing-probe", []string{"StatefulSet netlab/peer: spec.template.spec.containers[peer].readinessProbe: missing"}},
		{"root-user", []string{"Deployment netlab/tcp-echo: spec.template.spec.containers[tcp-echo].securityContext.runAsUser: is 0, want 65532"}},
		{"drifted-env", []string{`Deployment netlab/http-hello: spec.template.spec.containers[http-hello].env[GREETING]: is "Hi", compose sets "Hello, World!"`}},
		{"latest-tag", []string{`Deployment netlab/udp-responder: spec.template.spec.containers[udp-responder].image: "netlab/udp-responder:latest": no latest tags`}},
		{"admin-port-open", []string{"NetworkPolicy netlab/peer-admin: spec.ingress[0].ports[0]: opens the admin port"}},
		{"udp-as-tcp", []string{
			"Deployment netlab/udp-responder: spec.template.spec.containers[udp-responder].ports: no containerPort 12345/UDP",
			"Service netlab/udp-responder: spec.ports[udp]: targetPort udp/UDP is no container port",
		}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			_, err := verify(filepath.Join("testdata", tc.dir), servers(p))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not say %q:\n%v", want, err)
				}
			}
		})
	}
}

// A change to compose's env files alone, with the manifests as they are,
// fails too.
func TestComposeEnvDrift_IsFound(t *testing.T) {
	p := loadCompose(t)
	svc := p.Services["tcp-echo"]
	svc.Env["MAX_CONNS"] = "1"
	svc.Env["NEW_SETTING"] = "on"
	p.Services["tcp-echo"] = svc
	_, err := verify("overlays/dev", servers(p))
	for _, want := range []string{
		`Deployment netlab/tcp-echo: spec.template.spec.containers[tcp-echo].env[MAX_CONNS]: is "10000", compose sets "1"`,
		`Deployment netlab/tcp-echo: spec.template.spec.containers[tcp-echo].env[NEW_SETTING]: missing: compose sets "on"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}
