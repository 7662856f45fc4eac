package httpjson_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/netlab/netlab/services/platform/httpjson"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	httpjson.Write(rec, http.StatusCreated, map[string]int{"n": 1})
	if rec.Code != http.StatusCreated {
		t.Errorf("code = %d, want %d", rec.Code, http.StatusCreated)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if got, want := rec.Body.String(), "{\n  \"n\": 1\n}\n"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
}
