package share

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/peer/internal/content"
)

// Put stores the contents of r as a new shared file called name. The data is
// written to a temp file under .netlab and moved into place only once
// complete, so a half-written file is never shared. Put never replaces an
// existing file (the error wraps fs.ErrExist) and fails with ErrTooLarge if r
// holds more than maxBytes. The file is hashed while it is written and added
// to the catalog.
func (s *Share) Put(ctx context.Context, name string, r io.Reader, maxBytes int64) (Entry, error) {
	if err := ValidateName(name); err != nil {
		return Entry{}, err
	}
	if maxBytes < 0 {
		return Entry{}, fmt.Errorf("put %q: negative size limit %d", name, maxBytes)
	}
	// Checked early to refuse before reading a body; place checks again.
	if _, err := s.root.Lstat(name); err == nil {
		return Entry{}, fmt.Errorf("put %q: %w", name, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Entry{}, fmt.Errorf("put %q: %w", name, err)
	}

	h, err := content.NewHasher(s.pieceSize, s.alg)
	if err != nil {
		return Entry{}, fmt.Errorf("put %q: %w", name, err)
	}
	tmp := tempName(stateDir + "/upload")
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return Entry{}, fmt.Errorf("put %q: %w", name, err)
	}
	placed := false
	defer func() {
		if !placed {
			_ = s.root.Remove(tmp)
		}
	}()

	info, err := s.writeUpload(ctx, f, h, r, maxBytes)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Entry{}, fmt.Errorf("put %q: %w", name, err)
	}
	m := h.Manifest()
	if m.Size != info.Size() {
		return Entry{}, fmt.Errorf("put %q: wrote %d bytes, file has %d", name, m.Size, info.Size())
	}
	if err := s.place(tmp, name); err != nil {
		return Entry{}, fmt.Errorf("put %q: %w", name, err)
	}
	placed = true

	e := s.addEntry(name, newRecord(m.Size, info.ModTime().UnixNano(), m, false))
	if err := s.saveCache(); err != nil {
		s.log.Warn("hash cache not saved", zap.Error(err))
	}
	return e, nil
}

// writeUpload copies at most maxBytes from r to f, hashing as it goes, and
// syncs f so the file is durable before it is shared.
func (s *Share) writeUpload(ctx context.Context, f *os.File, h *content.Hasher, r io.Reader, maxBytes int64) (fs.FileInfo, error) {
	limit := maxBytes
	if limit < math.MaxInt64 {
		limit++ // one byte more tells "exactly maxBytes" from "too much"
	}
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(ctxReader{ctx: ctx, r: r}, limit))
	if err != nil {
		return nil, err
	}
	if n > maxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxBytes)
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	return f.Stat()
}

// place moves src to dst without ever replacing an existing dst: a hard link
// fails atomically if dst exists, unlike rename. The error wraps fs.ErrExist
// when dst is taken.
func (s *Share) place(src, dst string) error {
	err := s.root.Link(src, dst)
	if err == nil {
		if err := s.root.Remove(src); err != nil {
			s.log.Warn("remove temp file", zap.String("name", src), zap.Error(err))
		}
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return err
	}
	// No hard links on this file system: check, then rename. A file created
	// in between would be replaced, which only a local user can cause.
	if _, lerr := s.root.Lstat(dst); lerr == nil {
		return &fs.PathError{Op: "place", Path: dst, Err: fs.ErrExist}
	} else if !errors.Is(lerr, fs.ErrNotExist) {
		return lerr
	}
	return s.root.Rename(src, dst)
}
