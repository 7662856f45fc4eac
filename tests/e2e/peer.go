package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
)

const (
	// PeerPort is the peer protocol's port in every node.
	PeerPort = "8001"
	// TransferTimeout bounds every download of the tests.
	TransferTimeout = 2 * time.Minute
)

// PeerNode is one peer container, driven through its admin API from the
// host. Its helpers fail the test the node belongs to (see Use).
type PeerNode struct {
	t         testing.TB
	Container *testcontainers.DockerContainer
	// Alias is the node's name on its network, and in failure messages.
	Alias string
	admin string
}

// peerEnv is what every node StartPeer runs has: quick refreshes so the
// tests do not wait for the defaults' intervals.
var peerEnv = map[string]string{
	"SHARE_DIR": "/share", "LOG_FORMAT": "json", "LOG_LEVEL": "info",
	"REFRESH_INTERVAL": "500ms", "SCAN_INTERVAL": "500ms",
	"IO_TIMEOUT": "3s", "DIAL_TIMEOUT": "2s",
}

// StartPeer runs a peer node on the network under alias with env added,
// hardened like the compose service, with its share on the container's own
// file system (it survives a stop and start), and opts applied last. It is
// removed when t ends.
func StartPeer(t testing.TB, nw *testcontainers.DockerNetwork, alias string, env map[string]string, opts ...testcontainers.ContainerCustomizer) *PeerNode {
	t.Helper()
	RequireImages(t)
	e := maps.Clone(peerEnv)
	maps.Copy(e, env)
	ctr, err := testcontainers.Run(t.Context(), Image(Peer), append([]testcontainers.ContainerCustomizer{
		testcontainers.WithEnv(e),
		testcontainers.WithExposedPorts(AdminPort),
		testcontainers.WithLabels(map[string]string{ProjectLabel: "netlab"}),
		network.WithNetwork([]string{alias}, nw),
		testcontainers.WithWaitStrategy(wait.ForHTTP("/readyz").WithPort(AdminPort).WithStartupTimeout(60 * time.Second)),
	}, opts...)...)
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		t.Fatalf("start peer %s: %v", alias, err)
	}
	return NewPeerNode(t, ctr, alias)
}

// PeerNodes are the nodes of a stack's peer service, named peer-1, peer-2...
// in compose's numbering.
func PeerNodes(t testing.TB, svc *Service) []*PeerNode {
	t.Helper()
	nodes := make([]*PeerNode, len(svc.Containers))
	for i, ctr := range svc.Containers {
		nodes[i] = NewPeerNode(t, ctr, fmt.Sprintf("peer-%d", i+1))
	}
	return nodes
}

// NewPeerNode drives the running peer container ctr, whose admin port is
// published, on behalf of t.
func NewPeerNode(t testing.TB, ctr *testcontainers.DockerContainer, alias string) *PeerNode {
	t.Helper()
	p := &PeerNode{t: t, Container: ctr, Alias: alias}
	p.Remap()
	return p
}

// NewPeerNetwork creates a network for peers StartPeer runs, removed when t
// ends.
func NewPeerNetwork(t testing.TB) *testcontainers.DockerNetwork {
	t.Helper()
	RequireImages(t)
	nw, err := network.New(t.Context(), network.WithLabels(map[string]string{ProjectLabel: "netlab"}))
	testcontainers.CleanupNetwork(t, nw)
	if err != nil {
		t.Fatalf("network: %v", err)
	}
	return nw
}

// Use makes the node's helpers fail t (a subtest) until t ends, and the
// test they failed before after that.
func (p *PeerNode) Use(t testing.TB) {
	prev := p.t
	p.t = t
	t.Cleanup(func() { p.t = prev })
}

// Remap looks the admin port up again (it changes when the container
// restarts).
func (p *PeerNode) Remap() {
	p.t.Helper()
	addr, err := HostAddr(p.t.Context(), p.Container, AdminPort)
	if err != nil {
		p.t.Fatal(err)
	}
	p.admin = addr
}

// AdminAddr is the host address of the node's admin API.
func (p *PeerNode) AdminAddr() string { return p.admin }

// Metrics scrapes the node's /metrics.
func (p *PeerNode) Metrics() Metrics {
	p.t.Helper()
	return Scrape(p.t, p.admin)
}

// PeerAddr is how other nodes label this one in their metrics: its IP on
// the network and the protocol port.
func (p *PeerNode) PeerAddr() string {
	p.t.Helper()
	return ContainerAddr(p.t, p.Container, PeerPort)
}

// Call sends a request to the node's API and decodes a JSON answer into out
// (when not nil). It returns the status code.
func (p *PeerNode) Call(ctx context.Context, method, path string, body io.Reader, out any) (int, error) {
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
			return resp.StatusCode, fmt.Errorf("%s %s: %w: %q", method, path, err, Abbrev(data))
		}
	}
	return resp.StatusCode, nil
}

// Put adds a file to the node's share through the API, offers it, and
// returns its id.
func (p *PeerNode) Put(name string, data []byte) string {
	p.t.Helper()
	var f struct {
		ID string `json:"id"`
	}
	code, err := p.Call(p.t.Context(), http.MethodPut, "/api/files/"+name+"?offer=1", bytes.NewReader(data), &f)
	if err != nil || code != http.StatusCreated {
		p.t.Fatalf("PUT %s on %s = %d, %v", name, p.Alias, code, err)
	}
	return f.ID
}

// FileSum is the SHA-256 of a shared file as the node serves it.
func (p *PeerNode) FileSum(name string) ([32]byte, error) {
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
		return [32]byte{}, fmt.Errorf("GET /api/files/%s on %s = %d", name, p.Alias, resp.StatusCode)
	}
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		return [32]byte{}, err
	}
	return [32]byte(h.Sum(nil)), nil
}

// RequireFile fails the test unless the node serves name with the SHA-256
// want.
func (p *PeerNode) RequireFile(name string, want [32]byte) {
	p.t.Helper()
	got, err := p.FileSum(name)
	if err != nil {
		p.t.Fatal(err)
	}
	if got != want {
		p.t.Fatalf("%s on %s has SHA-256 %x, want %x", name, p.Alias, got[:8], want[:8])
	}
}

// PeerDownload is a download as the node's API reports it.
type PeerDownload struct {
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
	// Elapsed is from the download's start to its end (or now), seconds.
	Elapsed float64 `json:"elapsed_seconds"`
	Sources map[string]struct {
		Pieces int   `json:"pieces"`
		Bytes  int64 `json:"bytes"`
		Bad    int   `json:"bad_pieces"`
	} `json:"sources"`
}

// WaitInSwarm waits until the node sees the file id held by holders peers.
func (p *PeerNode) WaitInSwarm(id string, holders int) {
	p.t.Helper()
	err := Poll(p.t.Context(), 60*time.Second, 200*time.Millisecond, func() error {
		var files []struct {
			ID      string   `json:"id"`
			Holders []string `json:"holders"`
		}
		if _, err := p.Call(p.t.Context(), http.MethodGet, "/api/swarm", nil, &files); err != nil {
			return err
		}
		for _, f := range files {
			if f.ID == id && len(f.Holders) >= holders {
				return nil
			}
		}
		return fmt.Errorf("%s does not see %s on %d peers yet: %v", p.Alias, id[:12], holders, files)
	})
	if err != nil {
		p.t.Fatal(err)
	}
}

// StartDownload asks the node to fetch ref.
func (p *PeerNode) StartDownload(ref string) PeerDownload {
	p.t.Helper()
	body, _ := json.Marshal(map[string]string{"ref": ref})
	var d PeerDownload
	code, err := p.Call(p.t.Context(), http.MethodPost, "/api/downloads", bytes.NewReader(body), &d)
	if err != nil || code != http.StatusAccepted {
		p.t.Fatalf("start download of %s on %s = %d, %v", ref, p.Alias, code, err)
	}
	return d
}

// Download is the download id as the node reports it now.
func (p *PeerNode) Download(id string) (PeerDownload, error) {
	var d PeerDownload
	code, err := p.Call(p.t.Context(), http.MethodGet, "/api/downloads/"+id, nil, &d)
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("GET /api/downloads/%s on %s = %d", id[:12], p.Alias, code)
	}
	return d, err
}

// waitDownload polls the download id every interval until done accepts it,
// and fails the test after timeout.
func (p *PeerNode) waitDownload(id string, timeout, interval time.Duration, done func(PeerDownload) error) PeerDownload {
	p.t.Helper()
	var d PeerDownload
	err := Poll(p.t.Context(), timeout, interval, func() error {
		var err error
		if d, err = p.Download(id); err != nil {
			return err
		}
		return done(d)
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return d
}

// WaitProgress waits until the download holds at least frac of its bytes
// (and is not complete yet, or the test's fault would come too late).
func (p *PeerNode) WaitProgress(id string, frac float64) PeerDownload {
	p.t.Helper()
	d := p.waitDownload(id, TransferTimeout, 50*time.Millisecond, func(d PeerDownload) error {
		if d.Size > 0 && float64(d.Bytes) >= frac*float64(d.Size) {
			return nil
		}
		return fmt.Errorf("%s holds %d of %d bytes", p.Alias, d.Bytes, d.Size)
	})
	if d.State == "complete" {
		p.t.Fatalf("download finished before the fault could be injected (%d bytes); slow the sources down", d.Size)
	}
	return d
}

// WaitComplete waits until the download is complete and returns it.
func (p *PeerNode) WaitComplete(id string) PeerDownload {
	p.t.Helper()
	return p.waitDownload(id, TransferTimeout, 100*time.Millisecond, func(d PeerDownload) error {
		switch d.State {
		case "complete":
			return nil
		case "failed":
			return fmt.Errorf("download failed: %s", d.Error)
		}
		return fmt.Errorf("%s: %s, %d of %d bytes, stalled: %q", p.Alias, d.State, d.Bytes, d.Size, d.Stalled)
	})
}

// WaitStalled waits until the download reports that it has no peer left:
// the node noticed the fault and dropped the source. Only that reason
// counts: the one a download may report in its first second, before it has
// heard what its peers hold, can still be showing when the fault starts.
func (p *PeerNode) WaitStalled(id string) PeerDownload {
	p.t.Helper()
	return p.waitDownload(id, 30*time.Second, 100*time.Millisecond, func(d PeerDownload) error {
		if d.Stalled == "no peers connected" {
			return nil
		}
		return fmt.Errorf("%s: not stalled for want of peers (%s, %d bytes, stalled %q)", p.Alias, d.State, d.Bytes, d.Stalled)
	})
}

// PeerInfo is one entry of the node's peer table, as /api/peers reports it.
type PeerInfo struct {
	Addr      string `json:"addr"`
	Connected bool   `json:"connected"`
	Avoided   bool   `json:"avoided"`
}

// Peers is the node's peer table.
func (p *PeerNode) Peers() []PeerInfo {
	p.t.Helper()
	var peers []PeerInfo
	if _, err := p.Call(p.t.Context(), http.MethodGet, "/api/peers", nil, &peers); err != nil {
		p.t.Fatal(err)
	}
	return peers
}
