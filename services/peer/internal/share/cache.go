package share

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/peer/internal/content"
)

const cacheVersion = 1

// cacheRecord is what the hash cache knows about one file. A record is reused
// only while size and mtime match, so editing a file forces a rehash.
type cacheRecord struct {
	size   int64
	mtime  int64 // UnixNano
	m      content.Manifest
	id     content.ID
	pinned bool // downloaded: keep the manifest it was fetched under
}

func newRecord(size, mtime int64, m content.Manifest, pinned bool) cacheRecord {
	return cacheRecord{size: size, mtime: mtime, m: m, id: m.ID(), pinned: pinned}
}

func (r cacheRecord) same(o cacheRecord) bool {
	return r.size == o.size && r.mtime == o.mtime && r.id == o.id && r.pinned == o.pinned
}

type cacheFile struct {
	Version int         `json:"version"`
	Offered string      `json:"offered,omitempty"`
	Files   []cacheJSON `json:"files"`
}

type cacheJSON struct {
	Name      string `json:"name"`
	Size      int64  `json:"size"`
	ModTime   int64  `json:"mod_time_ns"`
	PieceSize int    `json:"piece_size"`
	Alg       string `json:"alg,omitempty"` // absent: sha256, as before there was a choice
	Hashes    []byte `json:"hashes"`        // piece hashes back to back; base64 in JSON
	Pinned    bool   `json:"pinned,omitempty"`
}

// loadCache reads the hash cache. The cache only saves work, so anything
// wrong with it is logged and the affected part ignored.
func (s *Share) loadCache() {
	data, err := s.root.ReadFile(cachePath)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		s.log.Warn("hash cache unreadable, ignoring it", zap.Error(err))
		return
	}
	dropped := 0
	recs, offered, err := decodeCache(data, func(name string, err error) {
		dropped++
		s.log.Debug("dropping hash cache entry", zap.String("name", name), zap.Error(err))
	})
	if err != nil {
		s.log.Warn("hash cache unusable, ignoring it", zap.Error(err))
		return
	}
	if dropped > 0 {
		s.log.Warn("hash cache had bad entries", zap.Int("dropped", dropped))
	}
	for name, rec := range recs {
		s.cache[name] = rec
	}
	s.offered = offered
}

// decodeCache reads a hash cache file: its valid records by name and the
// offered name ("" when none or invalid). Bad records are left out and
// reported to drop; an unreadable file or an unknown version is an error.
func decodeCache(data []byte, drop func(name string, err error)) (map[string]cacheRecord, string, error) {
	var cf cacheFile
	if err := json.Unmarshal(data, &cf); err != nil {
		return nil, "", err
	}
	if cf.Version != cacheVersion {
		return nil, "", fmt.Errorf("unknown version %d", cf.Version)
	}
	recs := make(map[string]cacheRecord, len(cf.Files))
	for _, f := range cf.Files {
		rec, err := f.record()
		if err != nil {
			drop(f.Name, err)
			continue
		}
		recs[f.Name] = rec
	}
	offered := cf.Offered
	if ValidateName(offered) != nil {
		offered = ""
	}
	return recs, offered, nil
}

// encodeCache is the hash cache file of recs.
func encodeCache(offered string, recs map[string]cacheRecord) ([]byte, error) {
	return json.Marshal(cacheFileOf(offered, recs))
}

// cacheFileOf is the hash cache file of recs, sorted by name.
func cacheFileOf(offered string, recs map[string]cacheRecord) cacheFile {
	cf := cacheFile{Version: cacheVersion, Offered: offered, Files: make([]cacheJSON, 0, len(recs))}
	for name, rec := range recs {
		hashes := make([]byte, 0, len(rec.m.Pieces)*32)
		for _, h := range rec.m.Pieces {
			hashes = append(hashes, h[:]...)
		}
		cf.Files = append(cf.Files, cacheJSON{
			Name: name, Size: rec.size, ModTime: rec.mtime,
			PieceSize: rec.m.PieceSize, Alg: rec.m.Alg.String(), Hashes: hashes, Pinned: rec.pinned,
		})
	}
	sort.Slice(cf.Files, func(i, j int) bool { return cf.Files[i].Name < cf.Files[j].Name })
	return cf
}

func (f cacheJSON) record() (cacheRecord, error) {
	if err := ValidateName(f.Name); err != nil {
		return cacheRecord{}, err
	}
	if len(f.Hashes)%len(content.Hash{}) != 0 {
		return cacheRecord{}, fmt.Errorf("hashes length %d is not a multiple of %d", len(f.Hashes), len(content.Hash{}))
	}
	alg, err := parseRecordAlg(f.Alg)
	if err != nil {
		return cacheRecord{}, err
	}
	m := content.Manifest{Alg: alg, Size: f.Size, PieceSize: f.PieceSize, Pieces: make([]content.Hash, len(f.Hashes)/32)}
	for i := range m.Pieces {
		copy(m.Pieces[i][:], f.Hashes[i*32:])
	}
	if err := m.Validate(); err != nil {
		return cacheRecord{}, err
	}
	return newRecord(f.Size, f.ModTime, m, f.Pinned), nil
}

// parseRecordAlg reads the algorithm of a hash cache or resume record:
// records written before there was a choice have none and are SHA-256.
func parseRecordAlg(s string) (content.Alg, error) {
	if s == "" {
		return content.SHA256, nil
	}
	return content.ParseAlg(s)
}

// saveCache writes the hash cache if it changed since the last save. A
// failed save leaves the generation behind, so the next call retries.
func (s *Share) saveCache() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()

	s.mu.RLock()
	gen := s.cacheGen
	if gen == s.savedGen {
		s.mu.RUnlock()
		return nil
	}
	cf := cacheFileOf(s.offered, s.cache)
	s.mu.RUnlock()
	data, err := json.Marshal(cf)
	if err != nil {
		return fmt.Errorf("encode hash cache: %w", err)
	}
	if err := writeFileAtomic(s.root, cachePath, data, true); err != nil {
		return fmt.Errorf("save hash cache: %w", err)
	}
	s.savedGen = gen
	return nil
}

// tempName returns a fresh name next to name. Temp names contain tmpMarker
// so leftovers of a crash can be recognised and removed.
func tempName(name string) string {
	return name + tmpMarker + rand.Text()[:10]
}

// writeFileAtomic replaces name with data so readers never see a torn file.
func writeFileAtomic(root *os.Root, name string, data []byte, sync bool) error {
	tmp := tempName(name)
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, name)
	}
	if err != nil {
		_ = root.Remove(tmp)
	}
	return err
}
