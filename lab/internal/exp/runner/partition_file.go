package runner

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
)

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

// fileSum is the SHA-256 and length of the shared file name of the node
// whose admin API is at base (GET /api/files/NAME): a whole file, so no
// per-request timeout but ctx's.
func fileSum(ctx context.Context, base, name string) ([32]byte, int64, error) {
	var sum [32]byte
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/files/"+name, nil)
	if err != nil {
		return sum, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
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
