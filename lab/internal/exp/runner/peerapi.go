package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/netlab/netlab/services/peer/api"
)

// peerAPI is a peer node's admin JSON API (docs/peer-protocol.md, "Admin
// API") at one host address.
type peerAPI struct {
	addr   string // host:port of the admin listener
	client *http.Client
}

// maxAnswer bounds a JSON answer read from a node.
const maxAnswer = 4 << 20

func (p peerAPI) do(ctx context.Context, method, path string, body io.Reader, size int64, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+p.addr+path, body)
	if err != nil {
		return err
	}
	if body != nil {
		req.ContentLength = size
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		var e api.Error
		_ = json.Unmarshal(data, &e)
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, e.Error)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// put adds size bytes of r to the node's share under name.
func (p peerAPI) put(ctx context.Context, name string, r io.Reader, size int64) (api.LocalFile, error) {
	var f api.LocalFile
	err := p.do(ctx, http.MethodPut, "/api/files/"+name, r, size, http.StatusCreated, &f)
	return f, err
}

// sees reports whether the node's swarm lists the file id.
func (p peerAPI) sees(ctx context.Context, id string) (bool, error) {
	var files []api.SwarmFile
	if err := p.do(ctx, http.MethodGet, "/api/swarm", nil, 0, http.StatusOK, &files); err != nil {
		return false, err
	}
	for _, f := range files {
		if f.ID == id {
			return true, nil
		}
	}
	return false, nil
}

// fetch starts the node's download of id.
func (p peerAPI) fetch(ctx context.Context, id string) error {
	body, _ := json.Marshal(api.DownloadRequest{Ref: id})
	return p.do(ctx, http.MethodPost, "/api/downloads", bytes.NewReader(body), int64(len(body)), http.StatusAccepted, nil)
}

// download is the node's download of id.
func (p peerAPI) download(ctx context.Context, id string) (api.Download, error) {
	var d api.Download
	err := p.do(ctx, http.MethodGet, "/api/downloads/"+id, nil, 0, http.StatusOK, &d)
	return d, err
}

// fileSum is the SHA-256 and length of the node's shared file name.
func (p peerAPI) fileSum(ctx context.Context, name string) ([32]byte, int64, error) {
	var sum [32]byte
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.addr+"/api/files/"+name, nil)
	if err != nil {
		return sum, 0, err
	}
	// A whole file: the client's per-request timeout is for JSON.
	resp, err := (&http.Client{Transport: p.client.Transport}).Do(req)
	if err != nil {
		return sum, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return sum, 0, fmt.Errorf("GET /api/files/%s: %s", name, resp.Status)
	}
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	copy(sum[:], h.Sum(nil))
	return sum, n, err
}

// newPeerClient is the HTTP client of the admin APIs: short answers on
// loopback.
func newPeerClient() *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
}

// seededFile is size bytes drawn from seed: the same seed gives the same
// file, so every seed node can be given its own copy.
func seededFile(seed uint64, size int64) io.Reader {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	return io.LimitReader(rand.NewChaCha8(key), size)
}

// seededSum is the SHA-256 of seededFile(seed, size).
func seededSum(seed uint64, size int64) ([32]byte, error) {
	h := sha256.New()
	_, err := io.Copy(h, seededFile(seed, size))
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, err
}
