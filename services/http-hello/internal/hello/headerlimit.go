package hello

import (
	"io"
	"net/http"
)

// headerBlockSize is the size of r's header block as MAX_HEADER_BYTES
// counts it: the request line, one "Name: value" line per header value
// (Host included), and the blank line that ends the block, each with its
// CRLF. For a block written that way (as clients do) it is the number of
// bytes on the wire; other whitespace around a value, or a bare LF, counts
// as if written that way. HTTP/2 requests count as their HTTP/1.1 form.
func headerBlockSize(r *http.Request) int {
	n := len(r.Method) + len(" ") + len(r.RequestURI) + len(" ") + len(r.Proto) + len("\r\n")
	if r.Host != "" { // net/http moves the Host header out of r.Header
		n += len("Host: \r\n") + len(r.Host)
	}
	for name, values := range r.Header {
		for _, v := range values {
			n += len(name) + len(": \r\n") + len(v)
		}
	}
	return n + len("\r\n")
}

// limitHeaders refuses a request whose header block is over
// MAX_HEADER_BYTES with the 431 net/http itself sends, and counts it.
// net/http's own check (http.Server.MaxHeaderBytes) lets up to 4 KiB more
// through on purpose, as slack for its read buffer, so the exact limit is
// kept here, before routing; net/http's check stays as the outer bound.
func (s *Server) limitHeaders(next http.Handler) http.Handler {
	limit := s.cfg.MaxHeaderBytes
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if headerBlockSize(r) <= limit {
			next.ServeHTTP(w, r)
			return
		}
		s.metrics.headersTooLarge.Inc()
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		if r.ProtoMajor == 1 {
			h.Set("Connection", "close") // as net/http's own 431
		}
		w.WriteHeader(http.StatusRequestHeaderFieldsTooLarge)
		_, _ = io.WriteString(w, "431 Request Header Fields Too Large")
	})
}

// headerTooLarge is the whole response net/http writes, on its own and
// before any handler runs, when a request's header block is so far over
// MAX_HEADER_BYTES that its read limit stops it (net/http's conn.serve,
// errTooLarge). A handler's response always carries a Date header, so it
// never equals this.
var headerTooLarge = []byte("HTTP/1.1 431 Request Header Fields Too Large\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n" +
	"431 Request Header Fields Too Large")
