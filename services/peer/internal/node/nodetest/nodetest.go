// Package nodetest starts peer nodes on loopback for tests, with the JSON
// API on an httptest server and quick refresh intervals.
package nodetest

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/netlab/netlab/services/peer/internal/config"
	"github.com/netlab/netlab/services/peer/internal/node"
)

// Node is a running test node.
type Node struct {
	*node.Node
	Dir string               // its share directory
	API string               // base URL of its JSON API (http://host:port)
	Reg *prometheus.Registry // its metrics
	// Stop shuts the node down and checks Serve's result; it also runs
	// when the test ends, and a second call does nothing.
	Stop func()
}

// Start starts a node sharing dir (a new temporary directory when "");
// env adds or overrides settings.
func Start(t testing.TB, dir string, env map[string]string) *Node {
	t.Helper()
	return StartLogged(t, dir, env, zaptest.NewLogger(t))
}

// StartLogged is Start with the node logging to log, for tests that check
// what it logs.
func StartLogged(t testing.TB, dir string, env map[string]string, log *zap.Logger) *Node {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	e := map[string]string{
		"LISTEN_ADDR": "127.0.0.1:0", "SHARE_DIR": dir, "PIECE_SIZE": "64KiB",
		"REFRESH_INTERVAL": "100ms", "SCAN_INTERVAL": "100ms", "IO_TIMEOUT": "5s",
		"SHUTDOWN_TIMEOUT": "2s",
	}
	maps.Copy(e, env)
	cfg, err := config.Load(e)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	reg := prometheus.NewRegistry()
	n, err := node.New(cfg, log, reg)
	if err != nil {
		t.Fatalf("node.New: %v", err)
	}
	mux := http.NewServeMux()
	n.Routes(mux.Handle)
	srv := httptest.NewServer(mux)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- n.Serve(ctx) }()
	tn := &Node{Node: n, Dir: dir, API: srv.URL, Reg: reg}
	var once sync.Once
	tn.Stop = func() {
		once.Do(func() {
			cancel()
			if err := <-served; err != nil {
				t.Errorf("Serve: %v", err)
			}
			srv.Close()
		})
	}
	t.Cleanup(tn.Stop)
	return tn
}
