package shape_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/cli"
	"github.com/netlab/netlab/lab/internal/cli/clitest"
	"github.com/netlab/netlab/lab/internal/shape"
	"github.com/netlab/netlab/lab/internal/stack"
)

// fakeDocker is a stack of three containers; docker run answers what the
// shaper would print, or fails for the container in failOn.
type fakeDocker struct {
	calls    [][]string
	failOn   string // container ID whose shaper run fails
	sidecars string // what docker ps lists as sidecars
}

var containers = map[string]string{
	"aaaa1111": ctr("aaaa1111", "netlab-peer-1", "peer", 1, "172.18.0.3"),
	"bbbb2222": ctr("bbbb2222", "netlab-peer-2", "peer", 2, "172.18.0.4"),
	"cccc3333": ctr("cccc3333", "netlab-udp-responder-1", "udp-responder", 1, "172.18.0.2"),
}

func ctr(id, name, service string, n int, ip string) string {
	return fmt.Sprintf(`{"Id":%q,"Name":"/%s","State":{"Status":"running"},
		"Config":{"Labels":{"com.docker.compose.service":%q,"com.docker.compose.container-number":"%d"}},
		"NetworkSettings":{"Networks":{"netlab_netlab":{"IPAddress":%q}}}}`, id, name, service, n, ip)
}

const applied = `{"caps":{"netem":false,"netem_unavailable":"tc qdisc netem: no such file or directory"},"applied":{"spec":{},"items":[` +
	`{"impairment":"loss","value":"2%","direction":"egress","mechanism":"nft numgen","note":"netem unavailable: tc qdisc netem: no such file or directory"}],"delayer":false}}`

func (f *fakeDocker) Run(_ context.Context, args ...string) ([]byte, error) {
	f.calls = append(f.calls, args)
	switch args[0] {
	case "ps":
		if slices.Contains(args, "--format") {
			return []byte(f.sidecars), nil
		}
		return []byte("aaaa1111\nbbbb2222\ncccc3333\n"), nil
	case "inspect":
		var objs []string
		for _, id := range args[1:] {
			objs = append(objs, containers[id])
		}
		return []byte("[" + strings.Join(objs, ",") + "]"), nil
	case "run":
		if f.failOn != "" && slices.Contains(args, "container:"+f.failOn) && slices.Contains(args, "apply") {
			return nil, errors.New("docker run: netlab-shaper apply: boom")
		}
		switch {
		case slices.Contains(args, "apply"):
			return []byte(applied + "\n"), nil
		case slices.Contains(args, "reset"), slices.Contains(args, "heal"):
			return []byte(`{"reset":true}` + "\n"), nil
		case slices.Contains(args, "plan"): // the kernel has no netem
			return []byte(`{"plan":{"spec":{},"items":[],"delayer":true}}` + "\n"), nil
		case slices.Contains(args, "show"):
			return []byte(`{"caps":{},"items":[{"impairment":"partition","value":"172.18.0.2","direction":"egress","mechanism":"nft drop","note":"3 packets dropped"}],"queue":[]}` + "\n"), nil
		case slices.Contains(args, "partition"):
			i := slices.Index(args, "partition")
			return []byte(`{"applied":[{"impairment":"partition","value":"` + strings.Join(args[i+1:], ",") + `","direction":"both","mechanism":"nft drop + conntrack flush"}]}` + "\n"), nil
		}
	case "stop", "rm":
		return nil, nil
	}
	return nil, errors.New("unexpected docker " + strings.Join(args, " "))
}

// FirstLine is a sidecar's docker run: it prints what it applied, or
// fails for the container in failOn.
func (f *fakeDocker) FirstLine(_ context.Context, args ...string) ([]byte, error) {
	f.calls = append(f.calls, args)
	if f.failOn != "" && slices.Contains(args, "container:"+f.failOn) {
		return nil, errors.New("docker run: netlab-shaper run: no queue")
	}
	return []byte(applied + "\n"), nil
}

// runs are the shaper runs made, as "VERB container:ID".
func (f *fakeDocker) runs() []string {
	var out []string
	for _, c := range f.calls {
		if c[0] != "run" {
			continue
		}
		i := slices.Index(c, "--network")
		verb := c[slices.Index(c, "netlab/shaper:dev")+1]
		out = append(out, verb+" "+c[i+1])
	}
	return out
}

func run(t *testing.T, f *fakeDocker, args ...string) (int, string, string) {
	t.Helper()
	cmds := shape.Commands{Docker: f}
	main := map[string]cli.MainFunc{"shape": cmds.Shape, "partition": cmds.Partition, "heal": cmds.Heal, "reset": cmds.Reset}[args[0]]
	return clitest.Run(t.Context(), main, args[1:]...)
}

// Bad input exits 2 naming the flag or field, before any shaper runs.
func TestShape_BadInputNamesTheField(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"shape", "peer", "--rate", "fast"}, `invalid value "fast" for flag -rate`},
		{[]string{"shape", "peer", "--loss", "120%"}, "loss: 120% is outside 0..100%"},
		{[]string{"shape", "peer", "--delay", "10ms", "--jitter", "20ms"}, "jitter: 20ms is above the delay 10ms"},
		{[]string{"shape", "peer", "--direction", "up", "--loss", "1%"}, `direction: "up" is not egress, ingress or both`},
		{[]string{"shape", "peer", "--loss-model", "markov:1%,2%"}, "the model is gilbert:"},
		{[]string{"shape", "peer"}, "no impairment given"},
		{[]string{"shape", "--loss", "1%"}, "want one TARGET, got 0"},
		{[]string{"shape", "peer", "--show", "--loss", "1%"}, "--show and --reset take no impairment"},
		{[]string{"shape", "peer", "--loss", "1%", "--for", "-1s"}, "for: must not be negative"},
		{[]string{"partition", "peer-1"}, "want two targets or more"},
		{[]string{"partition", "peer-1", "peer-2", "--from-all"}, "from-all: name one target, got 2"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f := &fakeDocker{}
			code, stdout, stderr := run(t, f, tt.args...)
			if code != cli.ExitUsage || stdout != "" || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, stdout, stderr, tt.want)
			}
			if len(f.runs()) > 0 {
				t.Errorf("shaper runs %v for bad input", f.runs())
			}
		})
	}
}

// A target that names no container lists the ones there are (exit 2);
// so does --to.
func TestShape_UnknownTargetNamesTheContainers(t *testing.T) {
	for _, args := range [][]string{{"shape", "peer-9", "--loss", "1%"}, {"shape", "peer", "--to", "tcp-echo", "--loss", "1%"}, {"heal", "nope"}} {
		code, _, stderr := run(t, &fakeDocker{}, args...)
		if code != cli.ExitUsage || !strings.Contains(stderr, "the stack has peer-1, peer-2, udp-responder-1") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and the containers named", args, code, stderr)
		}
	}
}

// A service is every replica; each is shaped in its own namespace by the
// hardened shaper image, and each impairment is printed with its mechanism.
func TestShape_EveryReplicaWithItsMechanism(t *testing.T) {
	f := &fakeDocker{}
	code, stdout, stderr := run(t, f, "shape", "peer", "--loss", "2%")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got, want := f.runs(), []string{"apply container:aaaa1111", "apply container:bbbb2222"}; !slices.Equal(got, want) {
		t.Errorf("shaper runs %v, want %v", got, want)
	}
	clitest.Contains(t, "output", stdout, "peer-1: loss 2% egress: nft numgen (netem unavailable: tc qdisc netem: no such file or directory)", "peer-2: loss 2%")
	for _, c := range f.calls {
		if c[0] != "run" {
			continue
		}
		joined := strings.Join(c, " ")
		clitest.Contains(t, "docker", joined, "--user 0:0", "--cap-drop ALL", "--cap-add NET_ADMIN", "--read-only", "--security-opt no-new-privileges", "--rm")
	}
}

// --to is the peer's address on the shared network; the peer itself is
// not shaped.
func TestShape_ToIsThePeersAddress(t *testing.T) {
	f := &fakeDocker{}
	if code, _, stderr := run(t, f, "shape", "peer", "--to", "peer-2", "--loss", "2%"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := f.runs(); !slices.Equal(got, []string{"apply container:aaaa1111"}) {
		t.Errorf("shaper runs %v, want peer-1 alone", got)
	}
	last := f.calls[len(f.calls)-1]
	if i := slices.Index(last, "-to"); i < 0 || last[i+1] != "172.18.0.4" {
		t.Errorf("shaper args %v, want -to 172.18.0.4", last)
	}
}

// A failure part way resets every container already shaped (and the one
// that failed): the rollback.
func TestShape_FailureRollsBack(t *testing.T) {
	f := &fakeDocker{failOn: "bbbb2222"}
	code, _, stderr := run(t, f, "shape", "peer", "--loss", "2%")
	if code != cli.ExitFailure || !strings.Contains(stderr, "boom") {
		t.Fatalf("exit %d, stderr %q; want 1 and the shaper's error", code, stderr)
	}
	want := []string{"apply container:aaaa1111", "apply container:bbbb2222", "reset container:aaaa1111", "reset container:bbbb2222"}
	if got := f.runs(); !slices.Equal(got, want) {
		t.Errorf("shaper runs %v, want %v", got, want)
	}
}

// An interrupted shape (Ctrl-C) rolls back what it applied.
func TestShape_InterruptRollsBack(t *testing.T) {
	f := &fakeDocker{}
	ctx, cancel := context.WithCancel(t.Context())
	cancelAfterFirst := &cancelDocker{fakeDocker: f, cancel: cancel}
	code, _, stderr := clitest.Run(ctx, shape.Commands{Docker: cancelAfterFirst}.Shape, "peer", "--loss", "2%")
	if code != cli.ExitFailure || !strings.Contains(stderr, "interrupted") {
		t.Fatalf("exit %d, stderr %q; want 1 and interrupted", code, stderr)
	}
	want := []string{"apply container:aaaa1111", "reset container:aaaa1111"}
	if got := f.runs(); !slices.Equal(got, want) {
		t.Errorf("shaper runs %v, want %v", got, want)
	}
}

// cancelDocker cancels the command's context after the first apply.
type cancelDocker struct {
	*fakeDocker
	cancel func()
}

func (c *cancelDocker) Run(ctx context.Context, args ...string) ([]byte, error) {
	out, err := c.fakeDocker.Run(ctx, args...)
	if slices.Contains(args, "apply") {
		c.cancel()
	}
	return out, err
}

func TestSpecArgs_RoundTrip(t *testing.T) {
	f := &fakeDocker{}
	if code, _, stderr := run(t, f, "shape", "udp-responder", "--rate", "20mbit", "--burst", "32kb", "--loss", "1.5%", "--direction", "both"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	last := strings.Join(f.calls[len(f.calls)-1], " ")
	clitest.Contains(t, "shaper args", last, "apply -direction both -loss 1.5% -rate 20000000bit -burst 32768")
}

// A --for sidecar reverts by itself and is removed once it has (--rm),
// labelled with the time it reverts; a sidecar without --for stays until
// a reset, and is not removed by Docker when it exits.
func TestShape_ForSidecarRemovesItself(t *testing.T) {
	f := &fakeDocker{}
	code, stdout, stderr := run(t, f, "shape", "peer-1", "--loss", "2%", "--for", "30s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	last := strings.Join(f.calls[len(f.calls)-1], " ")
	clitest.Contains(t, "sidecar run", last, "run --name netlab-shaper-peer-1 ", " --rm ", " --label org.netlab.shaper.until=", "netlab/shaper:dev run -direction egress -loss 2% -for 30s", "--cap-add NET_ADMIN")
	if strings.Contains(last, " -d ") {
		t.Errorf("sidecar run %q is detached: its error would be lost with --rm", last)
	}
	if !strings.Contains(stdout, "peer-1: sidecar netlab-shaper-peer-1; reverts after 30s") {
		t.Errorf("output:\n%s", stdout)
	}

	f = &fakeDocker{}
	if code, _, stderr := run(t, f, "shape", "peer-1", "--delay", "50ms"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if last := strings.Join(f.calls[len(f.calls)-1], " "); !strings.Contains(last, "run -direction egress -delay 50ms") || strings.Contains(last, "--rm") {
		t.Errorf("delayer sidecar run %q: want it kept (no --rm) until a reset", last)
	}
}

// A sidecar that fails to apply is removed, and its error is the command's.
func TestShape_SidecarFailureIsReported(t *testing.T) {
	f := &fakeDocker{failOn: "aaaa1111"}
	code, _, stderr := run(t, f, "shape", "peer-1", "--loss", "2%", "--for", "5s")
	if code != cli.ExitFailure || !strings.Contains(stderr, "peer-1: the shaper sidecar: docker run: netlab-shaper run: no queue") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var removed bool
	for _, c := range f.calls {
		removed = removed || (c[0] == "rm" && slices.Contains(c, "netlab-shaper-peer-1"))
	}
	if !removed {
		t.Errorf("the failed sidecar was not removed: %v", f.calls)
	}
}

// --show writes when a --for sidecar reverts, and names the replica
// behind each partitioned address.
func TestShape_ShowNamesReplicasAndRevertTime(t *testing.T) {
	f := &fakeDocker{sidecars: "netlab-shaper-peer-1\taaaa1111\trunning\tUp 2 seconds\t2026-12-08T10:00:30Z\n"}
	code, stdout, stderr := run(t, f, "shape", "peer-1", "--show")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	clitest.Contains(t, "show", stdout,
		"peer-1: partition 172.18.0.2 (udp-responder-1) egress: nft drop (3 packets dropped)",
		"peer-1: sidecar netlab-shaper-peer-1 running (Up 2 seconds); reverts by itself at 2026-12-08T10:00:30Z")
}

// partition prints each cut address with its replica.
func TestPartition_NamesReplicas(t *testing.T) {
	f := &fakeDocker{}
	code, stdout, stderr := run(t, f, "partition", "peer-1", "peer-2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	clitest.Contains(t, "partition output", stdout, "peer-1: partition 172.18.0.2 (udp-responder-1), 172.18.0.4 (peer-2) both", "peer-2: partition 172.18.0.2 (udp-responder-1), 172.18.0.3 (peer-1) both")
}

// CLI.FirstLine returns a foreground docker run's first line without
// waiting for it to end, and what docker said when it ends first.
func TestCLI_FirstLine(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string) shape.CLI {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return shape.CLI{CLI: stack.CLI{Bin: p}}
	}
	start := time.Now()
	got, err := script("runs-on", `echo '{"applied":1}'; exec sleep 30`).FirstLine(t.Context(), "run")
	if err != nil || string(got) != "{\"applied\":1}\n" || time.Since(start) > 10*time.Second {
		t.Errorf("runs on: %q, %v after %v", got, err, time.Since(start))
	}
	_, err = script("fails", `echo 'netlab-shaper run: no queue' >&2; exit 1`).FirstLine(t.Context(), "run")
	if err == nil || err.Error() != "docker run: netlab-shaper run: no queue" {
		t.Errorf("fails: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, err := script("silent", `exec sleep 30`).FirstLine(ctx, "run"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("silent: %v, want the deadline", err)
	}
}
