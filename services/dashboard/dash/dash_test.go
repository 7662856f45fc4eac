package dash_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/netlab/netlab/services/dashboard/dash"
	"github.com/netlab/netlab/services/dashboard/dash/dashtest"
	"github.com/netlab/netlab/services/platform/poll"
)

// fakePeer is a peer node's admin listener that counts downloads asked.
func fakePeer(t *testing.T, asked *atomic.Value) *httptest.Server {
	t.Helper()
	downloads := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method+" "+r.URL.Path != "POST /api/downloads" {
			http.NotFound(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		asked.Store(string(b))
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"state":"queued"}`)
	})
	return dashtest.Serve(t, &dashtest.Admin{Service: "peer", Version: "v9", Next: downloads})
}

func options(targets string) dash.Options {
	return dash.Options{Listen: "127.0.0.1:0", Targets: targets, Interval: 100 * time.Millisecond, Timeout: 80 * time.Millisecond,
		History: 10 * time.Second, MaxSeries: 1000, MaxReplicas: 8, MaxBytes: 1 << 20, MaxClients: 4, MaxFiles: 8,
		Expiry: time.Minute, ShutdownTimeout: 5 * time.Second}
}

type overview struct {
	Services []struct {
		Name     string
		Error    string
		Replicas []struct {
			Key, State, Version string
		}
	}
}

func TestDashboard_PollsServesAndFetches(t *testing.T) {
	var asked atomic.Value
	peer := fakePeer(t, &asked)
	d, err := dash.New(options("peer="+peer.Listener.Addr().String()+",gone=127.0.0.1:1"), zap.NewNop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx) }()
	base := "http://" + d.Addr().String()

	var o overview
	poll.Until(t, "the peer replica up", 5*time.Second, func() bool {
		resp, err := http.Get(base + "/api/view?page=overview")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		o = overview{}
		return json.NewDecoder(resp.Body).Decode(&o) == nil && len(o.Services) == 2 &&
			len(o.Services[0].Replicas) == 1 && o.Services[0].Replicas[0].State == "up" &&
			len(o.Services[1].Replicas) == 1 && o.Services[1].Replicas[0].State == "down"
	})
	if o.Services[0].Replicas[0].Version != "v9" {
		t.Errorf("version %q, want v9", o.Services[0].Replicas[0].Version)
	}

	key := o.Services[0].Replicas[0].Key
	req, _ := http.NewRequest("POST", base+"/api/fetch", strings.NewReader(`{"node":"`+key+`","ref":"file.txt"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || asked.Load() != `{"ref":"file.txt"}` {
		t.Errorf("fetch: %d, the node was asked %v", resp.StatusCode, asked.Load())
	}
	req, _ = http.NewRequest("POST", base+"/api/fetch", strings.NewReader(`{"node":"gone/127.0.0.1:1","ref":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("fetch on a down replica: %v %v, want 404", resp.StatusCode, err)
	}

	// An open stream does not hold up the shutdown.
	stream, err := http.Get(base + "/events?page=overview")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if line, _ := bufio.NewReader(stream.Body).ReadString('\n'); !strings.HasPrefix(line, "retry:") {
		t.Errorf("stream starts with %q", line)
	}
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil || time.Since(start) > 2*time.Second {
			t.Errorf("Serve returned %v after %v", err, time.Since(start))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return with a stream open")
	}
}

func TestOptions_Validate(t *testing.T) {
	good := options("a=h:1")
	if err := good.Validate(func(s string) string { return s }); err != nil {
		t.Fatalf("good options: %v", err)
	}
	if b := good.MemoryBound(); b != 1000*100*4 {
		t.Errorf("memory bound %d, want 1000 series × 100 points × 4 bytes", b)
	}
	tests := []struct {
		name   string
		change func(*dash.Options)
		want   string
	}{
		{"targets", func(o *dash.Options) { o.Targets = "x" }, "TARGETS"},
		{"interval", func(o *dash.Options) { o.Interval = time.Millisecond }, "POLL_INTERVAL"},
		{"timeout over interval", func(o *dash.Options) { o.Timeout = time.Second }, "POLL_TIMEOUT"},
		{"history too short", func(o *dash.Options) { o.History = 500 * time.Millisecond }, "HISTORY"},
		{"series", func(o *dash.Options) { o.MaxSeries = 1 }, "MAX_SERIES"},
		{"memory", func(o *dash.Options) {
			o.MaxSeries, o.Interval, o.Timeout, o.History = 1_000_000, time.Second, time.Second, 24*time.Hour
		}, "over 1 GiB"},
		{"replicas", func(o *dash.Options) { o.MaxReplicas = 0 }, "MAX_REPLICAS"},
		{"bytes", func(o *dash.Options) { o.MaxBytes = 1 }, "MAX_SCRAPE_BYTES"},
		{"clients", func(o *dash.Options) { o.MaxClients = 5000 }, "MAX_CLIENTS"},
		{"files", func(o *dash.Options) { o.MaxFiles = 0 }, "MAX_FILES"},
		{"expiry", func(o *dash.Options) { o.Expiry = time.Millisecond }, "REPLICA_EXPIRY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good
			tt.change(&o)
			err := o.Validate(func(s string) string { return "--" + strings.ToLower(s) })
			if err == nil || !strings.Contains(err.Error(), strings.ToLower(tt.want)) && !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}
