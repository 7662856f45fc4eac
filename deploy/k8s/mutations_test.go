package k8s_test

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netlab/netlab/deploy/k8s/internal/policy"
	"github.com/netlab/netlab/deploy/k8s/internal/render"
)

func deployment(t *testing.T, objs []render.Object, name string) *appsv1.Deployment {
	t.Helper()
	for _, o := range objs {
		if d, ok := o.Value.(*appsv1.Deployment); ok && o.Name == name {
			return d
		}
	}
	t.Fatalf("no Deployment %s", name)
	return nil
}

func container(t *testing.T, objs []render.Object, name string) *corev1.Container {
	return &deployment(t, objs, name).Spec.Template.Spec.Containers[0]
}

func drop(kind, name string) func(*testing.T, []render.Object) []render.Object {
	return func(_ *testing.T, objs []render.Object) []render.Object {
		return slices.DeleteFunc(objs, func(o render.Object) bool { return o.Kind == kind && o.Name == name })
	}
}

// mutations break one rule each in the rendered dev overlay; want is what
// the finding must say, object and field first.
var mutations = []struct {
	name   string
	mutate func(*testing.T, []render.Object) []render.Object
	want   string
}{
	{"host network", func(t *testing.T, objs []render.Object) []render.Object {
		deployment(t, objs, "http-hello").Spec.Template.Spec.HostNetwork = true
		return objs
	}, "Deployment netlab/http-hello: spec.template.spec: hostNetwork"},
	{"added capability", func(t *testing.T, objs []render.Object) []render.Object {
		container(t, objs, "tcp-echo").SecurityContext.Capabilities.Add = []corev1.Capability{"NET_ADMIN"}
		return objs
	}, "Deployment netlab/tcp-echo: spec.template.spec.containers[tcp-echo].securityContext.capabilities.add: want none"},
	{"writable root", func(t *testing.T, objs []render.Object) []render.Object {
		f := false
		container(t, objs, "dashboard").SecurityContext.ReadOnlyRootFilesystem = &f
		return objs
	}, "Deployment netlab/dashboard: spec.template.spec.containers[dashboard].securityContext.readOnlyRootFilesystem: want true"},
	{"no memory limit", func(t *testing.T, objs []render.Object) []render.Object {
		delete(container(t, objs, "udp-responder").Resources.Limits, corev1.ResourceMemory)
		return objs
	}, "Deployment netlab/udp-responder: spec.template.spec.containers[udp-responder].resources.limits.memory: missing"},
	{"probe on the service port", func(t *testing.T, objs []render.Object) []render.Object {
		container(t, objs, "http-hello").LivenessProbe.HTTPGet.Port = intstr.FromString("http")
		return objs
	}, "Deployment netlab/http-hello: spec.template.spec.containers[http-hello].livenessProbe.httpGet.port: is http, want the admin port 9090"},
	{"setting from a required Secret", func(t *testing.T, objs []render.Object) []render.Object {
		container(t, objs, "udp-responder").Env[0].ValueFrom.SecretKeyRef.Optional = nil
		return objs
	}, "Deployment netlab/udp-responder: spec.template.spec.containers[udp-responder].env[SHUTDOWN_TOKEN].valueFrom"},
	{"no Service", drop("Service", "tcp-echo"), "Deployment netlab/tcp-echo: metadata.name: no Service of this name"},
	{"no disruption budget", drop("PodDisruptionBudget", "peer"), "StatefulSet netlab/peer: metadata.labels: covered by 0 PodDisruptionBudgets"},
	{"no default deny", drop("NetworkPolicy", "default-deny-ingress"), `no NetworkPolicy in "netlab" denies ingress by default`},
	{"no workload for a service", drop("Deployment", "dashboard"), "compose service dashboard: workload: no Deployment, StatefulSet or Job"},
	{"every port open to other namespaces", func(_ *testing.T, objs []render.Object) []render.Object {
		for _, o := range objs {
			if np, ok := o.Value.(*networkingv1.NetworkPolicy); ok && o.Name == "http-hello-clients" {
				np.Spec.Ingress[0].Ports = nil
			}
		}
		return objs
	}, "NetworkPolicy netlab/http-hello-clients: spec.ingress[0].ports: every port is open"},
	{"budget selecting nothing", func(_ *testing.T, objs []render.Object) []render.Object {
		for _, o := range objs {
			if pdb, ok := o.Value.(*policyv1.PodDisruptionBudget); ok && o.Name == "tcp-echo" {
				pdb.Spec.Selector.MatchLabels["app.kubernetes.io/name"] = "tcp-echo-typo"
			}
		}
		return objs
	}, "PodDisruptionBudget netlab/tcp-echo: spec.selector: selects no workload's pods"},
}

// Each rule of the policy, broken once: the check must name the object
// and the field.
func TestPolicy_FindsEachMutation(t *testing.T) {
	p := loadCompose(t)
	for _, tc := range mutations {
		t.Run(tc.name, func(t *testing.T) {
			objs, _, err := render.Kustomize("overlays/dev")
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for _, f := range policy.Check(tc.mutate(t, objs), servers(p)) {
				msgs = append(msgs, f.Error())
			}
			if all := strings.Join(msgs, "\n"); !strings.Contains(all, tc.want) {
				t.Errorf("findings do not say %q:\n%s", tc.want, all)
			}
		})
	}
}
