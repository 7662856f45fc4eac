package share

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/peer/internal/content"
)

func isTemp(name string) bool { return strings.Contains(name, tmpMarker) }

// Scan lists the regular files at the top of the share, reuses cached
// manifests whose (name, size, mtime, piece size) still match, hashes the
// others, saves the hash cache if it changed, replaces the catalog and
// reports whether the catalog changed.
//
// Symlinks, directories and other special files are skipped, as are names
// ValidateName rejects. A file that cannot be read is logged and skipped; a
// cancelled ctx stops the scan and leaves the catalog as it was.
func (s *Share) Scan(ctx context.Context) (changed bool, err error) {
	s.scanMu.Lock()
	defer s.scanMu.Unlock()

	s.mu.RLock()
	start, closed := s.seq, s.closed
	s.mu.RUnlock()
	if closed {
		return false, fmt.Errorf("scan: %w", errClosed)
	}

	infos, err := s.listFiles()
	if err != nil {
		return false, fmt.Errorf("scan: %w", err)
	}
	found, err := s.records(ctx, infos)
	if err != nil {
		return false, fmt.Errorf("scan: %w", err)
	}
	changed, err = s.install(start, found)
	if err != nil {
		return false, fmt.Errorf("scan: %w", err)
	}
	s.dropStaleFiles()
	if err := s.saveCache(); err != nil {
		// The catalog is right; the cache only saves work and is retried
		// on the next scan.
		s.log.Warn("hash cache not saved", zap.Error(err))
	}
	return changed, nil
}

// records returns the manifest record of each listed file: from the cache
// when it still matches, else hashed. Files changed within SCAN_SETTLE and
// unreadable ones are left out; only a cancelled ctx is an error.
func (s *Share) records(ctx context.Context, infos []fs.FileInfo) (map[string]cacheRecord, error) {
	found := make(map[string]cacheRecord, len(infos))
	for _, info := range infos {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		name := info.Name()
		s.mu.RLock()
		rec, ok := s.cacheHitLocked(name, info.Size(), info.ModTime().UnixNano())
		s.mu.RUnlock()
		if !ok && s.settle > 0 && time.Since(info.ModTime()) < s.settle {
			// Still being written, perhaps: a later scan shares it.
			continue
		}
		if !ok {
			var err error
			rec, err = s.hashFile(ctx, name, info)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				s.log.Warn("skipping unreadable file", zap.String("name", name), zap.Error(err))
				continue
			}
		}
		found[name] = rec
	}
	return found, nil
}

// install makes found the catalog and the hash cache, keeping what Put
// and Complete added since the scan started (sequence start), and reports
// whether the catalog changed.
func (s *Share) install(start uint64, found map[string]cacheRecord) (changed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, errClosed
	}
	entries := make(map[string]item, len(found))
	cache := make(map[string]cacheRecord, len(found))
	for name, rec := range found {
		entries[name] = item{e: Entry{Name: name, ID: rec.id, Manifest: rec.m, ModTime: time.Unix(0, rec.mtime)}}
		cache[name] = rec
	}
	// Keep what Put and Complete added while the scan ran, whether or not
	// the listing saw it: the scan may have hashed a download with another
	// piece size, and the download's own record must win.
	for name, it := range s.entries {
		if it.seq <= start {
			continue
		}
		old := s.cache[name]
		if rec, ok := found[name]; !ok || (rec.size == old.size && rec.mtime == old.mtime) {
			entries[name] = it
			cache[name] = old
		}
	}
	changed = !sameCatalog(s.entries, entries)
	if !sameCache(s.cache, cache) {
		s.cacheGen++
	}
	s.entries, s.cache = entries, cache
	if changed {
		s.rebuildLocked()
	}
	return changed, nil
}

// listFiles returns the Lstat info of the shareable files.
func (s *Share) listFiles() ([]fs.FileInfo, error) {
	ents, err := fs.ReadDir(s.root.FS(), ".")
	if err != nil {
		return nil, err
	}
	infos := make([]fs.FileInfo, 0, len(ents))
	for _, ent := range ents {
		name := ent.Name()
		if name == stateDir {
			continue
		}
		if err := ValidateName(name); err != nil {
			s.log.Debug("skipping file", zap.Error(err))
			continue
		}
		// Lstat, not Stat: a symlink is never shared, wherever it points.
		info, err := s.root.Lstat(name)
		if err != nil {
			s.log.Debug("skipping file", zap.String("name", name), zap.Error(err))
			continue
		}
		if !info.Mode().IsRegular() {
			s.log.Debug("skipping non-regular file", zap.String("name", name), zap.Stringer("mode", info.Mode()))
			continue
		}
		infos = append(infos, info)
	}
	return infos, nil
}

func (s *Share) cacheHitLocked(name string, size, mtime int64) (cacheRecord, bool) {
	rec, ok := s.cache[name]
	if !ok || rec.size != size || rec.mtime != mtime {
		return cacheRecord{}, false
	}
	// Downloaded files keep the piece size and algorithm they were fetched
	// with so the node keeps serving the id the other peers know.
	if (rec.m.PieceSize != s.pieceSize || rec.m.Alg != s.alg) && !rec.pinned {
		return cacheRecord{}, false
	}
	return rec, true
}

// hashFile hashes the file name that listFiles saw as info.
func (s *Share) hashFile(ctx context.Context, name string, info fs.FileInfo) (cacheRecord, error) {
	f, err := s.root.Open(name)
	if err != nil {
		return cacheRecord{}, err
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return cacheRecord{}, err
	}
	if !before.Mode().IsRegular() || !os.SameFile(info, before) {
		return cacheRecord{}, fmt.Errorf("replaced while scanning")
	}
	m, err := content.HashReader(ctxReader{ctx: ctx, r: f}, before.Size(), s.pieceSize, s.alg)
	if err != nil {
		return cacheRecord{}, err
	}
	after, err := f.Stat()
	if err != nil {
		return cacheRecord{}, err
	}
	// A file being written would get a manifest matching none of its states.
	if after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		return cacheRecord{}, fmt.Errorf("modified while hashing")
	}
	s.hashed.Add(1)
	return newRecord(before.Size(), before.ModTime().UnixNano(), m, false), nil
}

func sameCatalog(a, b map[string]item) bool {
	if len(a) != len(b) {
		return false
	}
	for name, x := range a {
		y, ok := b[name]
		if !ok || x.e.ID != y.e.ID || !x.e.ModTime.Equal(y.e.ModTime) {
			return false
		}
	}
	return true
}

func sameCache(a, b map[string]cacheRecord) bool {
	if len(a) != len(b) {
		return false
	}
	for name, x := range a {
		y, ok := b[name]
		if !ok || !x.same(y) {
			return false
		}
	}
	return true
}
