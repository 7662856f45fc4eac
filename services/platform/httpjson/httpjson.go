// Package httpjson writes the JSON answers of http-hello's handlers and
// the peer's API in one format: indented for a person reading them with
// curl.
package httpjson

import (
	"encoding/json"
	"net/http"
)

// Write answers with status code and v as indented JSON. An encoding or
// write error is dropped: the status is already sent.
func Write(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
