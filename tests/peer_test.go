package tests_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/tests/e2e"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
)

// peerctl is the CLI in the peer image.
const peerctl = "/peerctl"

func randomBytes(t *testing.T, n int) ([]byte, [32]byte) {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b, sha256.Sum256(b)
}

func peerLabel(addr string) string { return `peer="` + addr + `"` }

// composeSwarm brings up the compose file's peer service (three nodes,
// admin ports published on free host ports) with env added, and returns
// its nodes.
func composeSwarm(t *testing.T, env map[string]string) []*e2e.PeerNode {
	t.Helper()
	s := e2e.NewStack(t, e2e.StackConfig{Services: []string{e2e.Peer}, Env: env})
	nodes := e2e.PeerNodes(t, s.Service(e2e.Peer))
	if len(nodes) != 3 {
		t.Fatalf("the stack runs %d peer nodes, want 3", len(nodes))
	}
	return nodes
}

// peerSource is a node that holds the file of a transfer.
type peerSource struct {
	alias string
	env   map[string]string
}

// peerTransfer is a download in progress: sources holding one file, and the
// node "dst" fetching it from them.
type peerTransfer struct {
	nw  *testcontainers.DockerNetwork
	src []*e2e.PeerNode // in the order given
	dst *e2e.PeerNode
	id  string
	sum [32]byte // the file's SHA-256
}

// startTransfer starts the sources on a network of their own, gives each
// the same size random bytes as name, starts "dst" with the sources as its
// PEERS, and has it start the download once it sees the file on all of
// them.
func startTransfer(t *testing.T, name string, size int, sources ...peerSource) peerTransfer {
	t.Helper()
	tr := peerTransfer{nw: e2e.NewPeerNetwork(t)}
	data, sum := randomBytes(t, size)
	tr.sum = sum
	var aliases []string
	for _, s := range sources {
		n := e2e.StartPeer(t, tr.nw, s.alias, s.env)
		tr.id = n.Put(name, data)
		tr.src = append(tr.src, n)
		aliases = append(aliases, s.alias)
	}
	tr.dst = e2e.StartPeer(t, tr.nw, "dst", map[string]string{"PEERS": strings.Join(aliases, ",")})
	tr.dst.WaitInSwarm(tr.id, len(sources))
	tr.dst.StartDownload(tr.id)
	return tr
}

// The tutorial, across two containers: one peer sends file.txt, the other
// receives it as received_file.txt (here: on stdout), with peerctl run from
// client containers that reach the nodes by name.
func TestPeer_TutorialSendReceive(t *testing.T) {
	nw := e2e.NewPeerNetwork(t)
	e2e.StartPeer(t, nw, "peer-one", nil)
	receiver := e2e.StartPeer(t, nw, "peer-two", map[string]string{"PEERS": "peer-one"})
	const text = "The quick brown fox sends file.txt to whoever connects.\n"

	send := e2e.RunOneShot(t, e2e.Image(e2e.Peer),
		testcontainers.WithEntrypoint(peerctl),
		testcontainers.WithCmd("--node", "peer-one:9090", "send", "/share/file.txt"),
		testcontainers.WithFiles(testcontainers.ContainerFile{Reader: strings.NewReader(text), ContainerFilePath: "/share/file.txt", FileMode: 0o644}),
		network.WithNetwork(nil, nw),
	)
	if send.ExitCode != 0 || !strings.Contains(send.Stdout, "offered file.txt") {
		t.Fatalf("peerctl send: %s", send)
	}
	recv := e2e.RunOneShot(t, e2e.Image(e2e.Peer),
		testcontainers.WithEntrypoint(peerctl),
		testcontainers.WithCmd("--node", "peer-two:9090", "receive", "--out", "-", "--timeout", "60s"),
		network.WithNetwork(nil, nw),
	)
	if recv.ExitCode != 0 {
		t.Fatalf("peerctl receive: %s", recv)
	}
	if recv.Stdout != text {
		t.Fatalf("received %q, want %q", recv.Stdout, text)
	}
	// The receiving node keeps the file in its share and serves it on.
	receiver.RequireFile("file.txt", sha256.Sum256([]byte(text)))
}

// The compose stack: three nodes (the default scale) with SYNC on; a
// 64 MiB file added on one reaches the other two, byte for byte.
func TestPeer_ComposeSwarmSpreadsFile(t *testing.T) {
	nodes := composeSwarm(t, map[string]string{"PEER_SYNC": "true"})
	for _, n := range nodes {
		e2e.AssertHardened(t, n.Container)
	}
	data, want := randomBytes(t, 64<<20)
	id := nodes[0].Put("big.bin", data)
	for _, n := range nodes[1:] {
		err := e2e.Poll(t.Context(), e2e.TransferTimeout, 250*time.Millisecond, func() error {
			var files []struct {
				ID string `json:"id"`
			}
			if _, err := n.Call(t.Context(), http.MethodGet, "/api/catalog", nil, &files); err != nil {
				return err
			}
			for _, f := range files {
				if f.ID == id {
					return nil
				}
			}
			return fmt.Errorf("%s does not share %s yet", n.Alias, id[:12])
		})
		if err != nil {
			t.Fatal(err)
		}
		n.RequireFile("big.bin", want)
	}
}

// A file held by two nodes is downloaded from both, and the downloader's
// metrics show bytes from each.
func TestPeer_DownloadsFromTwoSources(t *testing.T) {
	slow := map[string]string{"UPLOAD_RATE": "8MiB"}
	tr := startTransfer(t, "two.bin", 32<<20, peerSource{"src-a", slow}, peerSource{"src-b", slow})
	d := tr.dst.WaitComplete(tr.id)
	tr.dst.RequireFile("two.bin", tr.sum)
	for _, src := range tr.src {
		got := tr.dst.Metrics().Value("netlab_peer_bytes_downloaded_total", peerLabel(src.PeerAddr()))
		if got <= 0 {
			t.Errorf("bytes_downloaded_total{peer=%s} = %v, want > 0 (sources %+v)", src.PeerAddr(), got, d.Sources)
		}
		if up := src.Metrics().Value("netlab_peer_bytes_uploaded_total"); up <= 0 {
			t.Errorf("%s uploaded nothing", src.Alias)
		}
	}
}

// Names from outside the share are refused, by the API and by peerctl.
func TestPeer_RefusesPathsOutsideTheShare(t *testing.T) {
	nw := e2e.NewPeerNetwork(t)
	a := e2e.StartPeer(t, nw, "node", nil)
	for _, path := range []string{"/api/files/..%2F..%2Fetc%2Fpasswd", "/api/files/%2Fetc%2Fpasswd", "/api/files/.netlab"} {
		code, err := a.Call(t.Context(), http.MethodGet, path, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if code != http.StatusBadRequest && code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 400 or 404", path, code)
		}
	}
	body := strings.NewReader(`{"ref": "../../etc/passwd"}`)
	if code, err := a.Call(t.Context(), http.MethodPost, "/api/downloads", body, nil); err != nil || code != http.StatusBadRequest {
		t.Errorf("download of ../../etc/passwd = %d, %v; want 400", code, err)
	}
	get := e2e.RunOneShot(t, e2e.Image(e2e.Peer),
		testcontainers.WithEntrypoint(peerctl),
		testcontainers.WithCmd("--node", "node:9090", "get", "../../etc/passwd"),
		network.WithNetwork(nil, nw),
	)
	if get.ExitCode != 1 || !strings.Contains(get.Stderr, "invalid file name") {
		t.Fatalf("peerctl get ../../etc/passwd: %s; want exit 1 and the reason", get)
	}
}

// peerFrame reads one frame of the peer protocol: version, type, payload.
func peerFrame(r io.Reader) (version, typ byte, payload []byte, err error) {
	var h [6]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, 0, nil, err
	}
	n := binary.BigEndian.Uint32(h[2:])
	if n > 1<<20 {
		return 0, 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(r, payload)
	return h[0], h[1], payload, err
}

// A frame header announcing a payload over the protocol's maximum (4 MiB +
// 4096) is refused before the payload is read: the node answers with an
// error frame of code too_large, closes the connection and counts it
// (docs/peer-protocol.md, Framing).
func TestPeer_RefusesOversizedFrameAndCountsIt(t *testing.T) {
	n := e2e.StartPeer(t, e2e.NewPeerNetwork(t), "node", nil)
	conn := e2e.Dial(t, n.PeerAddr())
	_ = conn.SetDeadline(time.Now().Add(e2e.IOTimeout))

	// The node waits for the dialer's hello (docs/peer-protocol.md,
	// Handshake): send a hello header claiming a 4 GiB payload, and no
	// payload.
	if _, err := conn.Write([]byte{1, 1, 0xff, 0xff, 0xff, 0xff}); err != nil {
		t.Fatal(err)
	}
	_, typ, payload, err := peerFrame(conn)
	if err != nil || typ != 12 || len(payload) < 2 {
		t.Fatalf("answer to an oversized frame: type %d payload %q, %v; want an error frame (12)", typ, payload, err)
	}
	if code := binary.BigEndian.Uint16(payload); code != 4 {
		t.Errorf("error code %d (%q), want 4 (too_large)", code, payload[2:])
	}
	if extra, err := io.ReadAll(conn); err != nil || len(extra) > 0 {
		t.Errorf("after the error frame: %d more bytes, %v; want the connection closed", len(extra), err)
	}
	m := n.Metrics()
	if got := m.Value("netlab_peer_frames_invalid_total", `reason="too_large"`); got != 1 {
		t.Errorf(`frames_invalid_total{reason="too_large"} = %v, want 1`, got)
	}
	if got := m.Value("netlab_peer_connections_rejected_total", `reason="handshake"`); got != 1 {
		t.Errorf(`connections_rejected_total{reason="handshake"} = %v, want 1`, got)
	}
}

// With PEER_SECRET set, two nodes with the secret find each other and share
// a file; a node without a secret and one with a wrong secret are refused at
// the handshake (each refusal logged with its address and counted as auth)
// and never see the file.
func TestPeer_SecretRefusesNodesWithoutIt(t *testing.T) {
	nw := e2e.NewPeerNetwork(t)
	const secret = "netlab-e2e-shared-secret"
	start := time.Now()
	a := e2e.StartPeer(t, nw, "a", map[string]string{"PEER_SECRET": secret})
	b := e2e.StartPeer(t, nw, "b", map[string]string{"PEER_SECRET": secret, "PEERS": "a"})
	none := e2e.StartPeer(t, nw, "none", map[string]string{"PEERS": "a"})
	wrong := e2e.StartPeer(t, nw, "wrong", map[string]string{"PEER_SECRET": "not-" + secret, "PEERS": "a"})
	data, want := randomBytes(t, 1<<20)
	id := a.Put("secret.bin", data)

	// The node with the secret gets the file.
	b.WaitInSwarm(id, 1)
	b.StartDownload(id)
	b.WaitComplete(id)
	b.RequireFile("secret.bin", want)

	// Both outsiders have been refused by a, by address.
	outsiders := map[string]*e2e.PeerNode{e2e.ContainerIP(t, none.Container): none, e2e.ContainerIP(t, wrong.Container): wrong}
	err := e2e.Poll(t.Context(), 30*time.Second, 200*time.Millisecond, func() error {
		refused := map[string]bool{}
		for _, l := range e2e.JSONLogs(t, a.Container, start) {
			host, _, _ := net.SplitHostPort(l.Remote)
			if l.Msg == "connection refused" && l.Reason == "auth" && outsiders[host] != nil {
				refused[host] = true
			}
		}
		if len(refused) != len(outsiders) {
			return fmt.Errorf("a refused %v for auth, want both outsiders", refused)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Metrics().Value("netlab_peer_connections_rejected_total", `reason="auth"`); got < 2 {
		t.Errorf(`a: connections_rejected_total{reason="auth"} = %v, want >= 2`, got)
	}
	// And they see nothing of the swarm, nor a them.
	for _, o := range []*e2e.PeerNode{none, wrong} {
		expectAlone(t, o)
	}
	for _, p := range a.Peers() {
		host, _, _ := net.SplitHostPort(p.Addr)
		if outsiders[host] != nil && p.Connected {
			t.Errorf("a is connected to %s (%s), which has no or a wrong secret", p.Addr, outsiders[host].Alias)
		}
	}
}

// expectAlone fails t unless the node is connected to no peer and sees no
// file in the swarm.
func expectAlone(t *testing.T, n *e2e.PeerNode) {
	t.Helper()
	var st struct {
		PeersConnected int `json:"peers_connected"`
	}
	if _, err := n.Call(t.Context(), http.MethodGet, "/api/status", nil, &st); err != nil {
		t.Fatal(err)
	}
	var files []struct {
		ID string `json:"id"`
	}
	if _, err := n.Call(t.Context(), http.MethodGet, "/api/swarm", nil, &files); err != nil {
		t.Fatal(err)
	}
	if st.PeersConnected != 0 || len(files) != 0 {
		t.Errorf("%s: %d peers connected, swarm %v; want none", n.Alias, st.PeersConnected, files)
	}
}
