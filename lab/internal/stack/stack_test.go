package stack_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/internal/stack"
)

// fakeDocker answers ps with the IDs it holds and inspect with their JSON,
// and records the commands it got.
type fakeDocker struct {
	inspect map[string]string // ID → its `docker inspect` object
	calls   [][]string
}

func (f *fakeDocker) Run(_ context.Context, args ...string) ([]byte, error) {
	f.calls = append(f.calls, args)
	switch args[0] {
	case "ps":
		ids := slices.Sorted(maps.Keys(f.inspect))
		return []byte(strings.Join(ids, "\n") + "\n"), nil
	case "inspect":
		var objs []string
		for _, id := range args[1:] {
			objs = append(objs, f.inspect[id])
		}
		return []byte("[" + strings.Join(objs, ",") + "]"), nil
	}
	return nil, errors.New("unexpected docker " + args[0])
}

// container is the `docker inspect` JSON of a compose container.
func container(id, name, service string, number int, ip string) string {
	return fmt.Sprintf(`{"Id":%q,"Name":"/%s","State":{"Status":"running"},
		"Config":{"Labels":{"com.docker.compose.project":"netlab","com.docker.compose.service":%q,"com.docker.compose.container-number":"%d"}},
		"NetworkSettings":{"Networks":{"netlab_default":{"IPAddress":%q}}}}`, id, name, service, number, ip)
}

// v1 and v2 name their containers differently; the labels are the same.
func newStack(v2 bool) (stack.Stack, *fakeDocker) {
	name := func(svc string, n int) string {
		if v2 {
			return fmt.Sprintf("netlab-%s-%d", svc, n)
		}
		return fmt.Sprintf("netlab_%s_%d", svc, n)
	}
	f := &fakeDocker{inspect: map[string]string{
		"aaaa1111": container("aaaa1111", name("peer", 2), "peer", 2, "172.18.0.4"),
		"bbbb2222": container("bbbb2222", name("peer", 1), "peer", 1, "172.18.0.3"),
		"cccc3333": container("cccc3333", name("tcp-echo", 1), "tcp-echo", 1, "172.18.0.2"),
	}}
	return stack.Stack{Project: "netlab", Docker: f}, f
}

func TestResolve_TheSameNamesWithComposeV1AndV2(t *testing.T) {
	for _, v2 := range []bool{false, true} {
		s, f := newStack(v2)
		for target, want := range map[string][]string{
			"peer":          {"peer-1", "peer-2"},
			"peer-2":        {"peer-2"},
			"peer_1":        {"peer-1"},
			"tcp-echo":      {"tcp-echo-1"},
			"cccc":          {"tcp-echo-1"},
			"netlab-peer-2": {"peer-2"},
			"netlab_peer_2": {"peer-2"},
		} {
			if !v2 && target == "netlab-peer-2" || v2 && target == "netlab_peer_2" {
				continue // the other version's container name
			}
			cs, err := s.Resolve(t.Context(), target)
			if err != nil {
				t.Errorf("v2=%v %q: %v", v2, target, err)
				continue
			}
			var got []string
			for _, c := range cs {
				got = append(got, c.Label())
			}
			if !slices.Equal(got, want) {
				t.Errorf("v2=%v %q = %v, want %v", v2, target, got, want)
			}
		}
		if got := f.calls[0]; !slices.Contains(got, "label=com.docker.compose.project=netlab") {
			t.Errorf("ps was %v: want it to filter by the project label", got)
		}
	}
}

func TestResolve_UnknownTargetSaysWhatThereIs(t *testing.T) {
	s, _ := newStack(true)
	for _, target := range []string{"peer-3", "nope", "ccc"} {
		_, err := s.Resolve(t.Context(), target)
		if !errors.Is(err, stack.ErrUnknownTarget) || !strings.Contains(err.Error(), "peer-1, peer-2, tcp-echo-1") {
			t.Errorf("%q: error %v, want unknown target listing the containers", target, err)
		}
	}
}

func TestContainers_NoStackIsAClearError(t *testing.T) {
	s := stack.Stack{Project: "netlab", Docker: &fakeDocker{inspect: map[string]string{}}}
	if _, err := s.Containers(t.Context()); err == nil || !strings.Contains(err.Error(), "make up") {
		t.Errorf("error %v, want one that says the stack is not up", err)
	}
}

func TestContainer_IP(t *testing.T) {
	c := stack.Container{Service: "peer", Number: 1, IPs: map[string]string{"a": "10.0.0.1"}}
	if ip, err := c.IP(""); err != nil || ip != "10.0.0.1" {
		t.Errorf("IP = %q, %v", ip, err)
	}
	if _, err := c.IP("b"); err == nil {
		t.Error("an address on a network it is not on")
	}
	c.IPs["b"] = "10.1.0.1"
	if _, err := c.IP(""); err == nil {
		t.Error("two networks and no choice made, yet an address")
	}
}
