package tests_test

import (
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/tests/e2e"
	"github.com/testcontainers/testcontainers-go"
)

const (
	// peerPort and peerAdmin are peer's protocol and admin ports.
	peerPort, peerAdmin = "8001", "9090"
	// swarmPeers and swarmPeersScaled are the peer replicas before and
	// after scaling.
	swarmPeers, swarmPeersScaled = 3, 6
	// swarmFileSize is the size of the file spread across the peers: it
	// travels in a client's argument, so well under the 128 KiB limit.
	swarmFileSize = 48 << 10
	// peerWait bounds waiting for the peers to find each other or a file.
	peerWait = 90 * time.Second
	// loadLimit bounds the http-hello load during its rolling update; the
	// test stops it when the update is done (a new replica healthy, the old
	// one drained, 10 s of monitoring: under a minute here).
	loadLimit = 3 * time.Minute
	// loadLabel marks the load client container, to see it running.
	loadLabel = "org.netlab.swarm.load"
)

// TestSwarm_StackServesScalesAndUpdates deploys deploy/swarm/stack.yml on
// a swarm (a single-node one made for the test when the engine is in
// none), checks every service from client containers on its overlay
// network, spreads a file across the peers that found each other through
// tasks.peer, scales peer from 3 to 6, updates http-hello under load, and
// removes the stack, checking that nothing is left.
func TestSwarm_StackServesScalesAndUpdates(t *testing.T) {
	e2e.RequireImages(t)
	e2e.RequireSwarm(t)
	s := e2e.DeploySwarmStack(t)

	t.Run("replicas run hardened", func(t *testing.T) { checkSwarmHardening(t, s) })
	t.Run("every service answers", func(t *testing.T) { checkSwarmServices(t, s) })
	var file []byte
	t.Run("a file spreads across the peers", func(t *testing.T) { file = spreadSwarmFile(t, s) })
	t.Run("new peers join the swarm", func(t *testing.T) { scaleSwarmPeers(t, s, file) })
	t.Run("rolling update loses no request", func(t *testing.T) { updateUnderLoad(t, s) })
}

// checkSwarmHardening measures every running replica (container settings
// and its main process) and reports the no_new_privs flag it runs with.
func checkSwarmHardening(t *testing.T, s *e2e.SwarmStack) {
	ids := s.Containers(t)
	if len(ids) != 4+swarmPeers {
		t.Fatalf("stack runs %d containers, want %d (one per service, %d peers)", len(ids), 4+swarmPeers, swarmPeers)
	}
	flags := map[string]int{}
	for _, id := range ids {
		flags[e2e.AssertSwarmReplicaHardened(t, id)]++
	}
	t.Logf("replicas by their no_new_privs flag (Engine 20.10 has no such Swarm setting): %v", flags)
}

// swarmClient runs a client binary of a service image on the stack's
// network with env and args.
func swarmClient(t *testing.T, s *e2e.SwarmStack, image, entrypoint string, env map[string]string, args ...string) e2e.OneShot {
	t.Helper()
	return e2e.RunOneShot(t, e2e.Image(image), e2e.OverlayClientOpts(s.Network, entrypoint, env, args...)...)
}

// checkSwarmServices runs each service's own client against it by its
// service name (dnsrr: the name resolves to the replicas).
func checkSwarmServices(t *testing.T, s *e2e.SwarmStack) {
	checks := []struct {
		image, entrypoint string
		env               map[string]string
		args              []string
		want              string
	}{
		{e2e.TCPEcho, "/tcp-echo-client", map[string]string{"TCP_ECHO_ADDR": "tcp-echo:65432"}, nil, "Received b'Hello, world'"},
		{e2e.UDPResponder, "/udp-client", map[string]string{"UDP_SERVER_ADDR": "udp-responder:12345"}, nil, udpGreetingLine},
		{e2e.HTTPHello, httpClient, nil, []string{httpHelloURL}, greeting},
		{e2e.HTTPHello, httpClient, nil, []string{"http://dashboard:8080/"}, "HTTP/1.1 200 OK"},
	}
	for _, c := range checks {
		res := swarmClient(t, s, c.image, c.entrypoint, c.env, c.args...)
		if res.ExitCode != 0 || !strings.Contains(res.Stdout, c.want) {
			t.Errorf("%s %v: want exit 0 and %q, got %s", c.entrypoint, c.args, c.want, res)
		}
	}
}

// swarmPeer is a peer as a node's API lists it.
type swarmPeer struct {
	Addr      string `json:"addr"`
	NodeID    string `json:"node_id"`
	Source    string `json:"source"`
	Connected bool   `json:"connected"`
	Self      bool   `json:"self"`
}

// swarmPeerctl runs peerctl against the node at ip on the stack's network.
func swarmPeerctl(t *testing.T, s *e2e.SwarmStack, ip string, args ...string) (e2e.OneShot, error) {
	node := net.JoinHostPort(ip, peerAdmin)
	return e2e.StartOneShot(t, e2e.Image(e2e.Peer),
		e2e.OverlayClientOpts(s.Network, peerctl, map[string]string{"PEER_NODE": node}, args...)...)
}

// swarmFormed checks that the node at ip learned every other address from
// tasks.peer (source seed) and is connected to every other node.
func swarmFormed(t *testing.T, s *e2e.SwarmStack, ip string, all []string) error {
	res, err := swarmPeerctl(t, s, ip, "--json", "peers")
	if err != nil {
		return err
	}
	var peers []swarmPeer
	if err := json.Unmarshal([]byte(res.Stdout), &peers); err != nil {
		return fmt.Errorf("peers of %s: %w: %s", ip, err, res)
	}
	seeds, nodes := map[string]bool{}, map[string]bool{}
	for _, p := range peers {
		if p.Source == "seed" {
			seeds[p.Addr] = true
		}
		if p.Connected && !p.Self {
			nodes[p.NodeID] = true
		}
	}
	for _, other := range all {
		if addr := net.JoinHostPort(other, peerPort); other != ip && !seeds[addr] {
			return fmt.Errorf("%s has not learned %s from tasks.peer: %+v", ip, addr, peers)
		}
	}
	if len(nodes) != len(all)-1 {
		return fmt.Errorf("%s is connected to %d nodes, want %d: %+v", ip, len(nodes), len(all)-1, peers)
	}
	return nil
}

// waitSwarmFormed waits until every node at ips has found all the others.
func waitSwarmFormed(t *testing.T, s *e2e.SwarmStack, ips []string) {
	t.Helper()
	forEach(t, ips, func(ip string) error {
		return e2e.Poll(t.Context(), peerWait, time.Second, func() error { return swarmFormed(t, s, ip, ips) })
	})
}

// forEach runs f for every ip at once and fails t with the errors.
func forEach(t *testing.T, ips []string, f func(ip string) error) {
	t.Helper()
	errs := make([]error, len(ips))
	var wg sync.WaitGroup
	for i, ip := range ips {
		wg.Go(func() { errs[i] = f(ip) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// fetchFrom has the node at ip download name into its share and checks
// the bytes it saved against want.
func fetchFrom(t *testing.T, s *e2e.SwarmStack, ip, name string, want [32]byte) error {
	return e2e.Poll(t.Context(), peerWait, time.Second, func() error {
		res, err := swarmPeerctl(t, s, ip, "get", name, "--out", "-")
		if err != nil {
			return err
		}
		if res.ExitCode != 0 {
			return fmt.Errorf("%s: get %s: %s", ip, name, res)
		}
		if got := sha256.Sum256([]byte(res.Stdout)); got != want {
			return fmt.Errorf("%s: %s has SHA-256 %x, want %x (%d bytes)", ip, name, got[:8], want[:8], len(res.Stdout))
		}
		return nil
	})
}

// spreadSwarmFile adds a file to the first peer and has every other one
// download it; it returns the file.
func spreadSwarmFile(t *testing.T, s *e2e.SwarmStack) []byte {
	ips := s.TaskIPs(t, e2e.Peer)
	if len(ips) != swarmPeers {
		t.Fatalf("%d peer replicas running, want %d", len(ips), swarmPeers)
	}
	waitSwarmFormed(t, s, ips)
	raw := make([]byte, swarmFileSize*3/4)
	_, _ = rand.Read(raw)
	file := []byte(base64.StdEncoding.EncodeToString(raw))
	url := "http://" + net.JoinHostPort(ips[0], peerAdmin) + "/api/files/swarm.txt?offer=1"
	res := swarmClient(t, s, e2e.HTTPHello, httpClient, nil, "--method", "PUT", "--data", string(file), "--expect", "201", url)
	if res.ExitCode != 0 {
		t.Fatalf("PUT swarm.txt on %s: %s", ips[0], res)
	}
	want := sha256.Sum256(file)
	forEach(t, ips[1:], func(ip string) error { return fetchFrom(t, s, ip, "swarm.txt", want) })
	t.Logf("swarm.txt (%d bytes) added on %s, downloaded with the right hash by %v", len(file), ips[0], ips[1:])
	return file
}

// scaleSwarmPeers scales peer to 6 replicas and checks that the new ones
// find every node, are found by the old ones, and download the file.
func scaleSwarmPeers(t *testing.T, s *e2e.SwarmStack, file []byte) {
	if file == nil {
		t.Skip("no file was spread")
	}
	before := s.TaskIPs(t, e2e.Peer)
	if _, err := e2e.DockerCLI(t.Context(), "service", "scale", "--detach=false", fmt.Sprintf("%s=%d", s.Service(e2e.Peer), swarmPeersScaled)); err != nil {
		t.Fatal(err)
	}
	after := s.TaskIPs(t, e2e.Peer)
	var added []string
	for _, ip := range after {
		if !slices.Contains(before, ip) {
			added = append(added, ip)
		}
	}
	if len(after) != swarmPeersScaled || len(added) != swarmPeersScaled-swarmPeers {
		t.Fatalf("after scaling: peers %v, %v new; want %d, %d new", after, added, swarmPeersScaled, swarmPeersScaled-swarmPeers)
	}
	waitSwarmFormed(t, s, after)
	want := sha256.Sum256(file)
	forEach(t, added, func(ip string) error { return fetchFrom(t, s, ip, "swarm.txt", want) })
	vols, err := e2e.DockerCLI(t.Context(), "volume", "ls", "-q", "--filter", "label="+e2e.StackLabel+"="+s.Name)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(vols)); n != swarmPeersScaled {
		t.Errorf("stack has volumes %q, want one per peer replica (%d)", vols, swarmPeersScaled)
	}
	t.Logf("peer scaled %d → %d: new nodes %v joined every node and fetched swarm.txt", swarmPeers, swarmPeersScaled, added)
}

// loadReport is the part of http-client's --json load summary read here.
type loadReport struct {
	Requests    int64            `json:"requests"`
	Interrupted bool             `json:"interrupted"`
	OK          int64            `json:"ok"`
	Errors      int64            `json:"errors"`
	ErrorKinds  map[string]int64 `json:"error_kinds"`
	StatusCodes map[string]int64 `json:"status_codes"`
}

// updateUnderLoad forces a rolling update of http-hello (start-first)
// while a client sends requests, stops the client with SIGTERM when the
// update is done (it then prints what it has), and expects every request
// answered.
func updateUnderLoad(t *testing.T, s *e2e.SwarmStack) {
	svc := s.Service(e2e.HTTPHello)
	before := s.TaskIPs(t, e2e.HTTPHello)
	var res e2e.OneShot
	var loadErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		opts := append(e2e.OverlayClientOpts(s.Network, httpClient, nil, "--duration", loadLimit.String(), "--rate", "100", "--connections", "4", "--json", httpHelloURL),
			testcontainers.WithLabels(map[string]string{loadLabel: s.Name}))
		res, loadErr = e2e.StartOneShotWithin(t, loadLimit+time.Minute, e2e.Image(e2e.HTTPHello), opts...)
	}()
	client, err := runningLoad(t, s)
	if err == nil {
		_, err = e2e.DockerCLI(t.Context(), "service", "update", "--force", "--detach=false", svc)
	}
	if err == nil {
		err = waitUpdated(t, svc)
	}
	if err == nil {
		_, err = e2e.DockerCLI(t.Context(), "kill", "--signal", "TERM", client)
	}
	<-done
	if err != nil || loadErr != nil {
		t.Fatal(errors.Join(err, loadErr))
	}
	if after := s.TaskIPs(t, e2e.HTTPHello); len(after) != 1 || slices.Equal(after, before) {
		t.Errorf("http-hello replicas %v before the update, %v after: want one, replaced", before, after)
	}
	checkLoad(t, res)
}

// waitUpdated waits until the service's update is completed: the CLI
// returns once the replicas converged, before the monitor period ends.
func waitUpdated(t *testing.T, svc string) error {
	var stuck error
	err := e2e.Poll(t.Context(), 2*time.Minute, 500*time.Millisecond, func() error {
		state, err := e2e.DockerCLI(t.Context(), "service", "inspect", "--format", "{{.UpdateStatus.State}} {{.UpdateStatus.Message}}", svc)
		switch {
		case err != nil:
			return err
		case strings.HasPrefix(state, "completed"):
			return nil
		case strings.HasPrefix(state, "updating"):
			return fmt.Errorf("update of %s: %s", svc, state)
		}
		// Paused or rolled back: it will not complete.
		stuck = fmt.Errorf("update of %s: %s", svc, state)
		return nil
	})
	return cmp.Or(err, stuck)
}

// runningLoad waits until the load client runs and returns its id.
func runningLoad(t *testing.T, s *e2e.SwarmStack) (string, error) {
	var id string
	err := e2e.Poll(t.Context(), time.Minute, 200*time.Millisecond, func() error {
		out, err := e2e.DockerCLI(t.Context(), "ps", "-q", "--filter", "status=running", "--filter", "label="+loadLabel+"="+s.Name)
		if err == nil && out == "" {
			err = errors.New("the load client is not running yet")
		}
		id = out
		return err
	})
	return id, err
}

// checkLoad expects the load client stopped by the signal (so the load
// lasted the whole update) and every request answered 200.
func checkLoad(t *testing.T, res e2e.OneShot) {
	var rep loadReport
	if err := json.Unmarshal([]byte(res.Stdout), &rep); err != nil {
		t.Fatalf("the load client's JSON summary: %v: %s", err, res)
	}
	if !rep.Interrupted {
		t.Fatalf("the load ended before the update did: raise loadLimit\n%s", res)
	}
	if res.ExitCode != 0 || rep.Requests == 0 || rep.Errors != 0 || rep.OK != rep.Requests || rep.StatusCodes["200"] != rep.Requests {
		t.Fatalf("load during the update: %d requests, %d ok, %d errors %v, statuses %v; want every one 200\n%s",
			rep.Requests, rep.OK, rep.Errors, rep.ErrorKinds, rep.StatusCodes, res)
	}
	t.Logf("http-hello replaced (start-first) under load: %d requests, every one answered 200", rep.Requests)
}
