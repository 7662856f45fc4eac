package hello

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/netlab/netlab/services/http-hello/internal/config"
)

// instrument serves the requests isRoot picks without the mux, so the mux
// must answer each of them with the hello too; the rest go through the mux
// whatever it answers.
func TestIsRoot_PicksOnlyWhatTheMuxAnswersWithTheHello(t *testing.T) {
	s := unlistenedServer(t, config.Config{Greeting: "Hello, World!"}, "test")
	mux := s.routes()
	for _, c := range []struct {
		line string
		root bool
	}{
		{"GET / HTTP/1.1", true}, {"HEAD / HTTP/1.1", true}, {"GET /?a=b HTTP/1.1", true},
		{"GET http://example.com/ HTTP/1.1", true}, {"GET / HTTP/1.0", true},
		{"POST / HTTP/1.1", false}, {"PUT / HTTP/1.1", false}, {"OPTIONS * HTTP/1.1", false},
		{"GET // HTTP/1.1", false}, {"GET /. HTTP/1.1", false}, {"GET /%2F HTTP/1.1", false},
		{"GET /echo HTTP/1.1", false}, {"get / HTTP/1.1", false},
	} {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(c.line + "\r\nHost: h\r\n\r\n")))
		if err != nil {
			t.Fatalf("%s: %v", c.line, err)
		}
		if got := isRoot(r); got != c.root {
			t.Errorf("%s: isRoot %v, want %v", c.line, got, c.root)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if hello := w.Code == http.StatusOK && w.Body.String() == "Hello, World!"; c.root && !hello {
			t.Errorf("%s: picked by isRoot, but the mux answered %d %q", c.line, w.Code, w.Body)
		}
	}
}
