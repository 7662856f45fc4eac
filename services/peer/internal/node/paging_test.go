package node_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/wire"
	"github.com/netlab/netlab/services/platform/poll"
)

// longName is the i-th of many names of MaxNameLen bytes.
func longName(i int) string {
	p := fmt.Sprintf("%06d-", i)
	return p + strings.Repeat("n", wire.MaxNameLen-len(p))
}

// A catalog of 66,000 files with 255-byte names, about 20 MiB, is five
// frames' worth: a peer gets all of it in pages, and one asking
// get_catalog the first frame's worth instead of a dropped connection.
func TestNode_PagesALargeCatalog(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 66,000 files")
	}
	const files = 66_000
	dir := t.TempDir()
	for i := range files {
		if err := os.WriteFile(filepath.Join(dir, longName(i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a := startNode(t, dir, map[string]string{"SCAN_SETTLE": "0s", "SCAN_INTERVAL": "1h"})
	poll.Until(t, "a to share every file", 60*time.Second, func() bool {
		return gauge(t, a, "netlab_peer_catalog_files") == files
	})
	b := startNode(t, t.TempDir(), map[string]string{"PEERS": a.addr()})
	poll.Until(t, "b to hold a's whole catalog", 60*time.Second, func() bool {
		var peers []struct {
			Addr  string `json:"addr"`
			Files int    `json:"files"`
		}
		b.call("GET", "/api/peers", nil, &peers)
		return len(peers) == 1 && peers[0].Files == files
	})

	_, wc := dialWire(t, a)
	handshake(t, wc, &wire.Hello{NodeID: [16]byte{1}, Nonce: [16]byte{2}, ListenPort: 1})
	cat := askCatalog(t, wc)
	if n := len(cat.Files); n == 0 || n >= files || cat.Files[0].Name != longName(0) {
		t.Fatalf("get_catalog: %d files from %q; want the first that fit in one frame", n, cat.Files[0].Name)
	}
	askCatalog(t, wc) // and the connection goes on
	t.Logf("get_catalog gives %d of %d files in one frame", len(cat.Files), files)
}

// A file of 150,000 pieces has a manifest of 4.6 MiB, over a frame: a
// peer fetches it in pages and downloads the file; get_manifest is
// answered with a reject, and the connection goes on.
func TestNode_PagesALargeManifest(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes a 2.3 GiB sparse file")
	}
	const pieces = 150_000
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "sparse.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(pieces * 16 << 10); err != nil {
		t.Fatal(err)
	}
	f.Close()
	a := startNode(t, dir, map[string]string{"PIECE_SIZE": "16KiB", "SCAN_SETTLE": "0s", "SCAN_INTERVAL": "1h"})
	poll.Until(t, "a to share sparse.bin", 120*time.Second, func() bool {
		return gauge(t, a, "netlab_peer_catalog_files") == 1
	})
	b := startNode(t, t.TempDir(), map[string]string{"PEERS": a.addr()})
	id := b.inSwarm("sparse.bin")
	var st downloadStatus
	if code := b.call("POST", "/api/downloads", map[string]string{"ref": id}, &st); code != 202 {
		t.Fatalf("POST /api/downloads = %d", code)
	}
	poll.Until(t, "b to have the manifest", 60*time.Second, func() bool {
		b.call("GET", "/api/downloads/"+id, nil, &st)
		if st.State == "failed" {
			t.Fatalf("download failed: %s", st.Error)
		}
		return st.Pieces == pieces && st.Verified > 0
	})

	parsed, err := content.ParseID(id)
	if err != nil {
		t.Fatal(err)
	}
	_, wc := dialWire(t, a)
	handshake(t, wc, &wire.Hello{NodeID: [16]byte{1}, Nonce: [16]byte{2}, ListenPort: 1})
	if err := wc.Send(&wire.GetManifest{ID: parsed}); err != nil {
		t.Fatal(err)
	}
	msg, err := wc.Receive(0)
	if r, ok := msg.(*wire.Reject); err != nil || !ok || r.Code != wire.RejectBadRequest {
		t.Fatalf("get_manifest of %d pieces: %v, %v; want reject(bad_request)", pieces, msg, err)
	}
	askCatalog(t, wc)
}

// gauge reads a gauge of tn without labels.
func gauge(t testing.TB, tn *testNode, name string) float64 {
	t.Helper()
	families, err := tn.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return 0
}
