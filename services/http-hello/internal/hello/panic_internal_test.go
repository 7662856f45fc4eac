package hello

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/netlab/netlab/services/http-hello/internal/config"
)

// A handler that panics gives its MAX_CONCURRENT slot back: net/http
// recovers the panic and keeps serving, so a leaked slot would refuse
// every request once MAX_CONCURRENT handlers had panicked.
func TestInstrument_PanickingHandlerGivesItsSlotBack(t *testing.T) {
	cfg := config.Config{Greeting: "Hello, World!", MaxDelay: time.Millisecond, MaxBytes: 1 << 16, MaxBody: 1024, MaxConcurrent: 1}
	s := unlistenedServer(t, cfg, "test")
	mux := s.routes()
	mux.HandleFunc("/boom", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	h := s.instrument(mux)
	for range 3 {
		func() {
			defer func() { _ = recover() }() // what net/http does for a panicking handler
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/boom", nil))
		}()
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("GET / after three panics with MAX_CONCURRENT=1: %d %q, want 200", w.Code, w.Body.String())
	}
}
