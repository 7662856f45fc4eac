package tests_test

// Attacks on a peer node from outside (docs/reliability.md): a flood of
// connections that never authenticate, and a catalog and a manifest
// larger than one frame.

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/netlab/netlab/tests/e2e"
)

// floodBinary builds cmd/peerflood, static, for a scratch container.
func floodBinary(t *testing.T) string {
	t.Helper()
	e2e.SkipShort(t)
	bin := filepath.Join(t.TempDir(), "peerflood")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "./cmd/peerflood")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/peerflood: %v\n%s", err, out)
	}
	return bin
}

// timedDownload starts a node named alias with PEERS=seed, has it download
// id, checks the file, and returns how long that took from the node's
// start (ready) to the file complete: finding the seed, the handshake and
// the transfer.
func timedDownload(t *testing.T, nw *testcontainers.DockerNetwork, alias, id, name string, want [32]byte, env map[string]string) time.Duration {
	t.Helper()
	n := e2e.StartPeer(t, nw, alias, env)
	start := time.Now()
	n.WaitInSwarm(id, 1)
	n.StartDownload(id)
	n.WaitComplete(id)
	took := time.Since(start)
	n.RequireFile(name, want)
	return took
}

// 64 connections that never say hello, each reopened as soon as the node
// closes it, from one container, while another node joins the swarm and
// downloads a file: it takes at most twice as long as without the flood.
// Handshakes have their own budget (MAX_HANDSHAKES, per source) and
// deadline, so the flood never takes the place of a peer that
// authenticated. With a secret, as the attack was first tried.
func TestPeer_HandshakeFloodDoesNotLockOutPeers(t *testing.T) {
	flood := floodBinary(t)
	nw := e2e.NewPeerNetwork(t)
	env := map[string]string{"PEER_SECRET": "netlab-e2e-flood", "PEERS": "seed"}
	seedEnv := map[string]string{"PEER_SECRET": env["PEER_SECRET"], "UPLOAD_RATE": "8MiB"}
	seed := e2e.StartPeer(t, nw, "seed", seedEnv)
	calmData, calmSum := randomBytes(t, 24<<20)
	floodData, floodSum := randomBytes(t, 24<<20)
	calmID := seed.Put("calm.bin", calmData)
	floodID := seed.Put("flood.bin", floodData)

	calm := timedDownload(t, nw, "calm", calmID, "calm.bin", calmSum, env)

	ctr, err := testcontainers.Run(t.Context(), e2e.Image(e2e.Peer),
		testcontainers.WithFiles(testcontainers.ContainerFile{HostFilePath: flood, ContainerFilePath: "/peerflood", FileMode: 0o755}),
		testcontainers.WithEntrypoint("/peerflood"),
		testcontainers.WithCmd("-addr", "seed:"+e2e.PeerPort, "-conns", "64", "-for", "5m"),
		testcontainers.WithLabels(map[string]string{e2e.ProjectLabel: "netlab"}),
		network.WithNetwork([]string{"flood"}, nw),
	)
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		t.Fatalf("start the flood: %v", err)
	}
	// The flood is on once the seed refuses some of its connections.
	err = e2e.Poll(t.Context(), 30*time.Second, 200*time.Millisecond, func() error {
		if got := seed.Metrics().Sum("netlab_peer_connections_rejected_total"); got < 1 {
			return fmt.Errorf("no connection refused yet")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	flooded := timedDownload(t, nw, "flooded", floodID, "flood.bin", floodSum, env)
	m := seed.Metrics()
	perSource := m.Sum("netlab_peer_connections_rejected_total", `reason="handshakes_per_source"`)
	timedOut := m.Sum("netlab_peer_connections_rejected_total", `reason="handshake_timeout"`)
	busy := m.Sum("netlab_peer_connections_rejected_total", `reason="max_conns"`)
	ratio := flooded.Seconds() / calm.Seconds()
	t.Logf("FIGURE flood peer calm=%s flooded=%s ratio=%.2f refused_per_source=%v handshake_timeouts=%v max_conns=%v",
		calm.Round(10*time.Millisecond), flooded.Round(10*time.Millisecond), ratio, perSource, timedOut, busy)
	if ratio > 2 {
		t.Errorf("the download took %s under the flood, %.2f× the %s without it; want at most 2×", flooded, ratio, calm)
	}
	if busy != 0 {
		t.Errorf("connections_rejected_total{reason=max_conns} = %v: an authenticated peer was refused", busy)
	}
}

// hostShare is a directory of the host the test fills and a peer node
// then shares (bind-mounted at /share): many files or a sparse one are
// made in a moment there, where a copy into the container takes minutes.
// The node runs as uid 65532, so the directory is given to it: root only.
func hostShare(t *testing.T) (dir string, mount testcontainers.ContainerCustomizer) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a share directory for uid 65532 needs root")
	}
	dir = t.TempDir()
	if err := os.Chown(dir, 65532, 65532); err != nil {
		t.Fatal(err)
	}
	return dir, testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
		hc.Binds = append(hc.Binds, dir+":/share")
	})
}

// longName is the i-th of many file names of 255 bytes, the longest the
// protocol allows.
func longName(i int) string {
	p := fmt.Sprintf("%06d-", i)
	return p + strings.Repeat("n", 255-len(p))
}

// peerFiles is how many catalog entries n holds of each peer.
func peerFiles(t *testing.T, n *e2e.PeerNode) map[string]int {
	t.Helper()
	var peers []struct {
		Addr  string `json:"addr"`
		Files int    `json:"files"`
	}
	if _, err := n.Call(t.Context(), http.MethodGet, "/api/peers", nil, &peers); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, p := range peers {
		out[p.Addr] = p.Files
	}
	return out
}

// A node sharing 66,000 files with 255-byte names (a catalog of 19 MiB,
// five frames' worth) is seen whole by another node, which downloads the
// file whose name sorts last, from the last page.
func TestPeer_CatalogLargerThanAFrame(t *testing.T) {
	const files = 66_000
	dir, mount := hostShare(t)
	for i := range files {
		if err := os.WriteFile(filepath.Join(dir, longName(i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	nw := e2e.NewPeerNetwork(t)
	seed := e2e.StartPeer(t, nw, "seed", nil, mount)
	data, sum := randomBytes(t, 1<<20)
	id := seed.Put("zz-last.bin", data) // sorts after every digit

	dst := e2e.StartPeer(t, nw, "dst", map[string]string{"PEERS": "seed"})
	err := e2e.Poll(t.Context(), 2*time.Minute, time.Second, func() error {
		got := peerFiles(t, dst)[seed.PeerAddr()]
		if got != files+1 {
			return fmt.Errorf("dst holds %d entries of the seed's catalog, want %d", got, files+1)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dst.StartDownload(id)
	dst.WaitComplete(id)
	dst.RequireFile("zz-last.bin", sum)
	t.Logf("FIGURE paging peer catalog_files=%d name_bytes=255", files+1)
}

// A sparse file of 150,000 pieces of 16 KiB (2.3 GiB, a manifest of 4.6
// MiB): another node fetches its manifest in pages, checks it against the
// id and downloads pieces.
func TestPeer_ManifestLargerThanAFrame(t *testing.T) {
	const pieces = 150_000
	dir, mount := hostShare(t)
	f, err := os.Create(filepath.Join(dir, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(pieces * 16 << 10); err != nil {
		t.Fatal(err)
	}
	f.Close()
	nw := e2e.NewPeerNetwork(t)
	e2e.StartPeer(t, nw, "seed", map[string]string{"PIECE_SIZE": "16KiB"}, mount)
	dst := e2e.StartPeer(t, nw, "dst", map[string]string{"PEERS": "seed"})
	id := ""
	err = e2e.Poll(t.Context(), 2*time.Minute, time.Second, func() error {
		var files []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		}
		if _, err := dst.Call(t.Context(), http.MethodGet, "/api/swarm", nil, &files); err != nil {
			return err
		}
		for _, f := range files {
			if f.Name == "big.bin" {
				id = f.ID
				return nil
			}
		}
		return errors.New("big.bin not in dst's swarm yet (the seed hashes 2.3 GiB)")
	})
	if err != nil {
		t.Fatal(err)
	}
	dst.StartDownload(id)
	d := dst.WaitProgress(id, 0.001)
	if d.Pieces != pieces {
		t.Fatalf("download of %d pieces, want %d", d.Pieces, pieces)
	}
	t.Logf("FIGURE paging peer manifest_pieces=%d manifest_bytes=%d verified=%d", d.Pieces, 32*d.Pieces, d.Verified)
}
