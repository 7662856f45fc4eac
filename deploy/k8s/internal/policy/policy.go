// Package policy holds rendered Kubernetes objects to what the compose file
// gives each service: the same images and settings, the same hardening,
// probes on the admin port, the documented ports, and the private network.
// Every finding names the object and the field.
package policy

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/netlab/netlab/deploy/k8s/internal/compose"
	"github.com/netlab/netlab/deploy/k8s/internal/render"
)

// Finding is one way an object falls short.
type Finding struct {
	Object  string // "Deployment netlab/tcp-echo"
	Field   string // "spec.template.spec.containers[tcp-echo].image"
	Problem string
}

func (f Finding) Error() string { return f.Object + ": " + f.Field + ": " + f.Problem }

// Set says what a rendering must hold.
type Set struct {
	// Compose is the project the objects must match.
	Compose *compose.Project
	// Services are the compose services that must each have a workload
	// here, named after them, with a container of that name.
	Services []string
	// Servers marks the long-running services: they need probes on the
	// admin port, a Service, a PodDisruptionBudget and the network policies.
	Servers bool
}

// workload is a pod template and the object that holds it.
type workload struct {
	obj  render.Object
	path string // the pod spec's field path
	pod  *corev1.PodTemplateSpec
}

// Check returns every finding for objs, sorted.
func Check(objs []render.Object, set Set) []Finding {
	c := &checker{set: set, objs: objs, configMaps: map[string]*corev1.ConfigMap{}}
	for _, o := range objs {
		if cm, ok := o.Value.(*corev1.ConfigMap); ok {
			c.configMaps[o.Namespace+"/"+o.Name] = cm
		}
		if w, ok := podTemplate(o); ok {
			c.workloads = append(c.workloads, w)
		}
	}
	c.coverage()
	for _, w := range c.workloads {
		c.workload(w)
	}
	if set.Servers {
		c.services()
		c.disruptionBudgets()
		c.networkPolicies()
	}
	sort.Slice(c.findings, func(i, j int) bool { return c.findings[i].Error() < c.findings[j].Error() })
	return c.findings
}

type checker struct {
	set        Set
	objs       []render.Object
	configMaps map[string]*corev1.ConfigMap
	workloads  []workload
	findings   []Finding
}

func (c *checker) add(obj render.Object, field, format string, args ...any) {
	c.findings = append(c.findings, Finding{Object: obj.String(), Field: field, Problem: fmt.Sprintf(format, args...)})
}

func podTemplate(o render.Object) (workload, bool) {
	switch v := o.Value.(type) {
	case *appsv1.Deployment:
		return workload{o, "spec.template.spec", &v.Spec.Template}, true
	case *appsv1.StatefulSet:
		return workload{o, "spec.template.spec", &v.Spec.Template}, true
	case *appsv1.DaemonSet:
		return workload{o, "spec.template.spec", &v.Spec.Template}, true
	case *batchv1.Job:
		return workload{o, "spec.template.spec", &v.Spec.Template}, true
	case *corev1.Pod:
		return workload{o, "spec", &corev1.PodTemplateSpec{ObjectMeta: v.ObjectMeta, Spec: v.Spec}}, true
	}
	return workload{}, false
}

// coverage: every service wanted has a workload of its name, and every
// workload is one of them.
func (c *checker) coverage() {
	byName := map[string]bool{}
	for _, w := range c.workloads {
		byName[w.obj.Name] = true
		if !slices.Contains(c.set.Services, w.obj.Name) {
			c.add(w.obj, "metadata.name", "no compose service of this name among %v", c.set.Services)
		}
		if c.set.Servers {
			if _, ok := w.obj.Value.(*batchv1.Job); ok {
				c.add(w.obj, "kind", "a Job among the long-running services")
			}
		}
	}
	for _, name := range c.set.Services {
		if !byName[name] {
			c.findings = append(c.findings, Finding{Object: "compose service " + name, Field: "workload",
				Problem: "no Deployment, StatefulSet or Job of this name"})
		}
	}
}

// workload checks one pod template: hardening, then each container.
func (c *checker) workload(w workload) {
	c.podHardening(w)
	spec := &w.pod.Spec
	if len(spec.InitContainers) > 0 {
		c.add(w.obj, w.path+".initContainers", "not expected: the services start on their own")
	}
	for i := range spec.Containers {
		ct := &spec.Containers[i]
		field := fmt.Sprintf("%s.containers[%s]", w.path, ct.Name)
		svc, ok := c.set.Compose.Services[ct.Name]
		if !ok || ct.Name != w.obj.Name {
			c.add(w.obj, field+".name", "want the workload's name, a compose service's (%s)", w.obj.Name)
			continue
		}
		c.containerHardening(w, ct, field)
		c.resources(w.obj, ct, field)
		env := c.env(w.obj, ct, field, svc)
		c.image(w.obj, ct, field, svc)
		c.ports(w.obj, ct, field, svc, env)
		c.volumes(w, ct, field, svc)
		if c.set.Servers {
			c.probes(w.obj, ct, field, env)
		}
	}
}

// portOf returns the port of a host:port or :port setting.
func portOf(addr string) (int32, bool) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(p, 10, 32)
	return int32(n), err == nil && n > 0 && n < 65536
}
