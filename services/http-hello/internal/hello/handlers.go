package hello

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/netlab/netlab/services/platform/httpjson"
	"github.com/netlab/netlab/services/platform/lifecycle"
)

// rootPattern is the route of GET /, which instrument serves without the
// mux: it is what load tests send.
const rootPattern = "GET /{$}"

// routes registers every endpoint on a new mux.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	// GET patterns also answer HEAD; {$} makes "/" match only "/".
	s.root = s.handle(mux, rootPattern, s.hello)
	s.handle(mux, "/echo", s.echo)
	s.handle(mux, "GET /status/{code}", s.status)
	s.handle(mux, "GET /delay/{duration}", s.delay)
	s.handle(mux, "GET /bytes/{n}", s.bytes)
	return mux
}

// textPlain is the Content-Type value of plain text answers.
var textPlain = []string{"text/plain; charset=utf-8"}

// hello is the tutorial's handler: 200, text/plain, the greeting. The
// header values are made once and shared by every answer, which saves
// Header.Set's key check and two allocations per request; net/http only
// reads them.
func (s *Server) hello(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h["Content-Type"] = textPlain
	h["Content-Length"] = s.greetingLength
	_, _ = w.Write(s.greeting)
}

// echoReply is what /echo answers: everything that tells one request, and
// one replica, from another.
type echoReply struct {
	Method     string              `json:"method"`
	Path       string              `json:"path"`
	Query      string              `json:"query,omitempty"`
	Proto      string              `json:"proto"`
	Host       string              `json:"host"` // the Host header
	RemoteAddr string              `json:"remote_addr"`
	Headers    map[string][]string `json:"headers"`
	BodyBytes  int64               `json:"body_bytes"`
	Hostname   string              `json:"hostname"` // the server's: tells replicas apart
	IPs        []string            `json:"ips"`      // the server's addresses
}

func (s *Server) echo(w http.ResponseWriter, r *http.Request) {
	n, err := io.Copy(io.Discard, r.Body) // capped by MAX_BODY in limitBody
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than MAX_BODY (%d bytes)", tooLarge.Limit))
			return
		}
		httpError(w, http.StatusBadRequest, "reading request body: "+err.Error())
		return
	}
	httpjson.Write(w, http.StatusOK, echoReply{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Proto: r.Proto, Host: r.Host,
		RemoteAddr: r.RemoteAddr, Headers: r.Header, BodyBytes: n,
		Hostname: s.hostname, IPs: s.ips,
	})
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	code, err := strconv.Atoi(r.PathValue("code"))
	if err != nil || code < 200 || code > 599 {
		httpError(w, http.StatusBadRequest, "status code must be a number from 200 to 599")
		return
	}
	httpError(w, code, http.StatusText(code))
}

func (s *Server) delay(w http.ResponseWriter, r *http.Request) {
	d, err := parseDelay(r.PathValue("duration"))
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	if d > s.cfg.MaxDelay {
		httpError(w, http.StatusBadRequest, fmt.Sprintf("delay %s is over MAX_DELAY (%s)", d, s.cfg.MaxDelay))
		return
	}
	if lifecycle.Sleep(r.Context(), d) != nil {
		return // the client left: nobody to answer
	}
	httpjson.Write(w, http.StatusOK, map[string]string{"delayed": d.String()})
}

// parseDelay accepts a Go duration ("250ms", "2s") or a number of seconds.
func parseDelay(s string) (time.Duration, error) {
	if secs, err := strconv.ParseFloat(s, 64); err == nil && secs >= 0 && secs < 1e6 {
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("delay %q: want a duration like 250ms or 2s", s)
	}
	return d, nil
}

// bytesChunk is the block /bytes streams, repeated; it is made once.
var bytesChunk = func() []byte {
	b := make([]byte, 32<<10)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}()

// bytes streams n bytes without building them in memory.
func (s *Server) bytes(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
	if err != nil || n < 0 {
		httpError(w, http.StatusBadRequest, "n must be a non-negative number of bytes")
		return
	}
	if n > s.cfg.MaxBytes {
		httpError(w, http.StatusBadRequest, fmt.Sprintf("%d bytes is over MAX_BYTES (%d)", n, s.cfg.MaxBytes))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	if r.Method == http.MethodHead {
		return
	}
	for n > 0 {
		chunk := bytesChunk[:min(int64(len(bytesChunk)), n)]
		if _, err := w.Write(chunk); err != nil {
			return // the client went away
		}
		n -= int64(len(chunk))
	}
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = fmt.Fprintln(w, msg)
}

// hostIdentity returns the host name and the non-loopback addresses of this
// host (in a container: the container's), for /echo.
func hostIdentity() (string, []string) {
	name, _ := os.Hostname()
	var ips []string
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() {
			ips = append(ips, ipn.IP.String())
		}
	}
	return name, ips
}
