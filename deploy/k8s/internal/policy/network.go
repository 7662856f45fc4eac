package policy

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// AdminPortName is the name of every server's admin container port.
const AdminPortName = "admin"

// selected returns the workloads in ns whose pods sel selects.
func (c *checker) selected(ns string, sel labels.Selector) []workload {
	var out []workload
	for _, w := range c.workloads {
		if w.obj.Namespace == ns && !sel.Empty() && sel.Matches(labels.Set(w.pod.Labels)) {
			out = append(out, w)
		}
	}
	return out
}

// services: every server workload has a Service of its name whose ports
// reach its container ports with the same protocol; a StatefulSet's
// serviceName is a headless Service.
func (c *checker) services() {
	svcs := map[string]*corev1.Service{}
	for _, o := range c.objs {
		s, ok := o.Value.(*corev1.Service)
		if !ok {
			continue
		}
		svcs[o.Namespace+"/"+o.Name] = s
		targets := c.selected(o.Namespace, labels.SelectorFromSet(s.Spec.Selector))
		if len(targets) == 0 {
			c.add(o, "spec.selector", "selects no workload's pods")
		}
		for _, w := range targets {
			for _, p := range s.Spec.Ports {
				if !reaches(w.pod.Spec.Containers, p) {
					c.add(o, "spec.ports["+p.Name+"]", "targetPort %s/%s is no container port of %s", p.TargetPort.String(), p.Protocol, w.obj)
				}
			}
		}
	}
	for _, w := range c.workloads {
		s := svcs[w.obj.Namespace+"/"+w.obj.Name]
		if s == nil {
			c.add(w.obj, "metadata.name", "no Service of this name: the other services find it by name")
		}
		if ss, ok := w.obj.Value.(*appsv1.StatefulSet); ok && (s == nil || s.Spec.ClusterIP != corev1.ClusterIPNone || ss.Spec.ServiceName != w.obj.Name) {
			c.add(w.obj, "spec.serviceName", "want the headless Service of the same name (clusterIP: None), which resolves to every node")
		}
	}
}

func reaches(cts []corev1.Container, p corev1.ServicePort) bool {
	for _, ct := range cts {
		for _, cp := range ct.Ports {
			byName := p.TargetPort.Type == intstr.String && cp.Name == p.TargetPort.StrVal
			byNumber := p.TargetPort.Type == intstr.Int && cp.ContainerPort == p.TargetPort.IntVal
			if (byName || byNumber) && cp.Protocol == p.Protocol {
				return true
			}
		}
	}
	return false
}

// disruptionBudgets: every server workload is covered by exactly one.
func (c *checker) disruptionBudgets() {
	covered := map[string]int{}
	for _, o := range c.objs {
		pdb, ok := o.Value.(*policyv1.PodDisruptionBudget)
		if !ok {
			continue
		}
		sel, err := metaSelector(pdb)
		if err != nil {
			c.add(o, "spec.selector", "%v", err)
			continue
		}
		targets := c.selected(o.Namespace, sel)
		if len(targets) == 0 {
			c.add(o, "spec.selector", "selects no workload's pods")
		}
		for _, w := range targets {
			covered[w.obj.String()]++
		}
	}
	for _, w := range c.workloads {
		if n := covered[w.obj.String()]; n != 1 {
			c.add(w.obj, "metadata.labels", "covered by %d PodDisruptionBudgets, want 1", n)
		}
	}
}

// networkPolicies: each namespace with workloads denies ingress by
// default, and no rule opens the admin port, or every port, to sources
// outside the namespace.
func (c *checker) networkPolicies() {
	denied := map[string]bool{}
	for _, o := range c.objs {
		np, ok := o.Value.(*networkingv1.NetworkPolicy)
		if !ok {
			continue
		}
		if isDefaultDeny(np) {
			denied[o.Namespace] = true
		}
		for i, rule := range np.Spec.Ingress {
			if !fromOutside(rule) {
				continue
			}
			field := fmt.Sprintf("spec.ingress[%d]", i)
			if len(rule.Ports) == 0 {
				c.add(o, field+".ports", "every port is open to other namespaces; the admin port must stay inside")
			}
			for j, p := range rule.Ports {
				if c.opensAdmin(np, p) {
					c.add(o, fmt.Sprintf("%s.ports[%d]", field, j), "opens the admin port (%s) to other namespaces", AdminPortName)
				}
			}
		}
	}
	for _, w := range c.workloads {
		if !denied[w.obj.Namespace] {
			c.add(w.obj, "metadata.namespace", "no NetworkPolicy in %q denies ingress by default (podSelector {}, no ingress rules)", w.obj.Namespace)
			denied[w.obj.Namespace] = true // once per namespace
		}
	}
}

func isDefaultDeny(np *networkingv1.NetworkPolicy) bool {
	hasIngress := false
	for _, t := range np.Spec.PolicyTypes {
		hasIngress = hasIngress || t == networkingv1.PolicyTypeIngress
	}
	return hasIngress && len(np.Spec.PodSelector.MatchLabels) == 0 &&
		len(np.Spec.PodSelector.MatchExpressions) == 0 && len(np.Spec.Ingress) == 0
}

// fromOutside: the rule admits some source beyond the namespace's pods.
func fromOutside(rule networkingv1.NetworkPolicyIngressRule) bool {
	if len(rule.From) == 0 {
		return true
	}
	for _, peer := range rule.From {
		if peer.NamespaceSelector != nil || peer.IPBlock != nil {
			return true
		}
	}
	return false
}

// opensAdmin: the port rule admits the admin port of a pod it applies to.
func (c *checker) opensAdmin(np *networkingv1.NetworkPolicy, p networkingv1.NetworkPolicyPort) bool {
	if p.Port == nil {
		return true
	}
	sel, err := selectorOf(np)
	if err != nil {
		return true
	}
	for _, w := range c.workloads {
		if !sel.Matches(labels.Set(w.pod.Labels)) {
			continue
		}
		for _, ct := range w.pod.Spec.Containers {
			for _, cp := range ct.Ports {
				if cp.Name != AdminPortName {
					continue
				}
				end := p.Port.IntVal
				if p.EndPort != nil {
					end = *p.EndPort
				}
				if p.Port.Type == intstr.String && p.Port.StrVal == cp.Name ||
					p.Port.Type == intstr.Int && cp.ContainerPort >= p.Port.IntVal && cp.ContainerPort <= end {
					return true
				}
			}
		}
	}
	return false
}

func selectorOf(np *networkingv1.NetworkPolicy) (labels.Selector, error) {
	return metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
}

func metaSelector(pdb *policyv1.PodDisruptionBudget) (labels.Selector, error) {
	if pdb.Spec.Selector == nil {
		return labels.Nothing(), nil
	}
	return metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
}
