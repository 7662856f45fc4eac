package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/wire"
)

// maxPeerCatalog bounds the catalog kept of one peer: 128 Ki entries,
// under 40 MiB with names of 255 bytes.
const maxPeerCatalog = 1 << 17

// errNoManifest: the peer answered with a reject, not the manifest.
var errNoManifest = errors.New("peer has no manifest for the file")

// catalog asks the peer for its catalog in pages, at most maxPeerCatalog
// entries. Each request must be answered within wait.
func (pc *peerConn) catalog(ctx context.Context, wait time.Duration) ([]wire.CatalogEntry, error) {
	var files []wire.CatalogEntry
	after := ""
	for len(files) < maxPeerCatalog {
		r := pc.doWithin(ctx, wait, &wire.GetCatalogPage{After: after})
		if r.err != nil {
			return nil, r.err
		}
		page, ok := r.msg.(*wire.CatalogPage)
		switch {
		case !ok:
			return nil, pc.broken(fmt.Errorf("answer to get_catalog_page is %s", r.msg.Type()))
		case len(page.Files) > 0 && page.Files[0].Name <= after:
			return nil, pc.broken(fmt.Errorf("catalog page does not start after %q", after))
		case page.More && len(page.Files) == 0:
			return nil, pc.broken(errors.New("empty catalog page with more to follow"))
		}
		files = append(files, page.Files...)
		if !page.More {
			break
		}
		after = page.Files[len(page.Files)-1].Name
	}
	return files[:min(len(files), maxPeerCatalog)], nil
}

// manifest asks the peer for a file's manifest, in pages. The caller
// checks it against the id.
func (pc *peerConn) manifest(ctx context.Context, id content.ID) (*wire.Manifest, error) {
	var out *wire.Manifest
	var pieces uint32
	for {
		first := uint32(0)
		if out != nil {
			first = uint32(len(out.Pieces))
		}
		r := pc.do(ctx, &wire.GetManifestPage{ID: id, First: first})
		if r.err != nil {
			return nil, r.err
		}
		p, ok := r.msg.(*wire.ManifestPage)
		if !ok {
			return nil, errNoManifest
		}
		if p.ID != id || p.First != first || (out != nil && (p.Size != out.Size || p.PieceSize != out.PieceSize || p.Pieces != pieces)) {
			return nil, pc.broken(errors.New("manifest page does not continue the pages before it"))
		}
		if out == nil {
			// Grown page by page: a count the peer cannot back with
			// hashes allocates nothing.
			out, pieces = &wire.Manifest{ID: id, Size: p.Size, PieceSize: p.PieceSize, Name: p.Name}, p.Pieces
		}
		out.Pieces = append(out.Pieces, p.Hashes...)
		if uint32(len(out.Pieces)) == pieces {
			return out, nil
		}
	}
}

// doWithin is do with a deadline of its own: giving up on it leaves the
// connection in step (the late answer is dropped).
func (pc *peerConn) doWithin(ctx context.Context, wait time.Duration, req wire.Message) reply {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	return pc.do(ctx, req)
}

// broken closes the connection after an answer no honest peer sends,
// telling the peer why.
func (pc *peerConn) broken(err error) error {
	pc.tellProtocolError(err)
	pc.close(err)
	return err
}
