package e2e

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// NonRootUser is the numeric user:group the images run as.
const NonRootUser = "65532:65532"

// AssertHardened checks how a service container runs: a numeric non-root
// user, a read-only root filesystem, every capability dropped and none
// added, no-new-privileges, not privileged, and every published port bound
// to 127.0.0.1 only. The kernel's view of the main process must agree (no
// effective, permitted or bounding capabilities, no_new_privs set), and
// every process runs as that user (AssertNonRootReadOnly).
func AssertHardened(t testing.TB, ctr *testcontainers.DockerContainer) {
	t.Helper()
	info := Inspect(t, ctr)
	name := strings.TrimPrefix(info.Name, "/")
	assertUnprivilegedConfig(t, name, info)
	assertLoopbackOnly(t, name, info)
	assertProcessUnprivileged(t, name, info.State.Pid)
	AssertNonRootReadOnly(t, ctr)
}

// assertUnprivilegedConfig checks how Docker was asked to run a container:
// as assertNoPrivilegeConfig, and no-new-privileges.
func assertUnprivilegedConfig(t testing.TB, name string, info *container.InspectResponse) {
	t.Helper()
	assertNoPrivilegeConfig(t, name, info)
	if !slices.ContainsFunc(info.HostConfig.SecurityOpt, func(o string) bool { return o == "no-new-privileges" || o == "no-new-privileges:true" }) {
		t.Errorf("%s: SecurityOpt = %v, want no-new-privileges", name, info.HostConfig.SecurityOpt)
	}
}

// assertNoPrivilegeConfig checks a numeric non-root user, a read-only root
// filesystem, every capability dropped and none added, not privileged.
func assertNoPrivilegeConfig(t testing.TB, name string, info *container.InspectResponse) {
	t.Helper()
	uid, gid, ok := strings.Cut(info.Config.User, ":")
	u, uerr := strconv.Atoi(uid)
	g, gerr := strconv.Atoi(gid)
	if !ok || uerr != nil || gerr != nil || u == 0 || g == 0 {
		t.Errorf("%s: Config.User = %q, want numeric non-root uid:gid", name, info.Config.User)
	}
	hc := info.HostConfig
	if !hc.ReadonlyRootfs {
		t.Errorf("%s: root filesystem is writable", name)
	}
	if !slices.ContainsFunc(hc.CapDrop, func(c string) bool { return strings.EqualFold(c, "ALL") }) {
		t.Errorf("%s: CapDrop = %v, want ALL", name, hc.CapDrop)
	}
	if len(hc.CapAdd) > 0 {
		t.Errorf("%s: CapAdd = %v, want none", name, hc.CapAdd)
	}
	if hc.Privileged {
		t.Errorf("%s: privileged", name)
	}
}

// shaperLabel marks the containers netlab starts from the shaper image,
// with the compose project they act on.
const shaperLabel = "org.netlab.shaper.project"

// AssertOnlyShaperPrivileged checks every container of the compose
// project and every shaper container acting on it, running now: the
// shaper containers (found by their label, wantShapers of them) hold
// NET_ADMIN alone (AssertShaperHardened); every other one is configured
// and runs with no capability as a non-root user. Exactly the shaper is
// exempt, and only from the capability and the user.
func AssertOnlyShaperPrivileged(t testing.TB, project string, wantShapers int) {
	t.Helper()
	cli := Docker(t)
	var shapers, others int
	for _, label := range []string{shaperLabel + "=" + project, "com.docker.compose.project=" + project} {
		list, err := cli.ContainerList(t.Context(), client.ContainerListOptions{Filters: make(client.Filters).Add("label", label)})
		if err != nil {
			t.Fatalf("list the containers of %s: %v", project, err)
		}
		for _, c := range list.Items {
			res, err := cli.ContainerInspect(t.Context(), c.ID, client.ContainerInspectOptions{})
			if err != nil {
				t.Fatalf("inspect %s: %v", c.ID, err)
			}
			info := res.Container
			name := strings.TrimPrefix(info.Name, "/")
			if _, ok := info.Config.Labels[shaperLabel]; ok {
				shapers++
				AssertShaperHardened(t, name)
				continue
			}
			others++
			assertUnprivilegedConfig(t, name, &info)
			assertProcessUnprivileged(t, name, info.State.Pid)
		}
	}
	if shapers != wantShapers || others == 0 {
		t.Errorf("%s: %d shaper containers running (want %d), %d others (want some)", project, shapers, wantShapers, others)
	}
	t.Logf("%s: %d shaper container(s) with NET_ADMIN alone, %d others with no capability", project, shapers, others)
}

// assertLoopbackOnly checks that every port compose asked to publish, and
// every port Docker bound, is on 127.0.0.1, and that there is one at least.
func assertLoopbackOnly(t testing.TB, name string, info *container.InspectResponse) {
	t.Helper()
	for port, bindings := range info.HostConfig.PortBindings {
		for _, b := range bindings {
			if b.HostIP.String() != "127.0.0.1" {
				t.Errorf("%s: port %s is to be published on %q, want 127.0.0.1", name, port, b.HostIP)
			}
		}
	}
	published := 0
	for port, bindings := range info.NetworkSettings.Ports {
		for _, b := range bindings {
			published++
			if b.HostIP.String() != "127.0.0.1" {
				t.Errorf("%s: port %s is published on %q:%s, want 127.0.0.1", name, port, b.HostIP, b.HostPort)
			}
		}
	}
	if published == 0 {
		t.Errorf("%s publishes no port (want its ports on 127.0.0.1)", name)
	}
}

// assertProcessUnprivileged checks the kernel's view of the main process:
// no effective, permitted or bounding capabilities, no_new_privs set, and
// no root user or group id.
func assertProcessUnprivileged(t testing.TB, name string, pid int) {
	t.Helper()
	assertProcessStatus(t, name, pid, map[string]string{"NoNewPrivs": "1"})
}

// assertProcessStatus checks /proc/PID/status: no effective, permitted or
// bounding capabilities, no root user or group id, and the fields of also.
// It returns the fields it read (nil when the host cannot read them).
func assertProcessStatus(t testing.TB, name string, pid int, also map[string]string) map[string]string {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Logf("%s: cannot read the process status from the host (%v); checked the configuration only", name, err)
		return nil
	}
	want := map[string]string{"CapEff": "0000000000000000", "CapPrm": "0000000000000000", "CapBnd": "0000000000000000"}
	maps.Copy(want, also)
	fields := map[string]string{}
	for line := range strings.Lines(string(status)) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		v = strings.TrimSpace(v)
		fields[k] = v
		if w, ok := want[k]; ok {
			if v != w {
				t.Errorf("%s: main process %s = %s, want %s", name, k, v, w)
			}
			delete(want, k)
		}
		if k == "Uid" || k == "Gid" {
			for _, id := range strings.Fields(v) {
				if id == "0" {
					t.Errorf("%s: main process %s = %s, want no root id", name, k, v)
				}
			}
		}
	}
	for k := range want {
		t.Errorf("%s: /proc/%d/status has no %s", name, pid, k)
	}
	return fields
}

// AssertNonRootReadOnly checks that ctr is configured to run as the
// non-root user on a read-only root filesystem, and that every process in
// it really runs as that user.
func AssertNonRootReadOnly(t testing.TB, ctr *testcontainers.DockerContainer) {
	t.Helper()
	info := Inspect(t, ctr)
	if info.Config.User != NonRootUser {
		t.Errorf("Config.User = %q, want %q", info.Config.User, NonRootUser)
	}
	if !info.HostConfig.ReadonlyRootfs {
		t.Error("HostConfig.ReadonlyRootfs = false, want true")
	}
	top, err := Docker(t).ContainerTop(t.Context(), ctr.GetContainerID(),
		client.ContainerTopOptions{Arguments: []string{"-o", "pid,uid,gid,comm"}})
	if err != nil {
		t.Fatalf("container top: %v", err)
	}
	uidCol, gidCol := slices.Index(top.Titles, "UID"), slices.Index(top.Titles, "GID")
	if uidCol < 0 || gidCol < 0 {
		t.Fatalf("container top titles %v: no UID or GID column", top.Titles)
	}
	if len(top.Processes) == 0 {
		t.Fatal("container top lists no processes")
	}
	for _, p := range top.Processes {
		if p[uidCol] != "65532" || p[gidCol] != "65532" {
			t.Errorf("process %v runs as uid %s gid %s, want 65532", p, p[uidCol], p[gidCol])
		}
	}
}

// capNetAdmin is CAP_NET_ADMIN (12) as /proc/PID/status writes a set.
const capNetAdmin = "0000000000001000"

// AssertShaperHardened checks the one container of the lab that is not
// hardened like the services, the shaper (netlab-shaper in a target's
// network namespace), by name: uid 0, every capability dropped but
// NET_ADMIN, which it holds, and nothing else (the kernel's view of its
// main process agrees), read-only, no-new-privileges, not privileged.
func AssertShaperHardened(t testing.TB, name string) {
	t.Helper()
	res, err := Docker(t).ContainerInspect(t.Context(), name, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatalf("inspect %s: %v", name, err)
	}
	info := res.Container
	if info.Config.User != "0:0" {
		t.Errorf("%s: Config.User = %q, want 0:0 (Docker gives a non-root user no effective capability)", name, info.Config.User)
	}
	hc := info.HostConfig
	if !hc.ReadonlyRootfs || hc.Privileged {
		t.Errorf("%s: read-only %v, privileged %v; want read-only and not privileged", name, hc.ReadonlyRootfs, hc.Privileged)
	}
	if !slices.ContainsFunc(hc.CapDrop, func(c string) bool { return strings.EqualFold(c, "ALL") }) {
		t.Errorf("%s: CapDrop = %v, want ALL", name, hc.CapDrop)
	}
	if len(hc.CapAdd) != 1 || strings.TrimPrefix(strings.ToUpper(hc.CapAdd[0]), "CAP_") != "NET_ADMIN" {
		t.Errorf("%s: CapAdd = %v, want NET_ADMIN alone", name, hc.CapAdd)
	}
	if !slices.ContainsFunc(hc.SecurityOpt, func(o string) bool { return o == "no-new-privileges" || o == "no-new-privileges:true" }) {
		t.Errorf("%s: SecurityOpt = %v, want no-new-privileges", name, hc.SecurityOpt)
	}
	if !strings.HasPrefix(string(hc.NetworkMode), "container:") {
		t.Errorf("%s: NetworkMode = %q, want a target's namespace (container:ID)", name, hc.NetworkMode)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", info.State.Pid))
	if err != nil {
		t.Logf("%s: cannot read the process status from the host (%v); checked the configuration only", name, err)
		return
	}
	want := map[string]string{"CapEff": capNetAdmin, "CapPrm": capNetAdmin, "CapBnd": capNetAdmin,
		"CapInh": "0000000000000000", "CapAmb": "0000000000000000", "NoNewPrivs": "1"}
	for line := range strings.Lines(string(status)) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		if w, ok := want[k]; ok {
			if v = strings.TrimSpace(v); v != w {
				t.Errorf("%s: main process %s = %s, want %s", name, k, v, w)
			}
			delete(want, k)
		}
	}
	for k := range want {
		t.Errorf("%s: /proc/%d/status has no %s", name, info.State.Pid, k)
	}
}
