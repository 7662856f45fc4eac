package policy

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netlab/netlab/deploy/k8s/internal/compose"
	"github.com/netlab/netlab/deploy/k8s/internal/render"
)

// image: the compose service's image, tag included; never latest.
func (c *checker) image(obj render.Object, ct *corev1.Container, field string, svc compose.Service) {
	field += ".image"
	tag := imageTag(ct.Image)
	switch {
	case tag == "":
		c.add(obj, field, "%q has no tag: give the tag `make images` builds", ct.Image)
	case tag == "latest":
		c.add(obj, field, "%q: no latest tags, give the tag `make images` builds", ct.Image)
	}
	if ct.Image != svc.Image {
		c.add(obj, field, "is %q, compose runs %q", ct.Image, svc.Image)
	}
}

// imageTag returns an image reference's tag (a digest counts as one).
func imageTag(ref string) (tag string) {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		return ref[i+1:]
	}
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		return ref[i+1:]
	}
	return ""
}

// env returns the container's environment (its ConfigMaps, then env) and
// reports every variable that differs from the compose service's. An
// optional Secret's key counts as the empty value compose sets by default.
func (c *checker) env(obj render.Object, ct *corev1.Container, field string, svc compose.Service) map[string]string {
	got := map[string]string{}
	for i, from := range ct.EnvFrom {
		ref := from.ConfigMapRef
		if ref == nil || from.Prefix != "" {
			c.add(obj, fmt.Sprintf("%s.envFrom[%d]", field, i), "want a configMapRef without prefix")
			continue
		}
		cm, ok := c.configMaps[obj.Namespace+"/"+ref.Name]
		if !ok {
			c.add(obj, fmt.Sprintf("%s.envFrom[%d].configMapRef.name", field, i), "no ConfigMap %q here", ref.Name)
			continue
		}
		for k, v := range cm.Data {
			got[k] = v
		}
	}
	for _, e := range ct.Env {
		switch {
		case e.ValueFrom == nil:
			got[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Optional != nil && *e.ValueFrom.SecretKeyRef.Optional:
			got[e.Name] = ""
		default:
			c.add(obj, field+".env["+e.Name+"].valueFrom", "want a value or an optional Secret's key")
		}
	}
	for _, k := range unionKeys(got, svc.Env) {
		want, inCompose := svc.Env[k]
		have, here := got[k]
		switch {
		case !here:
			c.add(obj, field+".env["+k+"]", "missing: compose sets %q", want)
		case !inCompose:
			c.add(obj, field+".env["+k+"]", "is %q, compose does not set it for %s", have, svc.Name)
		case have != want:
			c.add(obj, field+".env["+k+"]", "is %q, compose sets %q", have, want)
		}
	}
	return got
}

func unionKeys(a, b map[string]string) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// ports: the listener of LISTEN_ADDR (with the protocol compose publishes
// it with) and the admin listener of ADMIN_ADDR are container ports, and
// so is every port compose publishes.
func (c *checker) ports(obj render.Object, ct *corev1.Container, field string, svc compose.Service, env map[string]string) {
	want := append([]compose.Port(nil), svc.Ports...)
	if n, ok := portOf(env["LISTEN_ADDR"]); ok {
		want = append(want, compose.Port{Number: n, Protocol: protocolOf(svc, n)})
	}
	if n, ok := portOf(env["ADMIN_ADDR"]); ok {
		want = append(want, compose.Port{Number: n, Protocol: "TCP"})
	}
	for i, p := range want {
		if !hasPort(ct.Ports, p) && !slices.Contains(want[:i], p) {
			c.add(obj, field+".ports", "no containerPort %d/%s (the service listens there)", p.Number, p.Protocol)
		}
	}
	for _, p := range ct.Ports {
		if !hasComposePort(want, p) {
			c.add(obj, field+".ports["+p.Name+"]", "%d/%s: the service does not listen there", p.ContainerPort, p.Protocol)
		}
	}
}

func protocolOf(svc compose.Service, n int32) string {
	for _, p := range svc.Ports {
		if p.Number == n {
			return p.Protocol
		}
	}
	return "TCP"
}

func hasPort(ports []corev1.ContainerPort, p compose.Port) bool {
	for _, cp := range ports {
		if cp.ContainerPort == p.Number && string(cp.Protocol) == p.Protocol {
			return true
		}
	}
	return false
}

func hasComposePort(ports []compose.Port, cp corev1.ContainerPort) bool {
	for _, p := range ports {
		if p.Number == cp.ContainerPort && p.Protocol == string(cp.Protocol) {
			return true
		}
	}
	return false
}

// volumes: every compose volume's path is mounted, writable.
func (c *checker) volumes(w workload, ct *corev1.Container, field string, svc compose.Service) {
	for _, path := range svc.Volumes {
		found := false
		for _, m := range ct.VolumeMounts {
			found = found || (m.MountPath == path && !m.ReadOnly)
		}
		if !found {
			c.add(w.obj, field+".volumeMounts", "nothing writable mounted at %s (a volume in compose)", path)
		}
	}
}

// probes: startup, liveness on /healthz and readiness on /readyz, each an
// httpGet on the admin port.
func (c *checker) probes(obj render.Object, ct *corev1.Container, field string, env map[string]string) {
	admin, _ := portOf(env["ADMIN_ADDR"])
	for _, p := range []struct {
		name, path string
		probe      *corev1.Probe
	}{
		{"startupProbe", "", ct.StartupProbe},
		{"livenessProbe", "/healthz", ct.LivenessProbe},
		{"readinessProbe", "/readyz", ct.ReadinessProbe},
	} {
		f := field + "." + p.name
		switch {
		case p.probe == nil:
			c.add(obj, f, "missing")
		case p.probe.HTTPGet == nil:
			c.add(obj, f+".httpGet", "missing: probe the admin port over HTTP")
		case p.path != "" && p.probe.HTTPGet.Path != p.path:
			c.add(obj, f+".httpGet.path", "is %q, want %q", p.probe.HTTPGet.Path, p.path)
		case p.probe.HTTPGet.Path != "/healthz" && p.probe.HTTPGet.Path != "/readyz":
			c.add(obj, f+".httpGet.path", "is %q, want /healthz or /readyz", p.probe.HTTPGet.Path)
		case resolvePort(ct.Ports, p.probe.HTTPGet.Port) != admin:
			c.add(obj, f+".httpGet.port", "is %s, want the admin port %d (ADMIN_ADDR)", p.probe.HTTPGet.Port.String(), admin)
		}
	}
}

// resolvePort returns the number a container port reference means.
func resolvePort(ports []corev1.ContainerPort, ref intstr.IntOrString) int32 {
	if ref.Type == intstr.Int {
		return ref.IntVal
	}
	for _, p := range ports {
		if p.Name == ref.StrVal {
			return p.ContainerPort
		}
	}
	return 0
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }
