package node_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/node"
	"github.com/netlab/netlab/services/peer/internal/node/nodetest"
	"github.com/netlab/netlab/services/platform/poll"
)

// testNode is a node on loopback with its API on an httptest server.
type testNode struct {
	t    testing.TB
	n    *node.Node
	dir  string
	api  string
	reg  *prometheus.Registry
	stop func()
}

func (tn *testNode) addr() string { return tn.n.Addr().String() }

// startNode starts a node sharing dir. env adds or overrides settings.
func startNode(t testing.TB, dir string, env map[string]string) *testNode {
	t.Helper()
	n := nodetest.Start(t, dir, env)
	return &testNode{t: t, n: n.Node, dir: n.Dir, api: n.API, reg: n.Reg, stop: n.Stop}
}

// writeRandomFile creates a file of size random bytes and returns its SHA-256.
func writeRandomFile(t testing.TB, path string, size int) [32]byte {
	t.Helper()
	data := make([]byte, size)
	_, _ = rand.Read(data)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

// heldByBoth writes the same size random bytes as name into the shares of
// a and b, and returns their hash.
func heldByBoth(t testing.TB, a, b *testNode, name string, size int) [32]byte {
	t.Helper()
	want := writeRandomFile(t, filepath.Join(a.dir, name), size)
	data, err := os.ReadFile(filepath.Join(a.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return want
}

// waitHolders waits until tn sees one file in the swarm, listed by n
// connected peers.
func (tn *testNode) waitHolders(n int) {
	tn.t.Helper()
	poll.Until(tn.t, fmt.Sprintf("the file held by %d peers", n), 10*time.Second, func() bool {
		var files []struct{ Holders []string }
		tn.call("GET", "/api/swarm", nil, &files)
		return len(files) == 1 && len(files[0].Holders) == n
	})
}

func fileHash(t testing.TB, path string) [32]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

func (tn *testNode) call(method, path string, body any, out any) int {
	tn.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, tn.api+path, r)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tn.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

type downloadStatus struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	State    string `json:"state"`
	Error    string `json:"error"`
	Stalled  string `json:"stalled"`
	Pieces   int    `json:"pieces"`
	Resumed  int    `json:"pieces_resumed"`
	Verified int    `json:"pieces_verified"`
	Failed   int    `json:"pieces_failed"`
	Bytes    int64  `json:"bytes_done"`
	Have     []byte `json:"have"`
	Sources  map[string]struct {
		Pieces int `json:"pieces"`
		Bad    int `json:"bad_pieces"`
	} `json:"sources"`
}

// inSwarm waits until tn sees a file named name held by another node.
func (tn *testNode) inSwarm(name string) string {
	tn.t.Helper()
	var id string
	poll.Until(tn.t, name+" in the swarm", 10*time.Second, func() bool {
		var files []struct {
			ID      string   `json:"id"`
			Name    string   `json:"name"`
			Holders []string `json:"holders"`
		}
		tn.call("GET", "/api/swarm", nil, &files)
		for _, f := range files {
			if f.Name == name && len(f.Holders) > 0 {
				id = f.ID
				return true
			}
		}
		return false
	})
	return id
}

// download starts a download of ref and waits until it completes.
func (tn *testNode) download(ref string, timeout time.Duration) downloadStatus {
	tn.t.Helper()
	var st downloadStatus
	if code := tn.call("POST", "/api/downloads", map[string]string{"ref": ref}, &st); code != http.StatusAccepted {
		tn.t.Fatalf("POST /api/downloads = %d", code)
	}
	return tn.waitDownload(st.ID, timeout)
}

func (tn *testNode) waitDownload(id string, timeout time.Duration) downloadStatus {
	tn.t.Helper()
	var st downloadStatus
	poll.Until(tn.t, "download "+id[:12], timeout, func() bool {
		tn.call("GET", "/api/downloads/"+id, nil, &st)
		if st.State == "failed" {
			tn.t.Fatalf("download failed: %s", st.Error)
		}
		return st.State == "complete"
	})
	return st
}

func TestNode_TwoNodesTransferAFile(t *testing.T) {
	a := startNode(t, t.TempDir(), nil)
	want := writeRandomFile(t, filepath.Join(a.dir, "file.txt"), 1<<20+12345)
	b := startNode(t, t.TempDir(), map[string]string{"PEERS": a.addr()})
	b.inSwarm("file.txt")
	st := b.download("file.txt", 20*time.Second)
	if got := fileHash(t, filepath.Join(b.dir, "file.txt")); got != want {
		t.Fatal("downloaded file differs from the source")
	}
	if st.Verified != st.Pieces || st.Pieces != 17 {
		t.Fatalf("verified %d of %d pieces, want 17 of 17", st.Verified, st.Pieces)
	}
	// 17 pieces: two full bytes and the top bit of a third.
	if want := []byte{0xff, 0xff, 0x80}; !bytes.Equal(st.Have, want) {
		t.Fatalf("have = %x, want %x (every piece)", st.Have, want)
	}
	// The finished file is shared in turn.
	poll.Until(t, "b's catalog to list the file", 5*time.Second, func() bool {
		var files []struct{ Name string }
		b.call("GET", "/api/catalog", nil, &files)
		return len(files) == 1 && files[0].Name == "file.txt"
	})
}

// A node hashes new files with HASH (BLAKE3 by default) and fetches and
// serves files of either algorithm: a SHA-256 id is still 64 hex
// characters, so ids from before protocol version 4 keep working.
func TestNode_HashAlgorithms(t *testing.T) {
	old := startNode(t, t.TempDir(), map[string]string{"HASH": "sha256"})
	wantSHA := writeRandomFile(t, filepath.Join(old.dir, "old.bin"), 100<<10)
	cur := startNode(t, t.TempDir(), nil)
	wantB3 := writeRandomFile(t, filepath.Join(cur.dir, "new.bin"), 100<<10)
	c := startNode(t, t.TempDir(), map[string]string{"PEERS": old.addr() + "," + cur.addr()})

	shaRef, b3Ref := c.inSwarm("old.bin"), c.inSwarm("new.bin")
	shaID, err := content.ParseID(shaRef)
	if err != nil || shaID.Alg() != content.SHA256 || len(shaRef) != 64 {
		t.Fatalf("HASH=sha256 file id %q (%v), want 64 hex characters", shaRef, err)
	}
	b3ID, err := content.ParseID(b3Ref)
	if err != nil || b3ID.Alg() != content.BLAKE3 || !strings.HasPrefix(b3Ref, "blake3:") {
		t.Fatalf("default file id %q (%v), want blake3:<hex>", b3Ref, err)
	}
	// By id, as a user would paste it: the bare hex form and the named one.
	for _, tc := range []struct {
		ref, name string
		want      [32]byte
	}{{shaRef, "old.bin", wantSHA}, {b3Ref, "new.bin", wantB3}} {
		st := c.download(tc.ref, 20*time.Second)
		if st.ID != tc.ref || fileHash(t, filepath.Join(c.dir, tc.name)) != tc.want {
			t.Fatalf("download %s: id %s, or the file differs", tc.ref, st.ID)
		}
	}
	// c serves both under the ids it fetched them by, though it hashes
	// new files with BLAKE3.
	var files []struct{ ID, Name string }
	poll.Until(t, "c sharing both files", 5*time.Second, func() bool {
		c.call("GET", "/api/catalog", nil, &files)
		return len(files) == 2
	})
	for _, f := range files {
		if (f.Name == "old.bin" && f.ID != shaRef) || (f.Name == "new.bin" && f.ID != b3Ref) {
			t.Fatalf("c shares %s as %s", f.Name, f.ID)
		}
	}
}

func TestNode_DownloadsFromEverySource(t *testing.T) {
	src1 := startNode(t, t.TempDir(), map[string]string{"UPLOAD_RATE": "2MiB"})
	src2 := startNode(t, t.TempDir(), map[string]string{"UPLOAD_RATE": "2MiB"})
	want := heldByBoth(t, src1, src2, "big.bin", 4<<20)
	c := startNode(t, t.TempDir(), map[string]string{"PEERS": src1.addr() + "," + src2.addr()})
	c.waitHolders(2)
	st := c.download("big.bin", 30*time.Second)
	if fileHash(t, filepath.Join(c.dir, "big.bin")) != want {
		t.Fatal("downloaded file differs from the source")
	}
	if len(st.Sources) != 2 {
		t.Fatalf("pieces came from %d sources (%v), want 2", len(st.Sources), st.Sources)
	}
	for addr, s := range st.Sources {
		if s.Pieces == 0 {
			t.Errorf("source %s sent no pieces", addr)
		}
	}
	// The metrics say the same.
	if n := testutil.CollectAndCount(c.reg, "netlab_peer_bytes_downloaded_total"); n != 2 {
		t.Fatalf("bytes_downloaded_total has %d peer series, want 2", n)
	}
}

func TestNode_CorruptPiecesAreRefetchedElsewhere(t *testing.T) {
	liar := startNode(t, t.TempDir(), map[string]string{"CORRUPT_UPLOADS": "1"})
	honest := startNode(t, t.TempDir(), map[string]string{"UPLOAD_RATE": "1MiB"})
	want := heldByBoth(t, liar, honest, "f.bin", 2<<20)
	c := startNode(t, t.TempDir(), map[string]string{"PEERS": liar.addr() + "," + honest.addr(), "MAX_BAD_PIECES": "2"})
	c.waitHolders(2)
	st := c.download("f.bin", 30*time.Second)
	if fileHash(t, filepath.Join(c.dir, "f.bin")) != want {
		t.Fatal("file corrupted despite verification")
	}
	if st.Failed == 0 || st.Sources[liar.addr()].Bad == 0 {
		t.Fatalf("no bad piece counted against the corrupting peer: %+v", st)
	}
	if got := testutil.ToFloat64(mustCounter(t, c.reg, "netlab_peer_pieces_failed_total", liar.addr())); got == 0 {
		t.Fatal("pieces_failed_total{peer=liar} is 0")
	}
	var peers []struct {
		Addr    string `json:"addr"`
		Avoided bool   `json:"avoided"`
	}
	c.call("GET", "/api/peers", nil, &peers)
	for _, p := range peers {
		if p.Addr == liar.addr() && !p.Avoided {
			t.Fatal("the corrupting peer is not avoided after MAX_BAD_PIECES")
		}
	}
}

func TestNode_ResumesWithoutRefetchingVerifiedPieces(t *testing.T) {
	src := startNode(t, t.TempDir(), map[string]string{"UPLOAD_RATE": "1MiB"})
	want := writeRandomFile(t, filepath.Join(src.dir, "r.bin"), 3<<20)
	dir := t.TempDir()
	c := startNode(t, dir, map[string]string{"PEERS": src.addr()})
	id := c.inSwarm("r.bin")
	var st downloadStatus
	c.call("POST", "/api/downloads", map[string]string{"ref": id}, &st)
	poll.Until(t, "some pieces", 10*time.Second, func() bool {
		c.call("GET", "/api/downloads/"+id, nil, &st)
		return st.Verified >= 10
	})
	c.stop()
	held := st.Verified

	c2 := startNode(t, dir, map[string]string{"PEERS": src.addr()})
	st = c2.waitDownload(id, 30*time.Second)
	if fileHash(t, filepath.Join(dir, "r.bin")) != want {
		t.Fatal("resumed file differs from the source")
	}
	if st.Resumed < held {
		t.Fatalf("resumed %d pieces, want at least the %d verified before the restart", st.Resumed, held)
	}
	if st.Resumed+st.Verified != st.Pieces {
		t.Fatalf("resumed %d + fetched %d != %d pieces: verified pieces were fetched again", st.Resumed, st.Verified, st.Pieces)
	}
	if got := testutil.ToFloat64(mustCounter(t, c2.reg, "netlab_peer_pieces_resumed_total")); int(got) != st.Resumed {
		t.Fatalf("pieces_resumed_total = %v, want %d", got, st.Resumed)
	}
}

func TestNode_RefusesPeerWithoutTheSecret(t *testing.T) {
	a := startNode(t, t.TempDir(), map[string]string{"PEER_SECRET": "s3cret"})
	writeRandomFile(t, filepath.Join(a.dir, "x"), 1000)
	outsider := startNode(t, t.TempDir(), map[string]string{"PEERS": a.addr(), "PEER_SECRET": "wrong"})
	friend := startNode(t, t.TempDir(), map[string]string{"PEERS": a.addr(), "PEER_SECRET": "s3cret"})
	friend.inSwarm("x")
	poll.Until(t, "the outsider to be refused", 5*time.Second, func() bool {
		return testutil.ToFloat64(mustCounter(t, a.reg, "netlab_peer_connections_rejected_total", "auth")) > 0
	})
	var files []struct{ Name string }
	outsider.call("GET", "/api/swarm", nil, &files)
	if len(files) != 0 {
		t.Fatalf("a node with the wrong secret sees %v", files)
	}
}

func TestNode_APIRefusesNamesOutsideTheShare(t *testing.T) {
	a := startNode(t, t.TempDir(), nil)
	for _, name := range []string{"..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", ".netlab", "..", "a%00b"} {
		req, _ := http.NewRequest("GET", a.api+"/api/files/"+name, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 || strings.Contains(string(body), "root:") {
			t.Errorf("GET /api/files/%s = %d %q, want a 4xx", name, resp.StatusCode, body)
		}
	}
	if code := a.call("POST", "/api/downloads", map[string]string{"ref": "../../etc/passwd"}, nil); code != http.StatusBadRequest {
		t.Errorf("download of ../../etc/passwd = %d, want 400", code)
	}
}

func TestNode_PutAndOffer(t *testing.T) {
	a := startNode(t, t.TempDir(), nil)
	req, _ := http.NewRequest("PUT", a.api+"/api/files/hello.txt?offer=1", strings.NewReader("hi there"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT = %d, want 201", resp.StatusCode)
	}
	got, err := os.ReadFile(filepath.Join(a.dir, "hello.txt"))
	if err != nil || string(got) != "hi there" {
		t.Fatalf("share holds %q, %v", got, err)
	}
	b := startNode(t, t.TempDir(), map[string]string{"PEERS": a.addr()})
	poll.Until(t, "the offered file in b's swarm", 10*time.Second, func() bool {
		var files []struct {
			Name    string `json:"name"`
			Offered bool   `json:"offered"`
		}
		b.call("GET", "/api/swarm", nil, &files)
		return len(files) == 1 && files[0].Offered
	})
	req, _ = http.NewRequest("PUT", a.api+"/api/files/hello.txt", strings.NewReader("again"))
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("second PUT of the same name = %d, want 409", resp.StatusCode)
	}
}

func mustCounter(t testing.TB, reg *prometheus.Registry, name string, labels ...string) prometheus.Collector {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			match := true
			for i, l := range m.GetLabel() {
				if i < len(labels) && l.GetValue() != labels[i] {
					match = false
				}
			}
			if match && m.GetCounter() != nil {
				c.Add(m.GetCounter().GetValue())
			}
		}
	}
	return c
}

var _ = fmt.Sprintf

func TestNode_ConcurrentStartsShareOneDownload(t *testing.T) {
	a := startNode(t, t.TempDir(), map[string]string{"UPLOAD_RATE": "4MiB"})
	writeRandomFile(t, filepath.Join(a.dir, "same.bin"), 1<<20)
	b := startNode(t, t.TempDir(), map[string]string{"PEERS": a.addr()})
	id := b.inSwarm("same.bin")
	done := make(chan int, 8)
	for range 8 {
		go func() {
			done <- b.call("POST", "/api/downloads", map[string]string{"ref": id}, nil)
		}()
	}
	for range 8 {
		if code := <-done; code != http.StatusAccepted {
			t.Fatalf("POST /api/downloads = %d", code)
		}
	}
	st := b.waitDownload(id, 20*time.Second)
	if st.Verified != st.Pieces {
		t.Fatalf("verified %d pieces of %d: the starts ran more than one download", st.Verified, st.Pieces)
	}
	var all []downloadStatus
	b.call("GET", "/api/downloads", nil, &all)
	if len(all) != 1 {
		t.Fatalf("%d download records, want 1", len(all))
	}
}
