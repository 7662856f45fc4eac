// Package share is the storage side of a peer: the directory of shared files,
// the cache of their piece hashes and the downloads in progress.
//
// Every file access goes through an os.Root opened on the share directory, so
// no name (from a peer, a user or a symlink) can reach outside it. Shared
// files are the regular files directly in the directory; the node keeps its
// own state in the hidden sub-directory ".netlab". One Share per directory:
// two processes sharing a directory would clean up each other's temp files.
package share

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/peer/internal/content"
)

const (
	stateDir     = ".netlab"
	cachePath    = stateDir + "/hashes.json"
	partialDir   = stateDir + "/partial"
	tmpMarker    = ".tmp-"
	filePerm     = 0o644
	dirPerm      = 0o755
	maxOpenFiles = 64 // open shared files kept for ReadPiece
)

var (
	// ErrBadPiece means a piece's data does not hash to the manifest's hash.
	ErrBadPiece = errors.New("piece does not match its hash")
	// ErrIncomplete means Complete was called before every piece was written.
	ErrIncomplete = errors.New("download incomplete")
	// ErrAlreadyShared means CreatePartial was asked for content the share
	// already holds.
	ErrAlreadyShared = errors.New("content already shared")
	// ErrTooLarge means Put received more than maxBytes.
	ErrTooLarge = errors.New("file too large")

	errClosed = fmt.Errorf("share closed: %w", fs.ErrClosed)
)

// Entry is one shared file.
type Entry struct {
	Name     string
	ID       content.ID
	Manifest content.Manifest // Pieces is shared between copies: read only
	ModTime  time.Time
	Offered  bool // marked with Offer: the newest file "sent" in the tutorial sense
}

// Options configures a Share.
type Options struct {
	// PieceSize is used for files hashed from now on; cached manifests with
	// another piece size are rehashed, except for downloaded files, which
	// keep the manifest (and id) they were fetched under. 0 means
	// content.DefaultPieceSize.
	PieceSize int
	// Alg hashes files from now on (the zero value is SHA-256); like the
	// piece size, a cached manifest of another algorithm is rehashed,
	// except for downloaded files.
	Alg content.Alg
	Log *zap.Logger
	// Settle is how long a new or changed file must stay unmodified before
	// a scan shares it, so a file still being written (copied in, saved by
	// an editor) is not hashed and offered half-written. 0 shares at once.
	Settle time.Duration
}

// Share is a node's share directory. It is safe for concurrent use.
type Share struct {
	dir       string
	root      *os.Root
	pieceSize int
	alg       content.Alg
	log       *zap.Logger
	settle    time.Duration

	scanMu sync.Mutex // one Scan at a time
	saveMu sync.Mutex // serializes hash cache writes; guards savedGen
	partMu sync.Mutex // serializes creating and loading partials

	mu       sync.RWMutex
	closed   bool
	entries  map[string]item // catalog by name
	sorted   []Entry         // catalog by name, Offered applied
	byID     map[content.ID]Entry
	seq      uint64 // bumped for each entry added outside Scan
	cache    map[string]cacheRecord
	cacheGen uint64 // bumped on every cache change
	savedGen uint64
	offered  string
	partials map[content.ID]*Partial

	fmu   sync.Mutex // guards files; taken before mu when both are needed
	files map[content.ID]*openFile

	hashed atomic.Int64 // files hashed by Scan, for tests
}

// item is a catalog entry plus when it was added, so a Scan that started
// earlier does not drop files that Put or Complete placed meanwhile.
type item struct {
	e   Entry
	seq uint64
}

// Open opens the share directory dir, creating the node's state directory
// and loading the hash cache. A corrupt cache is logged and ignored. The
// catalog is empty until the first Scan.
func Open(dir string, opts Options) (*Share, error) {
	log := opts.Log
	if log == nil {
		log = zap.NewNop()
	}
	ps := opts.PieceSize
	if ps == 0 {
		ps = content.DefaultPieceSize
	}
	if ps < content.MinPieceSize || ps > content.MaxPieceSize {
		return nil, fmt.Errorf("open share: piece size %d out of range [%d, %d]",
			ps, content.MinPieceSize, content.MaxPieceSize)
	}
	if !opts.Alg.Valid() {
		return nil, fmt.Errorf("open share: unknown hash algorithm %d", uint8(opts.Alg))
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open share: %w", err)
	}
	if err := root.MkdirAll(partialDir, dirPerm); err != nil {
		root.Close()
		return nil, fmt.Errorf("open share: %w", err)
	}
	s := &Share{
		dir:       dir,
		root:      root,
		settle:    opts.Settle,
		pieceSize: ps,
		alg:       opts.Alg,
		log:       log,
		entries:   make(map[string]item),
		byID:      make(map[content.ID]Entry),
		cache:     make(map[string]cacheRecord),
		partials:  make(map[content.ID]*Partial),
		files:     make(map[content.ID]*openFile),
	}
	s.removeTemps(stateDir)
	s.loadCache()
	return s, nil
}

// Close closes open files, open partials and the root. Partials stay on disk
// and can be resumed by the next Open.
func (s *Share) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	parts := make([]*Partial, 0, len(s.partials))
	for _, p := range s.partials {
		parts = append(parts, p)
	}
	s.partials = map[content.ID]*Partial{}
	s.mu.Unlock()

	for _, p := range parts {
		p.closeFile()
	}
	s.fmu.Lock()
	for id, of := range s.files {
		s.dropLocked(id, of)
	}
	s.files = nil
	s.fmu.Unlock()
	return s.root.Close()
}

// removeTemps deletes leftovers of writes interrupted by a crash.
func (s *Share) removeTemps(dir string) {
	ents, err := fs.ReadDir(s.root.FS(), dir)
	if err != nil {
		s.log.Warn("list state directory", zap.String("dir", dir), zap.Error(err))
		return
	}
	for _, ent := range ents {
		if isTemp(ent.Name()) && ent.Type().IsRegular() {
			if err := s.root.Remove(dir + "/" + ent.Name()); err != nil {
				s.log.Warn("remove temp file", zap.String("name", ent.Name()), zap.Error(err))
			}
		}
	}
}

// Catalog returns the shared files, sorted by name. The slice is a copy.
func (s *Share) Catalog() []Entry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]Entry(nil), s.sorted...)
}

// Lookup returns a shared file by id. When several names hold the same
// content, it returns one of them.
func (s *Share) Lookup(id content.ID) (Entry, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.byID[id]
	return e, ok
}

// LookupName returns a shared file by name.
func (s *Share) LookupName(name string) (Entry, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	it, ok := s.entries[name]
	if !ok {
		return Entry{}, false
	}
	e := it.e
	e.Offered = e.Name == s.offered
	return e, true
}

// Offer marks the file named name as offered, clearing the mark on any
// other file. The mark is saved in the hash cache so it survives restarts.
func (s *Share) Offer(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	s.mu.Lock()
	if _, ok := s.entries[name]; !ok {
		s.mu.Unlock()
		return fmt.Errorf("offer %q: %w", name, fs.ErrNotExist)
	}
	if s.offered != name {
		s.offered = name
		s.cacheGen++
		s.rebuildLocked()
	}
	s.mu.Unlock()
	if err := s.saveCache(); err != nil {
		return fmt.Errorf("offer %q: %w", name, err)
	}
	return nil
}

// rebuildLocked refreshes the sorted catalog and the id index from entries.
// The id index takes the first name in sort order so Lookup is stable.
func (s *Share) rebuildLocked() {
	sorted := make([]Entry, 0, len(s.entries))
	for _, it := range s.entries {
		e := it.e
		e.Offered = e.Name == s.offered
		sorted = append(sorted, e)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	byID := make(map[content.ID]Entry, len(sorted))
	for _, e := range sorted {
		if _, ok := byID[e.ID]; !ok {
			byID[e.ID] = e
		}
	}
	s.sorted, s.byID = sorted, byID
}

// addEntry records a file placed by Put or Complete in the catalog and the
// hash cache. The caller saves the cache.
func (s *Share) addEntry(name string, rec cacheRecord) Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	e := Entry{Name: name, ID: rec.id, Manifest: rec.m, ModTime: time.Unix(0, rec.mtime)}
	s.entries[name] = item{e: e, seq: s.seq}
	s.cache[name] = rec
	s.cacheGen++
	s.rebuildLocked()
	e.Offered = name == s.offered
	return e
}

// OpenFile opens a shared file for reading by name. Only regular files are
// opened: a symlink is refused even if it points inside the share, to match
// what Scan shares.
func (s *Share) OpenFile(name string) (*os.File, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	info, err := s.root.Lstat(name)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("open %q: not a regular file", name)
	}
	f, err := s.root.Open(name)
	if err != nil {
		return nil, err
	}
	// The name could have been swapped between Lstat and Open.
	st, err := f.Stat()
	if err != nil || !os.SameFile(info, st) {
		f.Close()
		if err == nil {
			err = fmt.Errorf("open %q: file replaced while opening", name)
		}
		return nil, err
	}
	return f, nil
}

// openFile is a shared file kept open for ReadPiece. refs counts readers in
// flight so dropping it never closes a file under a ReadAt.
type openFile struct {
	f       *os.File
	name    string
	mtime   int64
	refs    int
	dropped bool
}

// ReadPiece reads piece i of the complete shared file id into buf, which must
// hold PieceLen(i) bytes, and returns the number of bytes read. It does not
// re-verify the piece hash: the receiver verifies every piece anyway, and a
// file edited since the last Scan is caught by its changed size or mtime
// when it is opened, or by the receiver's check.
func (s *Share) ReadPiece(id content.ID, i int, buf []byte) (int, error) {
	e, ok := s.Lookup(id)
	if !ok {
		return 0, fmt.Errorf("read piece: %s: %w", id.Short(), fs.ErrNotExist)
	}
	n := e.Manifest.PieceLen(i)
	if i < 0 || i >= e.Manifest.NumPieces() {
		return 0, fmt.Errorf("read piece %d of %s: out of range [0, %d)", i, id.Short(), e.Manifest.NumPieces())
	}
	if len(buf) < n {
		return 0, fmt.Errorf("read piece %d of %s: buffer of %d bytes, need %d", i, id.Short(), len(buf), n)
	}
	of, err := s.acquire(e)
	if err != nil {
		return 0, fmt.Errorf("read piece %d of %s: %w", i, id.Short(), err)
	}
	defer s.release(of)
	got, err := of.f.ReadAt(buf[:n], e.Manifest.PieceOffset(i))
	if got == n {
		return n, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return got, fmt.Errorf("read piece %d of %s: %w", i, id.Short(), err)
}

func (s *Share) acquire(e Entry) (*openFile, error) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if s.files == nil {
		return nil, errClosed
	}
	mtime := e.ModTime.UnixNano()
	if of := s.files[e.ID]; of != nil {
		if of.name == e.Name && of.mtime == mtime {
			of.refs++
			return of, nil
		}
		s.dropLocked(e.ID, of)
	}
	f, err := s.OpenFile(e.Name)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && (st.Size() != e.Manifest.Size || st.ModTime().UnixNano() != mtime) {
		err = fmt.Errorf("%q changed since the last scan", e.Name)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	if len(s.files) >= maxOpenFiles {
		for id, old := range s.files {
			s.dropLocked(id, old)
			break
		}
	}
	of := &openFile{f: f, name: e.Name, mtime: mtime, refs: 1}
	s.files[e.ID] = of
	return of, nil
}

// PieceSection is one piece of a complete shared file as a span of the
// open file, for sending without copying it through user space
// (sendfile). Call Release once it is sent.
type PieceSection struct {
	File   *os.File
	Offset int64
	Size   int
	of     *openFile
	s      *Share
}

// Release lets the share close the file once it is no longer shared.
func (p PieceSection) Release() { p.s.release(p.of) }

// OpenPiece returns piece i of the complete shared file id as a file
// section. Like ReadPiece it does not re-verify the piece: the receiver
// does. A file truncated after this call yields a short send, which the
// sender must treat as a broken connection (the frame header is out).
func (s *Share) OpenPiece(id content.ID, i int) (PieceSection, error) {
	e, ok := s.Lookup(id)
	if !ok {
		return PieceSection{}, fmt.Errorf("open piece: %s: %w", id.Short(), fs.ErrNotExist)
	}
	if i < 0 || i >= e.Manifest.NumPieces() {
		return PieceSection{}, fmt.Errorf("open piece %d of %s: out of range [0, %d)", i, id.Short(), e.Manifest.NumPieces())
	}
	of, err := s.acquire(e)
	if err != nil {
		return PieceSection{}, fmt.Errorf("open piece %d of %s: %w", i, id.Short(), err)
	}
	return PieceSection{File: of.f, Offset: e.Manifest.PieceOffset(i), Size: e.Manifest.PieceLen(i), of: of, s: s}, nil
}

func (s *Share) release(of *openFile) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	of.refs--
	if of.dropped && of.refs == 0 {
		of.f.Close()
	}
}

func (s *Share) dropLocked(id content.ID, of *openFile) {
	delete(s.files, id)
	of.dropped = true
	if of.refs == 0 {
		of.f.Close()
	}
}

// dropStaleFiles closes open files whose catalog entry changed or went away.
func (s *Share) dropStaleFiles() {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for id, of := range s.files {
		it, ok := s.entries[of.name]
		if !ok || it.e.ID != id || it.e.ModTime.UnixNano() != of.mtime {
			s.dropLocked(id, of)
		}
	}
}

// ctxReader fails reads once ctx is done, so long hashes and uploads stop
// promptly.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
