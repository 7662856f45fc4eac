// Package web serves the dashboard to browsers: the pages (HTML, script
// and style embedded in the binary; nothing is loaded from elsewhere),
// the stream of server-sent events each page draws from, the current view
// as JSON, and the one action, asking a peer node to fetch a file (a
// POST guarded against cross-site requests).
package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"
)

//go:embed static
var static embed.FS

// Fetcher asks a peer node (by replica key) to fetch a file (a file id or
// name), and returns the node's answer.
type Fetcher interface {
	Fetch(ctx context.Context, node, ref string) (status int, body []byte, err error)
}

// Handler serves the dashboard.
type Handler struct {
	hub     *Hub
	fetcher Fetcher
	log     *zap.Logger
	mux     *http.ServeMux
	// heartbeat is how often an idle stream gets a comment, so proxies
	// and browsers see it is alive.
	heartbeat time.Duration
}

// New returns the dashboard's handler.
func New(hub *Hub, fetcher Fetcher, log *zap.Logger) *Handler {
	h := &Handler{hub: hub, fetcher: fetcher, log: log, mux: http.NewServeMux(), heartbeat: 15 * time.Second}
	assets, _ := fs.Sub(static, "static")
	files := http.FileServerFS(assets)
	index := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, assets, "index.html")
	}
	h.mux.HandleFunc("GET /{$}", index)
	h.mux.HandleFunc("GET /swarm", index)
	h.mux.HandleFunc("GET /service/{name}", index)
	h.mux.Handle("GET /static/", http.StripPrefix("/static/", noCache(files)))
	h.mux.HandleFunc("GET /events", h.events)
	h.mux.HandleFunc("GET /api/view", h.view)
	h.mux.Handle("POST /api/fetch", http.NewCrossOriginProtection().Handler(http.HandlerFunc(h.fetch)))
	return h
}

// securityHeaders are on every answer: only this origin's own script,
// style and connections, no framing.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "no-referrer",
	"X-Frame-Options":        "DENY",
}

// ServeHTTP serves r.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for k, v := range securityHeaders {
		w.Header().Set(k, v)
	}
	h.mux.ServeHTTP(w, r)
}

// noCache makes the browser check the embedded files again on each load:
// they change with the binary.
func noCache(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		next.ServeHTTP(w, r)
	})
}

// pageOf reads which page a request is for.
func pageOf(r *http.Request) (Page, error) {
	q := r.URL.Query()
	p := Page{Kind: q.Get("page"), Service: q.Get("service"), Replica: q.Get("replica")}
	switch {
	case p.Kind == "overview" || p.Kind == "swarm":
		p.Service, p.Replica = "", ""
	case p.Kind == "service" && p.Service != "" && len(p.Service) <= 64 && len(p.Replica) <= 256:
	default:
		return p, errors.New("want page=overview, page=swarm or page=service&service=NAME[&replica=KEY]")
	}
	return p, nil
}

// view answers the page's snapshot as JSON.
func (h *Handler) view(w http.ResponseWriter, r *http.Request) {
	p, err := pageOf(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	data, _, err := h.hub.src.Build(p, true)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(data)
}

// events streams a page's messages as server-sent events until the
// browser goes away or falls behind.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	p, err := pageOf(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	c, err := h.hub.Subscribe(p)
	if errors.Is(err, ErrTooManyClients) {
		writeError(w, http.StatusServiceUnavailable, err)
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	defer h.hub.Unsubscribe(c)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	// The browser reconnects a second after a stream ends.
	if !write(rc, w, []byte("retry: 1000\n\n")) {
		return
	}
	beat := time.NewTicker(h.heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case msg, ok := <-c.ch:
			if !ok || !write(rc, w, msg) {
				return
			}
		case <-beat.C:
			if !write(rc, w, []byte(": alive\n\n")) {
				return
			}
		}
	}
}

// writeTimeout bounds one write to a stream: a browser that stops reading
// is let go.
const writeTimeout = 10 * time.Second

func write(rc *http.ResponseController, w io.Writer, msg []byte) bool {
	_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := w.Write(msg); err != nil {
		return false
	}
	return rc.Flush() == nil
}

// fetchRequest is the body of POST /api/fetch.
type fetchRequest struct {
	Node string `json:"node"` // a replica key
	Ref  string `json:"ref"`  // a file id or name
}

// fetch asks a node to fetch a file and answers with the node's answer.
func (h *Handler) fetch(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, errors.New("want a JSON body"))
		return
	}
	var req fetchRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil || req.Node == "" || req.Ref == "" {
		writeError(w, http.StatusBadRequest, errors.New(`body must be {"node": "<replica>", "ref": "<file id or name>"}`))
		return
	}
	status, body, err := h.fetcher.Fetch(r.Context(), req.Node, req.Ref)
	if err != nil {
		writeError(w, status, err)
		return
	}
	h.log.Info("fetch asked", zap.String("node", req.Node), zap.String("ref", req.Ref), zap.Int("status", status))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, code int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}
