package tests_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	dockernetwork "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
)

const (
	peerService   = "peer"
	peerAdminPort = "9090/tcp"
	peerPort      = "8001"
	// peerctl is the CLI in the peer image.
	peerctl = "/peerctl"
	// transferTimeout bounds every download in these tests.
	transferTimeout = 2 * time.Minute
)

// peerNode is one peer container and the host address of its admin API.
type peerNode struct {
	t     *testing.T
	ctr   *testcontainers.DockerContainer
	alias string
	admin string
}

// peerEnv is what every test node runs with: quick refreshes so the tests
// do not wait for the defaults' intervals.
var peerEnv = map[string]string{
	"SHARE_DIR": "/share", "LOG_FORMAT": "json", "LOG_LEVEL": "info",
	"REFRESH_INTERVAL": "500ms", "SCAN_INTERVAL": "500ms",
	"IO_TIMEOUT": "3s", "DIAL_TIMEOUT": "2s",
}

// startPeer runs a peer node on the network under alias, hardened like the
// compose service, with its share on the container's own file system (it
// survives a stop and start).
func startPeer(t *testing.T, nw *testcontainers.DockerNetwork, alias string, env map[string]string) *peerNode {
	t.Helper()
	requireImages(t)
	e := maps.Clone(peerEnv)
	maps.Copy(e, env)
	ctr, err := testcontainers.Run(t.Context(), peerImage,
		testcontainers.WithEnv(e),
		testcontainers.WithExposedPorts(peerAdminPort),
		testcontainers.WithLabels(map[string]string{projectLabel: "netlab"}),
		network.WithNetwork([]string{alias}, nw),
		testcontainers.WithWaitStrategy(wait.ForHTTP("/readyz").WithPort(peerAdminPort).WithStartupTimeout(60*time.Second)),
	)
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		t.Fatalf("start peer %s: %v", alias, err)
	}
	p := &peerNode{t: t, ctr: ctr, alias: alias}
	p.remap()
	return p
}

// remap looks the admin port up again (it changes when the container restarts).
func (p *peerNode) remap() {
	p.t.Helper()
	addr, err := hostAddr(p.t.Context(), p.ctr, peerAdminPort)
	if err != nil {
		p.t.Fatal(err)
	}
	p.admin = addr
}

// peerAddr is how other nodes label this one in their metrics: its IP on
// the network and the protocol port.
func (p *peerNode) peerAddr() string {
	p.t.Helper()
	ip, err := p.ctr.ContainerIP(p.t.Context())
	if err != nil {
		p.t.Fatal(err)
	}
	return net.JoinHostPort(ip, peerPort)
}

// newPeerNetwork creates a network removed when t ends.
func newPeerNetwork(t *testing.T) *testcontainers.DockerNetwork {
	t.Helper()
	nw, err := network.New(t.Context(), network.WithLabels(map[string]string{projectLabel: "netlab"}))
	testcontainers.CleanupNetwork(t, nw)
	if err != nil {
		t.Fatalf("network: %v", err)
	}
	return nw
}

// call sends a request to the node's API and decodes a JSON answer into
// out (when not nil). It returns the status code.
func (p *peerNode) call(ctx context.Context, method, path string, body io.Reader, out any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+p.admin+path, body)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w: %q", method, path, err, abbrev(data))
		}
	}
	return resp.StatusCode, nil
}

// put adds a file to the node's share through the API.
func (p *peerNode) put(name string, data []byte) string {
	p.t.Helper()
	var f struct {
		ID string `json:"id"`
	}
	code, err := p.call(p.t.Context(), http.MethodPut, "/api/files/"+name+"?offer=1", bytes.NewReader(data), &f)
	if err != nil || code != http.StatusCreated {
		p.t.Fatalf("PUT %s on %s = %d, %v", name, p.alias, code, err)
	}
	return f.ID
}

// fileSum is the SHA-256 of a shared file as the node serves it.
func (p *peerNode) fileSum(name string) ([32]byte, error) {
	req, err := http.NewRequestWithContext(p.t.Context(), http.MethodGet, "http://"+p.admin+"/api/files/"+name, nil)
	if err != nil {
		return [32]byte{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return [32]byte{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return [32]byte{}, fmt.Errorf("GET /api/files/%s on %s = %d", name, p.alias, resp.StatusCode)
	}
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		return [32]byte{}, err
	}
	return [32]byte(h.Sum(nil)), nil
}

type peerDownload struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	State    string `json:"state"`
	Error    string `json:"error"`
	Stalled  string `json:"stalled"`
	Size     int64  `json:"size"`
	Bytes    int64  `json:"bytes_done"`
	Pieces   int    `json:"pieces"`
	Resumed  int    `json:"pieces_resumed"`
	Verified int    `json:"pieces_verified"`
	Failed   int    `json:"pieces_failed"`
	Sources  map[string]struct {
		Pieces int   `json:"pieces"`
		Bytes  int64 `json:"bytes"`
		Bad    int   `json:"bad_pieces"`
	} `json:"sources"`
}

// waitInSwarm waits until the node sees the file id held by holders peers.
func (p *peerNode) waitInSwarm(id string, holders int) {
	p.t.Helper()
	err := poll(p.t.Context(), 60*time.Second, 200*time.Millisecond, func() error {
		var files []struct {
			ID      string   `json:"id"`
			Holders []string `json:"holders"`
		}
		if _, err := p.call(p.t.Context(), http.MethodGet, "/api/swarm", nil, &files); err != nil {
			return err
		}
		for _, f := range files {
			if f.ID == id && len(f.Holders) >= holders {
				return nil
			}
		}
		return fmt.Errorf("%s does not see %s on %d peers yet: %v", p.alias, id[:12], holders, files)
	})
	if err != nil {
		p.t.Fatal(err)
	}
}

// startDownload asks the node to fetch ref.
func (p *peerNode) startDownload(ref string) peerDownload {
	p.t.Helper()
	body, _ := json.Marshal(map[string]string{"ref": ref})
	var d peerDownload
	code, err := p.call(p.t.Context(), http.MethodPost, "/api/downloads", bytes.NewReader(body), &d)
	if err != nil || code != http.StatusAccepted {
		p.t.Fatalf("start download of %s on %s = %d, %v", ref, p.alias, code, err)
	}
	return d
}

func (p *peerNode) download(id string) (peerDownload, error) {
	var d peerDownload
	code, err := p.call(p.t.Context(), http.MethodGet, "/api/downloads/"+id, nil, &d)
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("GET /api/downloads/%s on %s = %d", id[:12], p.alias, code)
	}
	return d, err
}

// waitProgress waits until the download holds at least frac of its bytes
// (and is not complete yet, or the test's fault would come too late).
func (p *peerNode) waitProgress(id string, frac float64) peerDownload {
	p.t.Helper()
	var d peerDownload
	err := poll(p.t.Context(), transferTimeout, 50*time.Millisecond, func() error {
		var err error
		if d, err = p.download(id); err != nil {
			return err
		}
		if d.Size > 0 && float64(d.Bytes) >= frac*float64(d.Size) {
			return nil
		}
		return fmt.Errorf("%s holds %d of %d bytes", p.alias, d.Bytes, d.Size)
	})
	if err != nil {
		p.t.Fatal(err)
	}
	if d.State == "complete" {
		p.t.Fatalf("download finished before the fault could be injected (%d bytes); slow the sources down", d.Size)
	}
	return d
}

// waitComplete waits until the download is complete and returns it.
func (p *peerNode) waitComplete(id string) peerDownload {
	p.t.Helper()
	var d peerDownload
	err := poll(p.t.Context(), transferTimeout, 100*time.Millisecond, func() error {
		var err error
		if d, err = p.download(id); err != nil {
			return err
		}
		switch d.State {
		case "complete":
			return nil
		case "failed":
			return fmt.Errorf("download failed: %s", d.Error)
		}
		return fmt.Errorf("%s: %s, %d of %d bytes, stalled: %q", p.alias, d.State, d.Bytes, d.Size, d.Stalled)
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return d
}

func (p *peerNode) metric(name string, labels ...string) float64 {
	p.t.Helper()
	v, err := scrapeMetric(p.t.Context(), p.admin, name, labels...)
	if err != nil {
		p.t.Fatalf("%s on %s: %v", name, p.alias, err)
	}
	return v
}

func randomBytes(t *testing.T, n int) ([]byte, [32]byte) {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b, sha256.Sum256(b)
}

func (p *peerNode) requireFile(name string, want [32]byte) {
	p.t.Helper()
	got, err := p.fileSum(name)
	if err != nil {
		p.t.Fatal(err)
	}
	if got != want {
		p.t.Fatalf("%s on %s has SHA-256 %x, want %x", name, p.alias, got[:8], want[:8])
	}
}

func peerLabel(addr string) string { return `peer="` + addr + `"` }

// The tutorial, across two containers: one peer sends file.txt, the other
// receives it as received_file.txt (here: on stdout), with peerctl run from
// client containers that reach the nodes by name.
func TestPeer_TutorialSendReceive(t *testing.T) {
	skipShort(t)
	nw := newPeerNetwork(t)
	sender := startPeer(t, nw, "peer-one", nil)
	receiver := startPeer(t, nw, "peer-two", map[string]string{"PEERS": "peer-one"})
	const text = "The quick brown fox sends file.txt to whoever connects.\n"

	send := runOneShot(t, peerImage,
		testcontainers.WithEntrypoint(peerctl),
		testcontainers.WithCmd("--node", "peer-one:9090", "send", "/share/file.txt"),
		testcontainers.WithFiles(testcontainers.ContainerFile{Reader: strings.NewReader(text), ContainerFilePath: "/share/file.txt", FileMode: 0o644}),
		network.WithNetwork(nil, nw),
	)
	if send.exitCode != 0 || !strings.Contains(send.stdout, "offered file.txt") {
		t.Fatalf("peerctl send: %s", send)
	}
	recv := runOneShot(t, peerImage,
		testcontainers.WithEntrypoint(peerctl),
		testcontainers.WithCmd("--node", "peer-two:9090", "receive", "--out", "-", "--timeout", "60s"),
		network.WithNetwork(nil, nw),
	)
	if recv.exitCode != 0 {
		t.Fatalf("peerctl receive: %s", recv)
	}
	if recv.stdout != text {
		t.Fatalf("received %q, want %q", recv.stdout, text)
	}
	// The receiving node keeps the file in its share and serves it on.
	receiver.requireFile("file.txt", sha256.Sum256([]byte(text)))
	_ = sender
}

// composeSwarm brings up the compose file's peer service (three nodes,
// admin ports published on free host ports) with env added, and returns
// its nodes.
func composeSwarm(t *testing.T, env map[string]string) []*peerNode {
	t.Helper()
	env["PEER_ADMIN_PUBLISH"] = "127.0.0.1:"
	s := newStack(t, stackConfig{services: []string{peerService}, env: env})
	if len(s.peers) != 3 {
		t.Fatalf("the stack runs %d peer nodes, want 3", len(s.peers))
	}
	nodes := make([]*peerNode, len(s.peers))
	for i, ctr := range s.peers {
		nodes[i] = &peerNode{t: t, ctr: ctr, alias: fmt.Sprintf("peer-%d", i+1)}
		nodes[i].remap()
	}
	return nodes
}

// The compose stack: three nodes (the default scale) with SYNC on; a
// 64 MiB file added on one reaches the other two, byte for byte.
func TestPeer_ComposeSwarmSpreadsFile(t *testing.T) {
	skipShort(t)
	nodes := composeSwarm(t, map[string]string{"PEER_SYNC": "true"})
	for _, n := range nodes {
		assertHardened(t, n.ctr)
	}
	data, want := randomBytes(t, 64<<20)
	id := nodes[0].put("big.bin", data)
	for _, n := range nodes[1:] {
		err := poll(t.Context(), transferTimeout, 250*time.Millisecond, func() error {
			var files []struct {
				ID string `json:"id"`
			}
			if _, err := n.call(t.Context(), http.MethodGet, "/api/catalog", nil, &files); err != nil {
				return err
			}
			for _, f := range files {
				if f.ID == id {
					return nil
				}
			}
			return fmt.Errorf("%s does not share %s yet", n.alias, id[:12])
		})
		if err != nil {
			t.Fatal(err)
		}
		n.requireFile("big.bin", want)
	}
}

// A file held by two nodes is downloaded from both, and the downloader's
// metrics show bytes from each.
func TestPeer_DownloadsFromTwoSources(t *testing.T) {
	skipShort(t)
	nw := newPeerNetwork(t)
	slow := map[string]string{"UPLOAD_RATE": "8MiB"}
	a := startPeer(t, nw, "src-a", slow)
	b := startPeer(t, nw, "src-b", slow)
	data, want := randomBytes(t, 32<<20)
	id := a.put("two.bin", data)
	b.put("two.bin", data)
	c := startPeer(t, nw, "dst", map[string]string{"PEERS": "src-a,src-b"})
	c.waitInSwarm(id, 2)
	c.startDownload(id)
	d := c.waitComplete(id)
	c.requireFile("two.bin", want)
	for _, src := range []*peerNode{a, b} {
		got := c.metric("netlab_peer_bytes_downloaded_total", peerLabel(src.peerAddr()))
		if got <= 0 {
			t.Errorf("bytes_downloaded_total{peer=%s} = %v, want > 0 (sources %+v)", src.peerAddr(), got, d.Sources)
		}
		if up := src.metric("netlab_peer_bytes_uploaded_total"); up <= 0 {
			t.Errorf("%s uploaded nothing", src.alias)
		}
	}
}

// A source killed in the middle of a transfer: the other source finishes it.
func TestPeer_SourceKilledMidTransfer(t *testing.T) {
	skipShort(t)
	nw := newPeerNetwork(t)
	slow := map[string]string{"UPLOAD_RATE": "6MiB"}
	a := startPeer(t, nw, "src-a", slow)
	b := startPeer(t, nw, "src-b", slow)
	data, want := randomBytes(t, 48<<20)
	id := a.put("k.bin", data)
	b.put("k.bin", data)
	c := startPeer(t, nw, "dst", map[string]string{"PEERS": "src-a,src-b"})
	c.waitInSwarm(id, 2)
	c.startDownload(id)
	c.waitProgress(id, 0.25)
	if _, err := requireDocker(t).ContainerKill(t.Context(), a.ctr.GetContainerID(), client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
		t.Fatalf("kill %s: %v", a.alias, err)
	}
	d := c.waitComplete(id)
	c.requireFile("k.bin", want)
	if d.Sources[b.peerAddr()].Pieces == 0 {
		t.Fatalf("the surviving source sent nothing: %+v", d.Sources)
	}
}

// The downloading node restarts mid-transfer: it resumes from its resume
// record and fetches none of the pieces it had verified.
func TestPeer_RestartResumesWithoutRefetching(t *testing.T) {
	skipShort(t)
	nw := newPeerNetwork(t)
	a := startPeer(t, nw, "src", map[string]string{"UPLOAD_RATE": "8MiB"})
	data, want := randomBytes(t, 48<<20)
	id := a.put("r.bin", data)
	c := startPeer(t, nw, "dst", map[string]string{"PEERS": "src"})
	c.waitInSwarm(id, 1)
	c.startDownload(id)
	c.waitProgress(id, 0.3)
	stop := 15 * time.Second
	if err := c.ctr.Stop(t.Context(), &stop); err != nil {
		t.Fatalf("stop: %v", err)
	}
	uploadedBefore := a.metric("netlab_peer_pieces_uploaded_total")
	if err := c.ctr.Start(t.Context()); err != nil {
		t.Fatalf("start again: %v", err)
	}
	c.remap()
	d := c.waitComplete(id)
	c.requireFile("r.bin", want)
	if d.Resumed == 0 {
		t.Fatalf("the restarted node resumed no pieces: %+v", d)
	}
	if d.Resumed+d.Verified != d.Pieces {
		t.Fatalf("resumed %d + fetched %d != %d pieces: verified pieces were fetched again", d.Resumed, d.Verified, d.Pieces)
	}
	if got := c.metric("netlab_peer_pieces_resumed_total"); int(got) != d.Resumed {
		t.Fatalf("pieces_resumed_total = %v, want %d", got, d.Resumed)
	}
	// The source agrees: after the restart it sent exactly the missing pieces.
	uploadedAfter := a.metric("netlab_peer_pieces_uploaded_total")
	if sent := int(uploadedAfter - uploadedBefore); sent != d.Verified {
		t.Fatalf("the source sent %d pieces after the restart, the node verified %d", sent, d.Verified)
	}
}

// The source is cut off the network in the middle of a download: the
// downloader notices (it reports itself stalled), and when the source comes
// back, possibly under a new address, the download heals and completes.
// (The source is the one cut off so the downloader's API, published
// through its network, stays reachable to watch it.)
func TestPeer_PartitionHeals(t *testing.T) {
	skipShort(t)
	nw := newPeerNetwork(t)
	a := startPeer(t, nw, "src", map[string]string{"UPLOAD_RATE": "8MiB"})
	data, want := randomBytes(t, 32<<20)
	id := a.put("p.bin", data)
	c := startPeer(t, nw, "dst", map[string]string{"PEERS": "src"})
	c.waitInSwarm(id, 1)
	c.startDownload(id)
	c.waitProgress(id, 0.2)
	cli := requireDocker(t)
	if _, err := cli.NetworkDisconnect(t.Context(), nw.ID, client.NetworkDisconnectOptions{Container: a.ctr.GetContainerID(), Force: true}); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	held := c.waitStalled(id)
	if _, err := cli.NetworkConnect(t.Context(), nw.ID, client.NetworkConnectOptions{
		Container: a.ctr.GetContainerID(), EndpointConfig: &dockernetwork.EndpointSettings{Aliases: []string{a.alias}},
	}); err != nil {
		t.Fatalf("reconnect: %v", err)
	}
	d := c.waitComplete(id)
	c.requireFile("p.bin", want)
	if d.Bytes < held.Bytes || held.Bytes >= held.Size {
		t.Fatalf("progress: %d of %d bytes when stalled, %d at the end", held.Bytes, held.Size, d.Bytes)
	}
}

// waitStalled waits until the download reports that it has no peer left:
// the node noticed the fault and dropped the source. Only that reason
// counts: the one a download may report in its first second, before it has
// heard what its peers hold, can still be showing when the fault starts.
func (p *peerNode) waitStalled(id string) peerDownload {
	p.t.Helper()
	var d peerDownload
	err := poll(p.t.Context(), 30*time.Second, 100*time.Millisecond, func() error {
		var err error
		if d, err = p.download(id); err != nil {
			return err
		}
		if d.Stalled == "no peers connected" {
			return nil
		}
		return fmt.Errorf("%s: not stalled for want of peers (%s, %d bytes, stalled %q)", p.alias, d.State, d.Bytes, d.Stalled)
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return d
}

// A node that corrupts every piece it serves is detected: its pieces fail
// verification, it is avoided, and the file still arrives intact.
func TestPeer_CorruptPeerDetected(t *testing.T) {
	skipShort(t)
	nw := newPeerNetwork(t)
	liar := startPeer(t, nw, "liar", map[string]string{"CORRUPT_UPLOADS": "1"})
	honest := startPeer(t, nw, "honest", map[string]string{"UPLOAD_RATE": "8MiB"})
	data, want := randomBytes(t, 16<<20)
	id := liar.put("c.bin", data)
	honest.put("c.bin", data)
	c := startPeer(t, nw, "dst", map[string]string{"PEERS": "liar,honest"})
	c.waitInSwarm(id, 2)
	c.startDownload(id)
	d := c.waitComplete(id)
	c.requireFile("c.bin", want)
	if bad := c.metric("netlab_peer_pieces_failed_total", peerLabel(liar.peerAddr())); bad == 0 {
		t.Fatalf("no failed piece counted against the corrupting node (sources %+v)", d.Sources)
	}
	var peers []struct {
		Addr    string `json:"addr"`
		Avoided bool   `json:"avoided"`
	}
	if _, err := c.call(t.Context(), http.MethodGet, "/api/peers", nil, &peers); err != nil {
		t.Fatal(err)
	}
	for _, p := range peers {
		if p.Addr == liar.peerAddr() && !p.Avoided {
			t.Fatalf("the corrupting node is not avoided: %+v", peers)
		}
	}
}

// Names from outside the share are refused, by the API and by peerctl.
func TestPeer_RefusesPathsOutsideTheShare(t *testing.T) {
	skipShort(t)
	nw := newPeerNetwork(t)
	a := startPeer(t, nw, "node", nil)
	for _, path := range []string{"/api/files/..%2F..%2Fetc%2Fpasswd", "/api/files/%2Fetc%2Fpasswd", "/api/files/.netlab"} {
		code, err := a.call(t.Context(), http.MethodGet, path, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if code != http.StatusBadRequest && code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 400 or 404", path, code)
		}
	}
	body := strings.NewReader(`{"ref": "../../etc/passwd"}`)
	if code, err := a.call(t.Context(), http.MethodPost, "/api/downloads", body, nil); err != nil || code != http.StatusBadRequest {
		t.Errorf("download of ../../etc/passwd = %d, %v; want 400", code, err)
	}
	get := runOneShot(t, peerImage,
		testcontainers.WithEntrypoint(peerctl),
		testcontainers.WithCmd("--node", "node:9090", "get", "../../etc/passwd"),
		network.WithNetwork(nil, nw),
	)
	if get.exitCode != 1 || !strings.Contains(get.stderr, "invalid file name") {
		t.Fatalf("peerctl get ../../etc/passwd: %s; want exit 1 and the reason", get)
	}
}
