package policy

import (
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/netlab/netlab/deploy/k8s/internal/render"
)

// UID is the user and group every netlab container runs as (the images'
// USER, compose's user:).
const UID = 65532

func (c *checker) podHardening(w workload) {
	spec, sc := &w.pod.Spec, w.pod.Spec.SecurityContext
	field := w.path + ".securityContext"
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		c.add(w.obj, w.path, "hostNetwork, hostPID and hostIPC must be off: the stack keeps to its own network")
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		c.add(w.obj, w.path+".automountServiceAccountToken", "want false: no netlab program talks to the Kubernetes API")
	}
	if sc == nil {
		c.add(w.obj, field, "missing: want runAsNonRoot, runAsUser %d and seccompProfile RuntimeDefault", UID)
		return
	}
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		c.add(w.obj, field+".runAsNonRoot", "want true")
	}
	if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		c.add(w.obj, field+".seccompProfile.type", "want RuntimeDefault")
	}
}

// containerHardening checks what the container runs with: its own
// securityContext over the pod's.
func (c *checker) containerHardening(w workload, ct *corev1.Container, field string) {
	pod := w.pod.Spec.SecurityContext
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	sc := ct.SecurityContext
	field += ".securityContext"
	if sc == nil {
		c.add(w.obj, field, "missing: want readOnlyRootFilesystem, allowPrivilegeEscalation false, capabilities drop ALL")
		sc = &corev1.SecurityContext{}
	}
	if id := pick(sc.RunAsUser, pod.RunAsUser); id == nil || *id != UID {
		c.add(w.obj, field+".runAsUser", "is %s, want %d (non-root, as compose's user:)", show(id), UID)
	}
	if id := pick(sc.RunAsGroup, pod.RunAsGroup); id == nil || *id != UID {
		c.add(w.obj, field+".runAsGroup", "is %s, want %d", show(id), UID)
	}
	if b := pick(sc.RunAsNonRoot, pod.RunAsNonRoot); b == nil || !*b {
		c.add(w.obj, field+".runAsNonRoot", "want true")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		c.add(w.obj, field+".readOnlyRootFilesystem", "want true (compose's read_only)")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		c.add(w.obj, field+".allowPrivilegeEscalation", "want false (compose's no-new-privileges)")
	}
	if sc.Privileged != nil && *sc.Privileged {
		c.add(w.obj, field+".privileged", "want false")
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		c.add(w.obj, field+".capabilities.drop", "want [ALL] (compose's cap_drop)")
	}
	if sc.Capabilities != nil && len(sc.Capabilities.Add) > 0 {
		c.add(w.obj, field+".capabilities.add", "want none, got %v", sc.Capabilities.Add)
	}
	seccomp := sc.SeccompProfile
	if seccomp == nil {
		seccomp = pod.SeccompProfile
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		c.add(w.obj, field+".seccompProfile.type", "want RuntimeDefault")
	}
}

// resources: requests and limits for CPU and memory, each request no
// more than its limit.
func (c *checker) resources(obj render.Object, ct *corev1.Container, field string) {
	field += ".resources"
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := ct.Resources.Requests[name]
		lim, hasLim := ct.Resources.Limits[name]
		switch {
		case !hasReq:
			c.add(obj, field+".requests."+string(name), "missing")
		case !hasLim:
			c.add(obj, field+".limits."+string(name), "missing")
		case req.Cmp(lim) > 0:
			c.add(obj, field+".requests."+string(name), "%s is more than the limit %s", req.String(), lim.String())
		}
	}
}

func pick[T any](own, pod *T) *T {
	if own != nil {
		return own
	}
	return pod
}

func show(id *int64) string {
	if id == nil {
		return "unset"
	}
	return formatInt(*id)
}
