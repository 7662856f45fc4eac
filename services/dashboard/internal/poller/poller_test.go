package poller_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/services/dashboard/dash/dashtest"
	"github.com/netlab/netlab/services/dashboard/internal/poller"
)

// admin is a fake admin listener of one replica, on an address of the
// test's choosing.
type admin struct {
	*dashtest.Admin
	srv *httptest.Server
}

// startAdmin serves a fake admin listener on ip:port (port 0: any).
func startAdmin(t *testing.T, ip string, port int, service string) *admin {
	t.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("%s:%d", ip, port))
	if err != nil {
		t.Skipf("cannot listen on %s (loopback aliases needed): %v", ip, err)
	}
	a := &admin{Admin: &dashtest.Admin{Service: service, Version: "v1"}}
	a.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: a.Admin}}
	a.srv.Start()
	t.Cleanup(a.srv.Close)
	return a
}

func portOf(a *admin) int { return a.srv.Listener.Addr().(*net.TCPAddr).Port }

// resolver answers from its tables.
type resolver struct {
	mu    sync.Mutex
	hosts map[string][]string
	names map[string]string
	fail  error
}

func (r *resolver) LookupHost(_ context.Context, host string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return nil, r.fail
	}
	ips, ok := r.hosts[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return ips, nil
}

func (r *resolver) LookupAddr(_ context.Context, ip string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n, ok := r.names[ip]; ok {
		return []string{n + ".proj_net."}, nil
	}
	return nil, errors.New("no name")
}

func (r *resolver) set(host string, ips ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hosts[host] = ips
}

func newPoller(targets string, res *resolver, maxReplicas int) *poller.Poller {
	ts, err := poller.ParseTargets(targets)
	if err != nil {
		panic(err)
	}
	return poller.New(poller.Options{Targets: ts, Timeout: 2 * time.Second, MaxReplicas: maxReplicas, MaxBytes: 1 << 20,
		Expiry: 10 * time.Second, Resolver: res, Client: &http.Client{}, Parallel: 4})
}

func replicas(r poller.Round, service string) []poller.Replica {
	for _, s := range r.Services {
		if s.Name == service {
			return s.Replicas
		}
	}
	return nil
}

var t0 = time.Unix(1_800_000_000, 0)

func TestPoller_EveryReplicaOfAServiceByDNS(t *testing.T) {
	a := startAdmin(t, "127.0.0.2", 0, "peer")
	b := startAdmin(t, "127.0.0.3", portOf(a), "peer")
	_ = b
	res := &resolver{hosts: map[string][]string{"peer": {"127.0.0.3", "127.0.0.2"}},
		names: map[string]string{"127.0.0.2": "proj-peer-2", "127.0.0.3": "proj-peer-10"}}
	p := newPoller(fmt.Sprintf("peer=peer:%d", portOf(a)), res, 10)
	round := p.Poll(t.Context(), t0)
	reps := replicas(round, "peer")
	if len(reps) != 2 {
		t.Fatalf("%d replicas, want 2: %+v", len(reps), round)
	}
	for i, want := range []string{"proj-peer-2", "proj-peer-10"} {
		r := reps[i]
		if r.Name != want || r.Key != "peer/"+want || r.State != poller.StateUp || r.Kind != "peer" || r.Version.Version != "v1" {
			t.Errorf("replica %d = %+v, want %s up, kind peer, version v1", i, r, want)
		}
		if r.Metrics == nil || r.Peer == nil || r.Peer.Status.PeersConnected != 2 {
			t.Errorf("replica %d: metrics %v, peer API %+v; want both read", i, r.Metrics != nil, r.Peer)
		}
		if !r.Started.Equal(time.Unix(1_800_000_000, 0)) {
			t.Errorf("replica %d started %v", i, r.Started)
		}
	}
}

func TestPoller_StatesAndSinceWhen(t *testing.T) {
	a := startAdmin(t, "127.0.0.1", 0, "tcp-echo")
	res := &resolver{hosts: map[string][]string{}}
	p := newPoller("tcp-echo="+a.srv.Listener.Addr().String(), res, 10)
	r := replicas(p.Poll(t.Context(), t0), "tcp-echo")[0]
	if r.State != poller.StateUp || !r.Since.Equal(t0) || r.Name != a.srv.Listener.Addr().String() {
		t.Fatalf("first round: %+v, want up since t0 and named by address", r)
	}
	a.SetReady(false)
	r = replicas(p.Poll(t.Context(), t0.Add(time.Second)), "tcp-echo")[0]
	if r.State != poller.StateNotReady || !strings.Contains(r.Err, "503") || !r.Since.Equal(t0.Add(time.Second)) {
		t.Fatalf("not ready: %+v", r)
	}
	a.srv.Close()
	r = replicas(p.Poll(t.Context(), t0.Add(2*time.Second)), "tcp-echo")[0]
	if r.State != poller.StateDown || !strings.Contains(r.Err, "readyz:") || !r.Since.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("down: %+v", r)
	}
	r = replicas(p.Poll(t.Context(), t0.Add(3*time.Second)), "tcp-echo")[0]
	if r.State != poller.StateDown || !r.Since.Equal(t0.Add(2*time.Second)) || !r.LastSeen.Equal(t0.Add(time.Second)) {
		t.Fatalf("still down: %+v, want since the first failed round, last seen when it answered 503", r)
	}
	if r.Metrics != nil {
		t.Error("a down replica kept its last scrape")
	}
}

func TestPoller_ReplicaGoneFromDNSIsDownThenForgotten(t *testing.T) {
	a := startAdmin(t, "127.0.0.2", 0, "http-hello")
	res := &resolver{hosts: map[string][]string{"web": {"127.0.0.2"}}, names: map[string]string{"127.0.0.2": "proj-web-1"}}
	p := newPoller(fmt.Sprintf("web=web:%d", portOf(a)), res, 10)
	p.Poll(t.Context(), t0)
	a.srv.Close()
	res.set("web") // the container stopped: its name is gone
	round := p.Poll(t.Context(), t0.Add(time.Second))
	reps := replicas(round, "web")
	if len(reps) != 1 || reps[0].State != poller.StateDown || reps[0].Resolved || !strings.Contains(reps[0].Err, "no longer in DNS") {
		t.Fatalf("after the stop: %+v, want the replica down, not in DNS", reps)
	}
	if reps := replicas(p.Poll(t.Context(), t0.Add(20*time.Second)), "web"); len(reps) != 0 {
		t.Fatalf("after the expiry: %+v, want it forgotten", reps)
	}
}

func TestPoller_LookupErrorIsTheService(t *testing.T) {
	res := &resolver{hosts: map[string][]string{}}
	p := newPoller("udp=udp-responder:9090", res, 10)
	s := p.Poll(t.Context(), t0).Services[0]
	if s.Err != "lookup udp-responder: lookup udp-responder: no such host" || !s.Since.Equal(t0) {
		t.Fatalf("service %+v, want the lookup error since t0", s)
	}
	s = p.Poll(t.Context(), t0.Add(time.Second)).Services[0]
	if !s.Since.Equal(t0) {
		t.Fatalf("since moved to %v; want the first failure", s.Since)
	}
}

func TestPoller_MaxReplicas(t *testing.T) {
	a := startAdmin(t, "127.0.0.2", 0, "peer")
	startAdmin(t, "127.0.0.3", portOf(a), "peer")
	startAdmin(t, "127.0.0.4", portOf(a), "peer")
	res := &resolver{hosts: map[string][]string{"peer": {"127.0.0.2", "127.0.0.3", "127.0.0.4"}}}
	p := newPoller(fmt.Sprintf("peer=peer:%d", portOf(a)), res, 2)
	round := p.Poll(t.Context(), t0)
	if n := len(replicas(round, "peer")); n != 2 || round.Untracked != 1 {
		t.Fatalf("%d replicas polled, %d untracked; want 2 and 1", n, round.Untracked)
	}
}

func TestParseTargets(t *testing.T) {
	ts, err := poller.ParseTargets(" a=h:1, b=[::1]:9090,a=10.0.0.1:2 ")
	if err != nil || len(ts) != 3 || ts[1].Host != "::1" || ts[2].Service != "a" {
		t.Fatalf("ParseTargets = %+v, %v", ts, err)
	}
	for _, bad := range []string{"", "a", "a=h", "a=h:0", "a=h:x", "=h:1", "a b=h:1", "a=:1"} {
		if _, err := poller.ParseTargets(bad); err == nil {
			t.Errorf("ParseTargets(%q): no error", bad)
		}
	}
}

func TestNaturalCompare(t *testing.T) {
	in := []string{"peer-10", "peer-2", "peer-1", "a", "peer-02x"}
	want := "a peer-1 peer-2 peer-02x peer-10"
	sorted := append([]string(nil), in...)
	for i := range sorted {
		for j := i + 1; j < len(sorted); j++ {
			if poller.NaturalCompare(sorted[j], sorted[i]) < 0 {
				sorted[i], sorted[j] = sorted[j], sorted[i]
			}
		}
	}
	if got := strings.Join(sorted, " "); got != want {
		t.Errorf("sorted %q, want %q", got, want)
	}
}
