package share

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/peer/internal/content"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Partial is a download in progress. Its files live in .netlab/partial:
//
//	<id>.part      the data, sized to the full file up front
//	<id>.manifest  JSON {name, size, piece_size, pieces: [hex...]}, written once
//	<id>.have      the verified-pieces bitfield then its CRC-32C (big endian),
//	               replaced atomically at checkpoints (see checkpointEvery)
//
// A manifest that does not hash to its id discards the record, and a
// missing or corrupt .have means no pieces. A valid .have is trusted
// without re-hashing: it is only written after the data it claims was
// fsynced.
type Partial struct {
	s    *Share
	id   content.ID
	name string
	m    content.Manifest

	// life is held shared by piece reads and writes and exclusively by
	// Complete, Remove and Close, which end the Partial.
	life sync.RWMutex
	f    *os.File // nil once ended

	mu   sync.Mutex // guards have and gen
	have content.Bitfield
	gen  uint64 // bumped for each change to have

	saveMu   sync.Mutex // serializes .have writes; guards savedGen and savedAt
	savedGen uint64
	savedAt  time.Time
}

// checkpointEvery bounds how often a running download saves its resume
// record: each save fsyncs the data file first, so the record never claims
// a piece that is not on disk, and a restart trusts it without re-hashing.
// A crash loses at most this much progress; a clean stop (Checkpoint,
// Close) loses none.
const checkpointEvery = 250 * time.Millisecond

type manifestJSON struct {
	Name      string   `json:"name"`
	Size      int64    `json:"size"`
	PieceSize int      `json:"piece_size"`
	Alg       string   `json:"alg,omitempty"` // absent: sha256, as before there was a choice
	Pieces    []string `json:"pieces"`
}

func recordPath(id content.ID, ext string) string {
	return partialDir + "/" + recordBase(id) + ext
}

// recordBase is the id in a record's file name: its text form with "-"
// for ":" (blake3-<hex>), a character every file system takes.
func recordBase(id content.ID) string { return strings.Replace(id.String(), ":", "-", 1) }

// parseRecordBase is the id of a record's file name base.
func parseRecordBase(s string) (content.ID, error) {
	return content.ParseID(strings.Replace(s, "-", ":", 1))
}

// CreatePartial starts downloading the file described by m, to be saved as
// name. If a download of the same id is open or recorded on disk, it is
// resumed and returned instead (keeping its original name). It fails with
// ErrAlreadyShared if the share already holds the content.
func (s *Share) CreatePartial(name string, m content.Manifest) (*Partial, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("create partial: %w", err)
	}
	id := m.ID()

	s.partMu.Lock()
	defer s.partMu.Unlock()
	s.mu.RLock()
	closed, p := s.closed, s.partials[id]
	_, shared := s.byID[id]
	s.mu.RUnlock()
	switch {
	case closed:
		return nil, fmt.Errorf("create partial: %w", errClosed)
	case p != nil:
		return p, nil
	case shared:
		return nil, fmt.Errorf("create partial %s: %w", id.Short(), ErrAlreadyShared)
	}

	if _, err := s.root.Lstat(recordPath(id, ".manifest")); err == nil {
		p, err := s.loadPartial(id)
		if err == nil {
			return p, s.register(p)
		}
		s.log.Warn("discarding bad resume record", zap.Stringer("id", id), zap.Error(err))
		s.removeRecord(id)
	}
	p, err := s.newPartial(id, name, m)
	if err != nil {
		return nil, fmt.Errorf("create partial %s: %w", id.Short(), err)
	}
	return p, s.register(p)
}

func (s *Share) register(p *Partial) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		p.closeFile()
		return errClosed
	}
	s.partials[p.id] = p
	return nil
}

func (s *Share) newPartial(id content.ID, name string, m content.Manifest) (p *Partial, err error) {
	defer func() {
		if err != nil {
			if p != nil {
				p.closeFile()
			}
			s.removeRecord(id)
		}
	}()
	f, err := s.root.OpenFile(recordPath(id, ".part"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, filePerm)
	if err != nil {
		return nil, err
	}
	p = &Partial{s: s, id: id, name: name, m: m, f: f, have: content.NewBitfield(m.NumPieces()), gen: 1}
	if err := f.Truncate(m.Size); err != nil {
		return p, err
	}
	data, err := encodeManifest(name, m)
	if err != nil {
		return p, err
	}
	// The manifest is written once and never re-checked against the
	// download, so make it durable.
	if err := writeFileAtomic(s.root, recordPath(id, ".manifest"), data, true); err != nil {
		return p, err
	}
	return p, p.persist(1)
}

// Partials loads every download recorded in .netlab/partial (call it at
// start to resume them) and returns all open partials. Bad records and
// leftovers are logged and removed.
func (s *Share) Partials() ([]*Partial, error) {
	s.partMu.Lock()
	defer s.partMu.Unlock()
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return nil, fmt.Errorf("partials: %w", errClosed)
	}

	ents, err := fs.ReadDir(s.root.FS(), partialDir)
	if err != nil {
		return nil, fmt.Errorf("partials: %w", err)
	}
	recorded := recordedIDs(ents)
	s.removeLeftovers(ents, recorded)
	if err := s.loadRecorded(recorded); err != nil {
		return nil, fmt.Errorf("partials: %w", err)
	}
	return s.openPartials(), nil
}

// recordedIDs are the downloads with a manifest among ents.
func recordedIDs(ents []fs.DirEntry) map[content.ID]bool {
	recorded := make(map[content.ID]bool)
	for _, ent := range ents {
		if base, ok := strings.CutSuffix(ent.Name(), ".manifest"); ok {
			if id, err := parseRecordBase(base); err == nil {
				recorded[id] = true
			}
		}
	}
	return recorded
}

// removeLeftovers removes the temporary files among ents, and data or
// .have files without a manifest. The files of open partials stay.
func (s *Share) removeLeftovers(ents []fs.DirEntry, recorded map[content.ID]bool) {
	s.mu.RLock()
	open := make(map[content.ID]bool, len(s.partials))
	for id := range s.partials {
		open[id] = true
	}
	s.mu.RUnlock()
	for _, ent := range ents {
		name := ent.Name()
		var id content.ID
		if i := strings.IndexByte(name, '.'); i >= 0 {
			id, _ = parseRecordBase(name[:i])
		}
		switch {
		case open[id]:
			// An open partial may be saving its .have right now.
			continue
		case isTemp(name):
			s.removeLogged(partialDir + "/" + name)
		case !recorded[id]:
			// Data or .have without a manifest: a create that did not finish.
			s.log.Debug("removing orphan partial file", zap.String("name", name))
			s.removeLogged(partialDir + "/" + name)
		}
	}
}

// loadRecorded opens every recorded download that is not open yet. The
// record of a file already shared, and a record that does not load, are
// removed; an error means the share is closing.
func (s *Share) loadRecorded(recorded map[content.ID]bool) error {
	for id := range recorded {
		s.mu.RLock()
		p := s.partials[id]
		_, shared := s.byID[id]
		s.mu.RUnlock()
		switch {
		case p != nil:
			continue
		case shared:
			// Completed, but the process stopped before the record went.
			s.log.Info("removing record of completed download", zap.Stringer("id", id))
			s.removeRecord(id)
			continue
		}
		p, err := s.loadPartial(id)
		if err != nil {
			s.log.Warn("discarding bad resume record", zap.Stringer("id", id), zap.Error(err))
			s.removeRecord(id)
			continue
		}
		if err := s.register(p); err != nil {
			return err
		}
	}
	return nil
}

// openPartials lists the open partials by name, then id.
func (s *Share) openPartials() []*Partial {
	s.mu.RLock()
	out := make([]*Partial, 0, len(s.partials))
	for _, p := range s.partials {
		out = append(out, p)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].name != out[j].name {
			return out[i].name < out[j].name
		}
		return out[i].id.String() < out[j].id.String()
	})
	return out
}

// Partial returns the open partial with the given id.
func (s *Share) Partial(id content.ID) (*Partial, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.partials[id]
	return p, ok
}

// loadPartial opens a recorded download and reads the pieces its .have
// claims.
func (s *Share) loadPartial(id content.ID) (*Partial, error) {
	data, err := s.root.ReadFile(recordPath(id, ".manifest"))
	if err != nil {
		return nil, err
	}
	name, m, err := decodeManifest(data)
	if err != nil {
		return nil, err
	}
	if m.ID() != id {
		return nil, fmt.Errorf("manifest hashes to %s, not its id", m.ID().Short())
	}

	f, err := s.root.OpenFile(recordPath(id, ".part"), os.O_RDWR|os.O_CREATE, filePerm)
	if err != nil {
		return nil, err
	}
	p := &Partial{s: s, id: id, name: name, m: m, f: f}
	if err := p.resume(); err != nil {
		f.Close()
		return nil, err
	}
	return p, nil
}

// resume sizes the data file and reads the .have record. The record is
// trusted without re-hashing: it is written only after the data it claims
// was fsynced (see checkpointEvery).
func (p *Partial) resume() error {
	st, err := p.f.Stat()
	if err != nil {
		return err
	}
	if st.Size() != p.m.Size {
		if err := p.f.Truncate(p.m.Size); err != nil {
			return err
		}
	}
	n := p.m.NumPieces()
	have, err := p.s.readHave(p.id, n)
	if err != nil {
		p.s.log.Warn("resume record has no usable piece list, starting over",
			zap.Stringer("id", p.id), zap.Error(err))
		have = content.NewBitfield(n)
		p.gen++
	}
	p.have = have
	if p.gen > 0 {
		return p.persist(p.gen)
	}
	return nil
}

func (s *Share) readHave(id content.ID, n int) (content.Bitfield, error) {
	data, err := s.root.ReadFile(recordPath(id, ".have"))
	if err != nil {
		return nil, err
	}
	return decodeHave(data, n)
}

// encodeManifest is the .manifest record of a download of m saved as name.
func encodeManifest(name string, m content.Manifest) ([]byte, error) {
	mj := manifestJSON{Name: name, Size: m.Size, PieceSize: m.PieceSize, Alg: m.Alg.String(), Pieces: make([]string, len(m.Pieces))}
	for i, h := range m.Pieces {
		mj.Pieces[i] = hex.EncodeToString(h[:])
	}
	return json.Marshal(mj)
}

// decodeManifest reads a .manifest record and checks that it is valid
// (whether it describes the right download is the caller's check).
func decodeManifest(data []byte) (string, content.Manifest, error) {
	var mj manifestJSON
	if err := json.Unmarshal(data, &mj); err != nil {
		return "", content.Manifest{}, fmt.Errorf("manifest: %w", err)
	}
	if err := ValidateName(mj.Name); err != nil {
		return "", content.Manifest{}, fmt.Errorf("manifest: %w", err)
	}
	alg, err := parseRecordAlg(mj.Alg)
	if err != nil {
		return "", content.Manifest{}, fmt.Errorf("manifest: %w", err)
	}
	m := content.Manifest{Alg: alg, Size: mj.Size, PieceSize: mj.PieceSize, Pieces: make([]content.Hash, len(mj.Pieces))}
	for i, h := range mj.Pieces {
		if len(h) != 2*len(content.Hash{}) {
			return "", content.Manifest{}, fmt.Errorf("manifest: piece %d hash has %d hex characters", i, len(h))
		}
		if _, err := hex.Decode(m.Pieces[i][:], []byte(h)); err != nil {
			return "", content.Manifest{}, fmt.Errorf("manifest: piece %d: %w", i, err)
		}
	}
	if err := m.Validate(); err != nil {
		return "", content.Manifest{}, err
	}
	return mj.Name, m, nil
}

// encodeHave is the .have record of a bitfield: the bits, then their
// CRC-32C (big endian).
func encodeHave(have content.Bitfield) []byte {
	buf := append(have.Clone(), 0, 0, 0, 0)
	k := len(buf) - 4
	binary.BigEndian.PutUint32(buf[k:], crc32.Checksum(buf[:k], castagnoli))
	return buf
}

// decodeHave reads a .have record of a download of n pieces.
func decodeHave(data []byte, n int) (content.Bitfield, error) {
	k := (n + 7) / 8
	if len(data) != k+4 {
		return nil, fmt.Errorf("have record: %d bytes, want %d", len(data), k+4)
	}
	if crc32.Checksum(data[:k], castagnoli) != binary.BigEndian.Uint32(data[k:]) {
		return nil, errors.New("have record: checksum mismatch")
	}
	return content.BitfieldFrom(data[:k], n)
}

// removeRecord deletes every file of the download id.
func (s *Share) removeRecord(id content.ID) error {
	var first error
	for _, ext := range []string{".part", ".have", ".manifest"} {
		if err := s.root.Remove(recordPath(id, ext)); err != nil && !errors.Is(err, fs.ErrNotExist) && first == nil {
			first = err
		}
	}
	return first
}

func (s *Share) removeLogged(name string) {
	if err := s.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("remove", zap.String("name", name), zap.Error(err))
	}
}

// ID returns the id of the file being downloaded.
func (p *Partial) ID() content.ID { return p.id }

// Name returns the name the file will be saved under (Complete may add a
// suffix if it is taken).
func (p *Partial) Name() string { return p.name }

// Manifest returns the manifest being downloaded. Its Pieces are shared:
// read only.
func (p *Partial) Manifest() content.Manifest { return p.m }

// Have returns a copy of the verified-pieces bitfield.
func (p *Partial) Have() content.Bitfield {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.have.Clone()
}

// Missing returns the number of pieces still needed.
func (p *Partial) Missing() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m.NumPieces() - p.have.Count()
}

func (p *Partial) errEnded(op string) error {
	return fmt.Errorf("%s %s: download ended: %w", op, p.id.Short(), fs.ErrClosed)
}

// WritePiece verifies data against piece i of the manifest, writes it and
// records it in .have. It returns an error wrapping ErrBadPiece if data does
// not match (callers count these against the sender). Writing a piece
// already held is a no-op. Safe for concurrent use on different pieces.
//
// If only saving the .have record fails, the piece is still held (Have
// includes it) and the error says so; the next save includes it.
func (p *Partial) WritePiece(i int, data []byte) error {
	if i < 0 || i >= p.m.NumPieces() {
		return fmt.Errorf("write piece %d of %s: out of range [0, %d)", i, p.id.Short(), p.m.NumPieces())
	}
	if !p.m.Verify(i, data) {
		return fmt.Errorf("write piece %d of %s: %w", i, p.id.Short(), ErrBadPiece)
	}
	p.life.RLock()
	defer p.life.RUnlock()
	if p.f == nil {
		return p.errEnded("write piece")
	}
	p.mu.Lock()
	held := p.have.Has(i)
	p.mu.Unlock()
	if held {
		return nil
	}
	if _, err := p.f.WriteAt(data, p.m.PieceOffset(i)); err != nil {
		return fmt.Errorf("write piece %d of %s: %w", i, p.id.Short(), err)
	}
	p.mu.Lock()
	if !p.have.Has(i) {
		p.have.Set(i)
		p.gen++
	}
	gen := p.gen
	p.mu.Unlock()
	if !p.checkpointDue() {
		return nil
	}
	if err := p.persist(gen); err != nil {
		return fmt.Errorf("write piece %d of %s: piece held, resume record not saved: %w", i, p.id.Short(), err)
	}
	return nil
}

func (p *Partial) checkpointDue() bool {
	p.saveMu.Lock()
	defer p.saveMu.Unlock()
	return time.Since(p.savedAt) >= checkpointEvery
}

// Checkpoint saves the resume record now (data fsynced first). Downloads
// call it when they stop; Close calls it for every open Partial.
func (p *Partial) Checkpoint() error {
	p.life.RLock()
	defer p.life.RUnlock()
	if p.f == nil {
		return nil
	}
	p.mu.Lock()
	gen := p.gen
	p.mu.Unlock()
	return p.persist(gen)
}

// persist saves .have if it is older than generation want. Writers racing
// here coalesce: the one that gets the lock saves everyone's bits.
func (p *Partial) persist(want uint64) error {
	p.saveMu.Lock()
	defer p.saveMu.Unlock()
	if p.savedGen >= want {
		return nil
	}
	p.mu.Lock()
	buf := encodeHave(p.have)
	gen := p.gen
	p.mu.Unlock()
	// The pieces this record claims must be on disk before the record is.
	if err := p.f.Sync(); err != nil {
		return err
	}
	if err := writeFileAtomic(p.s.root, recordPath(p.id, ".have"), buf, true); err != nil {
		return err
	}
	p.savedGen, p.savedAt = gen, time.Now()
	return nil
}

// ReadPiece reads piece i into buf (at least PieceLen(i) bytes) so a
// download can be served while it runs. Only held pieces can be read; others
// fail with an error wrapping fs.ErrNotExist.
func (p *Partial) ReadPiece(i int, buf []byte) (int, error) {
	if i < 0 || i >= p.m.NumPieces() {
		return 0, fmt.Errorf("read piece %d of %s: out of range [0, %d)", i, p.id.Short(), p.m.NumPieces())
	}
	n := p.m.PieceLen(i)
	if len(buf) < n {
		return 0, fmt.Errorf("read piece %d of %s: buffer of %d bytes, need %d", i, p.id.Short(), len(buf), n)
	}
	p.life.RLock()
	defer p.life.RUnlock()
	if p.f == nil {
		return 0, p.errEnded("read piece")
	}
	p.mu.Lock()
	held := p.have.Has(i)
	p.mu.Unlock()
	if !held {
		return 0, fmt.Errorf("read piece %d of %s: not held yet: %w", i, p.id.Short(), fs.ErrNotExist)
	}
	got, err := p.f.ReadAt(buf[:n], p.m.PieceOffset(i))
	if got == n {
		return n, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return got, fmt.Errorf("read piece %d of %s: %w", i, p.id.Short(), err)
}

// Complete finishes the download: it syncs the data, moves it into the share
// as Name (or "Name (<short id>)" if Name holds other content), removes the
// resume record and adds the file to the catalog and the hash cache without
// rehashing, since every piece was verified when written. The cache entry
// keeps the download's piece size, so the id stays the one peers know. It
// fails with ErrIncomplete while pieces are missing; the Partial stays
// usable after any error.
func (p *Partial) Complete() (Entry, error) {
	s := p.s
	p.life.Lock()
	defer p.life.Unlock()
	if p.f == nil {
		return Entry{}, p.errEnded("complete")
	}
	if missing := p.Missing(); missing > 0 {
		return Entry{}, fmt.Errorf("complete %s: %d of %d pieces missing: %w",
			p.id.Short(), missing, p.m.NumPieces(), ErrIncomplete)
	}
	if err := p.f.Sync(); err != nil {
		return Entry{}, fmt.Errorf("complete %s: %w", p.id.Short(), err)
	}
	st, err := p.f.Stat()
	if err != nil {
		return Entry{}, fmt.Errorf("complete %s: %w", p.id.Short(), err)
	}
	e, err := p.place(st.ModTime().UnixNano())
	if err != nil {
		return Entry{}, fmt.Errorf("complete %s: %w", p.id.Short(), err)
	}

	p.f.Close()
	p.f = nil
	if err := s.removeRecord(p.id); err != nil {
		s.log.Warn("remove resume record", zap.Stringer("id", p.id), zap.Error(err))
	}
	s.mu.Lock()
	if s.partials[p.id] == p {
		delete(s.partials, p.id)
	}
	s.mu.Unlock()
	if err := s.saveCache(); err != nil {
		s.log.Warn("hash cache not saved", zap.Error(err))
	}
	return e, nil
}

// place moves the data file into the share under the first free name.
func (p *Partial) place(mtime int64) (Entry, error) {
	s := p.s
	names := []string{p.name, suffixName(p.name, p.id)}
	for _, name := range names {
		err := s.place(recordPath(p.id, ".part"), name)
		if err == nil {
			return s.addEntry(name, newRecord(p.m.Size, mtime, p.m, true)), nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return Entry{}, err
		}
		if e, ok := s.LookupName(name); ok && e.ID == p.id {
			// The same content is already there; the caller drops ours.
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("names %q and %q are taken: %w", names[0], names[1], fs.ErrExist)
}

// Remove abandons the download and deletes its files.
func (p *Partial) Remove() error {
	p.life.Lock()
	defer p.life.Unlock()
	if p.f == nil {
		return p.errEnded("remove")
	}
	p.f.Close()
	p.f = nil
	p.s.mu.Lock()
	if p.s.partials[p.id] == p {
		delete(p.s.partials, p.id)
	}
	p.s.mu.Unlock()
	if err := p.s.removeRecord(p.id); err != nil {
		return fmt.Errorf("remove %s: %w", p.id.Short(), err)
	}
	return nil
}

// closeFile ends the Partial without touching its record, so it can be
// resumed by the next Open.
func (p *Partial) closeFile() {
	if err := p.Checkpoint(); err != nil {
		p.s.log.Warn("save resume record", zap.Stringer("id", p.id), zap.Error(err))
	}
	p.life.Lock()
	defer p.life.Unlock()
	if p.f != nil {
		p.f.Close()
		p.f = nil
	}
}
