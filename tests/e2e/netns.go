package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/testcontainers/testcontainers-go"
)

// RequireNetTools skips t unless this process can run tc and iptables in
// another network namespace (root, and the tools installed).
func RequireNetTools(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network faults need root: nsenter into the container's network namespace")
	}
	for _, tool := range []string{"nsenter", "tc", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("network faults need %s on the host: %v", tool, err)
		}
	}
}

// InNetns runs a command of the host (tc, iptables) inside the container's
// network namespace and returns its output. A command the kernel refuses
// (no such qdisc, no permission) skips the test: the machine cannot inject
// that fault.
func InNetns(t testing.TB, ctr *testcontainers.DockerContainer, args ...string) string {
	t.Helper()
	out, err := NetnsRun(t.Context(), Inspect(t, ctr).State.Pid, args...)
	if err != nil {
		t.Skipf("cannot inject the fault here: nsenter %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// NetnsRun runs a command of the host in the network namespace of process
// pid and returns its combined output.
func NetnsRun(ctx context.Context, pid int, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"-t", fmt.Sprint(pid), "-n"}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// UndoInNetns runs a command in the container's network namespace when t
// ends, to take a fault away again; the container may be gone already (and
// with it the fault).
func UndoInNetns(t testing.TB, ctr *testcontainers.DockerContainer, args ...string) {
	t.Cleanup(func() {
		if info, err := ctr.Inspect(context.Background()); err == nil && info.State.Pid != 0 {
			_, _ = NetnsRun(context.Background(), info.State.Pid, args...)
		}
	})
}

// InputDrops returns the packet counter of the first DROP rule in the
// container's INPUT chain whose listing (iptables -nvxL) mentions match.
func InputDrops(t testing.TB, ctr *testcontainers.DockerContainer, match string) int64 {
	t.Helper()
	return ChainDrops(t, ctr, "INPUT", match)
}

// ChainDrops returns the packet counter of the first DROP rule in the
// container's chain (INPUT, OUTPUT) whose listing mentions match.
func ChainDrops(t testing.TB, ctr *testcontainers.DockerContainer, chain, match string) int64 {
	t.Helper()
	out := InNetns(t, ctr, "iptables", "-nvxL", chain)
	for line := range strings.Lines(out) {
		if strings.Contains(line, match) && strings.Contains(line, "DROP") {
			var pkts int64
			if _, err := fmt.Sscan(line, &pkts); err != nil {
				t.Fatalf("iptables counter in %q: %v", line, err)
			}
			return pkts
		}
	}
	t.Fatalf("no %s rule in the container's %s chain:\n%s", match, chain, out)
	return 0
}

// TCPStat reads one counter of the Tcp: line of /proc/<pid>/net/snmp:
// the counters of the network namespace of process pid (RetransSegs,
// OutSegs, ...).
func TCPStat(t testing.TB, pid int, name string) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/snmp", pid))
	if err != nil {
		t.Fatalf("tcp counters of process %d: %v", pid, err)
	}
	var head []string
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != "Tcp:" {
			continue
		}
		if head == nil {
			head = fields
			continue
		}
		for i, k := range head {
			if k == name && i < len(fields) {
				n, err := strconv.ParseInt(fields[i], 10, 64)
				if err != nil {
					t.Fatalf("tcp counter %s of process %d: %v", name, pid, err)
				}
				return n
			}
		}
	}
	t.Fatalf("no tcp counter %s in /proc/%d/net/snmp", name, pid)
	return 0
}
