package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlab/netlab/services/peer/api"
)

// fakeNode answers like a node: a PUT file, a download that is complete
// at the third poll, a swarm that lists the file from the second call.
func fakeNode(t *testing.T) (*api.Client, *[]byte) {
	var put []byte
	var polls, swarms, flaky atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /api/files/{name}", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("offer") != "1" || r.PathValue("name") != "f.bin" {
			http.Error(w, `{"error":"bad"}`, http.StatusBadRequest)
			return
		}
		put, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(api.LocalFile{Name: "f.bin", Size: int64(len(put))})
	})
	mux.HandleFunc("GET /api/swarm", func(w http.ResponseWriter, r *http.Request) {
		fs := []api.SwarmFile{}
		if swarms.Add(1) >= 2 {
			fs = append(fs, api.SwarmFile{Name: "f.bin", Holders: []string{"a"}})
		}
		json.NewEncoder(w).Encode(fs)
	})
	mux.HandleFunc("GET /api/peers", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode([]api.Peer{
			{Addr: "a:1", NodeID: "n1", Connected: true}, {Addr: "b:1", NodeID: "n1", Connected: true}, // one node, two addresses
			{Addr: "c:1", NodeID: "n2", Connected: true}, {Addr: "d:1", NodeID: "n3"}, {Addr: "e:1", NodeID: "me", Connected: true, Self: true},
		})
	})
	mux.HandleFunc("POST /api/downloads", func(w http.ResponseWriter, r *http.Request) {
		var req api.DownloadRequest
		json.NewDecoder(r.Body).Decode(&req)
		if req.Ref != "f.bin" {
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(api.Error{Error: "not in the swarm"})
			return
		}
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(api.Download{ID: "d1", State: api.StateQueued})
	})
	mux.HandleFunc("GET /api/downloads/{id}", func(w http.ResponseWriter, r *http.Request) {
		d := api.Download{ID: r.PathValue("id"), State: api.StateDownloading, Size: 10}
		if r.PathValue("id") == "flaky" && flaky.Add(1) == 1 {
			http.Error(w, `{"error":"hiccup"}`, http.StatusServiceUnavailable)
			return
		}
		if r.PathValue("id") == "bad" {
			d.State, d.Error = api.StateFailed, "disk full"
		} else if polls.Add(1) >= 3 {
			d.State, d.Bytes = api.StateComplete, 10
		}
		json.NewEncoder(w).Encode(d)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := api.NewClient(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	return c, &put
}

func TestClient_PutSwarmStartWait(t *testing.T) {
	c, put := fakeNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if lf, err := c.Put(ctx, "f.bin", strings.NewReader("0123456789"), 10); err != nil || string(*put) != "0123456789" || lf.Size != 10 {
		t.Fatalf("put: %+v, %v, node got %q", lf, err, *put)
	}
	if f, err := c.WaitSwarm(ctx, "f.bin", 1, time.Millisecond); err != nil || f.Name != "f.bin" {
		t.Fatalf("swarm: %+v, %v", f, err)
	}
	d, err := c.Start(ctx, "f.bin")
	if err != nil || d.ID != "d1" {
		t.Fatalf("start: %+v, %v", d, err)
	}
	if d, err = c.Wait(ctx, d.ID, time.Millisecond); err != nil || d.State != api.StateComplete || d.Bytes != 10 {
		t.Errorf("wait: %+v, %v", d, err)
	}
}

func TestClient_WaitPollsAgainAfterAFailedPoll(t *testing.T) {
	c, _ := fakeNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if d, err := c.Wait(ctx, "flaky", time.Millisecond); err != nil || d.State != api.StateComplete {
		t.Errorf("a download whose first poll failed: %+v, %v", d, err)
	}
}

func TestClient_ErrorsSayWhat(t *testing.T) {
	c, _ := fakeNode(t)
	ctx := context.Background()
	_, err := c.Start(ctx, "other")
	if !api.IsNotFound(err) || !strings.Contains(err.Error(), "not in the swarm") {
		t.Errorf("start of an unknown file: %v", err)
	}
	if _, err := c.Wait(ctx, "bad", time.Millisecond); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("a failed download: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := c.WaitSwarm(short, "never", 1, time.Millisecond); err == nil || !strings.Contains(err.Error(), "never") {
		t.Errorf("a file that never shows: %v", err)
	}
}

func TestClient_ConnectedCountsOtherNodesOnce(t *testing.T) {
	c, _ := fakeNode(t)
	n, err := c.Connected(t.Context())
	if err != nil || n != 2 {
		t.Errorf("Connected = %d, %v; want 2 (n1 by two addresses, n2; not the unconnected n3 nor itself)", n, err)
	}
}

func TestNewClient_TakesHostPortOrURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, base string }{
		{"127.0.0.1:9101", "http://127.0.0.1:9101"},
		{"http://peer-1:9090/", "http://peer-1:9090"},
		{"https://peer-1:9090", ""},
		{"http://peer-1:9090/api", ""},
		{"http://", ""},
	} {
		c, err := api.NewClient(tt.in)
		switch {
		case tt.base == "" && err == nil:
			t.Errorf("NewClient(%q) = %q, want an error", tt.in, c.Base)
		case tt.base != "" && (err != nil || c.Base != tt.base):
			t.Errorf("NewClient(%q) = %v, %v; want %q", tt.in, c, err, tt.base)
		}
	}
}
