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
	Hashes    []byte `json:"hashes"` // piece hashes back to back; base64 in JSON
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
	var cf cacheFile
	if err := json.Unmarshal(data, &cf); err != nil {
		s.log.Warn("hash cache corrupt, ignoring it", zap.Error(err))
		return
	}
	if cf.Version != cacheVersion {
		s.log.Warn("hash cache has an unknown version, ignoring it", zap.Int("version", cf.Version))
		return
	}
	dropped := 0
	for _, f := range cf.Files {
		rec, err := f.record()
		if err != nil {
			dropped++
			s.log.Debug("dropping hash cache entry", zap.String("name", f.Name), zap.Error(err))
			continue
		}
		s.cache[f.Name] = rec
	}
	if dropped > 0 {
		s.log.Warn("hash cache had bad entries", zap.Int("dropped", dropped))
	}
	if cf.Offered != "" && ValidateName(cf.Offered) == nil {
		s.offered = cf.Offered
	}
}

func (f cacheJSON) record() (cacheRecord, error) {
	if err := ValidateName(f.Name); err != nil {
		return cacheRecord{}, err
	}
	if len(f.Hashes)%len(content.Hash{}) != 0 {
		return cacheRecord{}, fmt.Errorf("hashes length %d is not a multiple of %d", len(f.Hashes), len(content.Hash{}))
	}
	m := content.Manifest{Size: f.Size, PieceSize: f.PieceSize, Pieces: make([]content.Hash, len(f.Hashes)/32)}
	for i := range m.Pieces {
		copy(m.Pieces[i][:], f.Hashes[i*32:])
	}
	if err := m.Validate(); err != nil {
		return cacheRecord{}, err
	}
	return newRecord(f.Size, f.ModTime, m, f.Pinned), nil
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
	cf := cacheFile{Version: cacheVersion, Offered: s.offered, Files: make([]cacheJSON, 0, len(s.cache))}
	for name, rec := range s.cache {
		hashes := make([]byte, 0, len(rec.m.Pieces)*32)
		for _, h := range rec.m.Pieces {
			hashes = append(hashes, h[:]...)
		}
		cf.Files = append(cf.Files, cacheJSON{
			Name: name, Size: rec.size, ModTime: rec.mtime,
			PieceSize: rec.m.PieceSize, Hashes: hashes, Pinned: rec.pinned,
		})
	}
	s.mu.RUnlock()

	sort.Slice(cf.Files, func(i, j int) bool { return cf.Files[i].Name < cf.Files[j].Name })
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
