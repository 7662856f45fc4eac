package clientcli

import (
	"encoding/json"
	"io"
	"sync"
)

// Result is anything a client prints as its answer: a text form for people
// and a JSON form for programs.
type Result interface {
	WriteText(w io.Writer) error
	WriteJSON(w io.Writer) error
}

// Print writes r to w as JSON when asJSON is set, else as text.
func Print(w io.Writer, asJSON bool, r Result) error {
	if asJSON {
		return r.WriteJSON(w)
	}
	return r.WriteText(w)
}

// WriteJSON writes v as one JSON object on one line, with one Write.
func WriteJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// SyncWriter returns a writer that passes each Write to w whole, one at a
// time, so lines written from several goroutines (per-request lines and
// interval reports) do not interleave.
func SyncWriter(w io.Writer) io.Writer { return &syncWriter{w: w} }

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
