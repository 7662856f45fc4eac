package node

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/peer/api"
	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/share"
	"github.com/netlab/netlab/services/peer/internal/wire"
	"github.com/netlab/netlab/services/platform/httpjson"
)

func hexID(id [16]byte) string { return hex.EncodeToString(id[:]) }

// swarm merges this node's catalog with every connected peer's.
func (n *Node) swarm() []api.SwarmFile {
	byID := make(map[content.ID]*api.SwarmFile)
	for _, e := range n.share.Catalog() {
		byID[e.ID] = &api.SwarmFile{ID: e.ID.String(), Name: e.Name, Size: e.Manifest.Size,
			PieceSize: e.Manifest.PieceSize, Offered: e.Offered, Local: true}
	}
	for addr, files := range n.peers.catalogs() {
		for _, f := range files {
			id := f.ID
			sf, ok := byID[id]
			if !ok {
				sf = &api.SwarmFile{ID: id.String(), Name: f.Name, Size: int64(f.Size), PieceSize: int(f.PieceSize)}
				byID[id] = sf
			}
			sf.Offered = sf.Offered || f.Offered
			sf.Holders = append(sf.Holders, addr)
		}
	}
	out := make([]api.SwarmFile, 0, len(byID))
	for _, sf := range byID {
		slices.Sort(sf.Holders)
		if sf.Holders == nil {
			sf.Holders = []string{}
		}
		out = append(out, *sf)
	}
	slices.SortFunc(out, func(a, b api.SwarmFile) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// resolve turns an id or a name into the file's id and name. A name held
// with different content by several peers is ambiguous unless exactly one
// of them is offered.
func (n *Node) resolve(ref string) (content.ID, string, error) {
	if id, err := content.ParseID(ref); err == nil {
		for _, f := range n.swarm() {
			if f.ID == id.String() {
				return id, f.Name, nil
			}
		}
		return id, "", nil // peers may still have it in progress
	}
	if err := share.ValidateName(ref); err != nil {
		return content.ID{}, "", err
	}
	var matches []api.SwarmFile
	for attempt := 0; attempt < 2 && len(matches) == 0; attempt++ {
		if attempt > 0 {
			// Not seen yet: the file may have been added since the last
			// refresh; ask the peers now.
			ctx, cancel := context.WithTimeout(context.Background(), n.cfg.DialTimeout)
			n.peers.pollNow(ctx)
			cancel()
		}
		for _, f := range n.swarm() {
			if f.Name == ref {
				matches = append(matches, f)
			}
		}
	}
	if len(matches) > 1 {
		var offered []api.SwarmFile
		for _, f := range matches {
			if f.Offered {
				offered = append(offered, f)
			}
		}
		if len(offered) != 1 {
			ids := make([]string, len(matches))
			for i, f := range matches {
				ids[i] = f.ID
			}
			return content.ID{}, "", fmt.Errorf("%w: %d files are named %q (ids %s); ask for one by id", errAmbiguous, len(matches), ref, strings.Join(ids, ", "))
		}
		matches = offered
	}
	if len(matches) == 0 {
		return content.ID{}, "", fmt.Errorf("%w: no file named %q in the swarm (%d peers connected)", errNotFound, ref, len(n.peers.connected()))
	}
	id, _ := content.ParseID(matches[0].ID)
	return id, matches[0].Name, nil
}

func (n *Node) status() api.Status {
	peers := n.peers.status()
	s := api.Status{
		NodeID: hexID(n.id), Listen: n.ln.Addr().String(), Advertise: n.cfg.AdvertiseAddr,
		Files: len(n.share.Catalog()), PeersKnown: len(peers), UploadRate: n.limiter.Rate(),
		ServePieces: n.cfg.ServePieces, ProtocolVersion: wire.Version,
		BytesUploaded: n.uploaded.bytes.Load(), PiecesUploaded: n.uploaded.pieces.Load(),
		Secret: n.cfg.Secret != "", Sync: n.cfg.Sync, UptimeSecs: time.Since(n.started).Seconds(),
	}
	for _, p := range peers {
		if p.Connected {
			s.PeersConnected++
		}
	}
	for _, dl := range n.downloads.list() {
		if st := dl.status().State; st != api.StateComplete && st != api.StateFailed {
			s.DownloadsActive++
		}
	}
	return s
}

func localFile(e share.Entry) api.LocalFile {
	return api.LocalFile{ID: e.ID.String(), Name: e.Name, Size: e.Manifest.Size, PieceSize: e.Manifest.PieceSize,
		Pieces: e.Manifest.NumPieces(), Offered: e.Offered, Modified: e.ModTime}
}

// Routes registers the JSON API on the admin listener:
//
//	GET  /api/status              this node
//	GET  /api/catalog             this node's files
//	GET  /api/swarm               every file this node can see, with holders
//	GET  /api/peers               known peers
//	GET  /api/downloads           downloads and their progress
//	POST /api/downloads           {"ref": "<id or name>"} starts one
//	GET  /api/downloads/{id}      one download
//	GET  /api/files/{name}        a shared file's bytes
//	PUT  /api/files/{name}        add a file to the share (?offer=1 offers it)
func (n *Node) Routes(handle func(pattern string, h http.Handler)) {
	// A browser on the host can reach the admin port: refuse the POSTs and
	// PUTs it sends from another site. Clients that send no browser
	// headers (peerctl, the lab, the dashboard's server) pass.
	cop := http.NewCrossOriginProtection()
	h := func(pattern string, f http.HandlerFunc) { handle(pattern, cop.Handler(f)) }
	h("GET /api/status", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, n.status()) })
	h("GET /api/catalog", func(w http.ResponseWriter, _ *http.Request) {
		files := []api.LocalFile{}
		for _, e := range n.share.Catalog() {
			files = append(files, localFile(e))
		}
		writeJSON(w, http.StatusOK, files)
	})
	h("GET /api/swarm", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, n.swarm()) })
	h("GET /api/peers", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, n.peers.status()) })
	h("GET /api/downloads", func(w http.ResponseWriter, _ *http.Request) {
		out := []api.Download{}
		for _, dl := range n.downloads.list() {
			out = append(out, dl.status())
		}
		slices.SortFunc(out, func(a, b api.Download) int { return a.Started.Compare(b.Started) })
		writeJSON(w, http.StatusOK, out)
	})
	h("POST /api/downloads", n.startDownload)
	h("GET /api/downloads/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := content.ParseID(r.PathValue("id"))
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		dl, ok := n.downloads.get(id)
		if !ok {
			writeError(w, http.StatusNotFound, errors.New("no download of that id"))
			return
		}
		writeJSON(w, http.StatusOK, dl.status())
	})
	h("GET /api/files/{name}", n.getFile)
	h("PUT /api/files/{name}", n.putFile)
}

func (n *Node) startDownload(w http.ResponseWriter, r *http.Request) {
	var req api.DownloadRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil || req.Ref == "" {
		writeError(w, http.StatusBadRequest, errors.New(`body must be {"ref": "<file id or name>"}`))
		return
	}
	dl, err := n.downloads.start(req.Ref)
	switch {
	case errors.Is(err, errNotFound):
		writeError(w, http.StatusNotFound, err)
	case errors.Is(err, errAmbiguous):
		writeError(w, http.StatusConflict, err)
	case err != nil:
		writeError(w, http.StatusBadRequest, err)
	default:
		writeJSON(w, http.StatusAccepted, dl.status())
	}
}

// transferDeadline allows a large body at a modest 1 MiB/s (the admin
// listener's own deadlines are 10 s).
func transferDeadline(size int64) time.Time {
	return time.Now().Add(30*time.Second + time.Duration(size/(1<<20))*time.Second)
}

func (n *Node) getFile(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := share.ValidateName(name); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	f, err := n.share.OpenFile(name)
	if err != nil {
		writeError(w, http.StatusNotFound, fmt.Errorf("no shared file named %q", name))
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(transferDeadline(info.Size()))
	if e, ok := n.share.LookupName(name); ok {
		w.Header().Set("X-Netlab-File-Id", e.ID.String())
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, name, info.ModTime(), f)
}

func (n *Node) putFile(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := share.ValidateName(name); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	limit := int64(n.cfg.MaxFileSize)
	if r.ContentLength > limit {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("file is over MAX_FILE_SIZE (%s)", n.cfg.MaxFileSize))
		return
	}
	// Unknown length (chunked): allow the largest file at the modest rate.
	size := r.ContentLength
	if size < 0 {
		size = limit
	}
	deadline := transferDeadline(size)
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(deadline)
	_ = rc.SetWriteDeadline(deadline)
	ctx, cancel := context.WithDeadline(r.Context(), deadline)
	defer cancel()
	e, err := n.share.Put(ctx, name, r.Body, limit)
	switch {
	case errors.Is(err, fs.ErrExist):
		writeError(w, http.StatusConflict, fmt.Errorf("a file named %q is already shared", name))
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if offer, _ := strconv.ParseBool(r.URL.Query().Get("offer")); offer {
		if err := n.share.Offer(name); err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		e.Offered = true
	}
	n.metrics.catalogFiles.Set(float64(len(n.share.Catalog())))
	n.log.Info("file added", zap.String("name", name), zap.String("id", e.ID.Short()), zap.Int64("bytes", e.Manifest.Size))
	writeJSON(w, http.StatusCreated, localFile(e))
}

// writeJSON answers in the services' JSON format, marked never to be
// cached: the API reports the node's state as it is now.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Cache-Control", "no-store")
	httpjson.Write(w, code, v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, api.Error{Error: err.Error()})
}
