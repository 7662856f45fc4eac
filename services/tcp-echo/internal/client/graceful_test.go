package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/poll"
	"github.com/netlab/netlab/services/platform/promset/promsettest"
	"github.com/netlab/netlab/services/tcp-echo/internal/client"
	"github.com/netlab/netlab/services/tcp-echo/internal/echo/echotest"
)

// TestClient_LoadClosesGracefully runs Load against the real server and
// checks that every connection ended as a client close: the client
// half-closes, drains the echo and closes with nothing unread, so the
// server never sees a reset or a broken pipe.
func TestClient_LoadClosesGracefully(t *testing.T) {
	tests := []struct {
		name      string
		conns     int
		size      int
		interrupt bool    // Ctrl-C instead of the end of --duration
		count     int64   // round trips in all; 0: until the duration
		rate      float64 // open loop
	}{
		{name: "small messages", conns: 16, size: 64},
		{name: "open loop", conns: 4, size: 64, rate: 2000},
		{name: "ended by the count", conns: 4, size: 64, count: 500},
		{name: "messages written by the writer goroutine", conns: 4, size: 256 << 10},
		{name: "interrupted", conns: 8, size: 4 << 10, interrupt: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := echotest.Start(t, echotest.Config())
			addr, reg := srv.Server.Addr().String(), srv.Registry
			ctx := t.Context()
			duration := 300 * time.Millisecond
			if tt.interrupt {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, duration)
				defer cancel()
				duration = time.Hour
			}
			c := &client.Client{Addr: addr}
			if tt.count > 0 {
				duration = 0
			}
			res, _ := c.Load(ctx, client.LoadOptions{Connections: tt.conns, Size: tt.size, Duration: duration, Count: tt.count, Rate: tt.rate})
			if res.Ops == 0 || res.Failed != 0 || res.Interrupted != tt.interrupt {
				t.Fatalf("load run %+v, want round trips, no failure, interrupted %v", res, tt.interrupt)
			}
			poll.Until(t, "the server to close every connection", 5*time.Second, func() bool {
				return promsettest.Value(t, reg, "netlab_tcp_echo_connections_active") == 0
			})
			closed := map[string]float64{}
			for _, reason := range []string{"client_close", "read_error", "write_error"} {
				closed[reason] = promsettest.Value(t, reg, "netlab_tcp_echo_connections_closed_total", reason)
			}
			if closed["read_error"] != 0 || closed["write_error"] != 0 || closed["client_close"] != float64(tt.conns) {
				t.Errorf("server closes by reason %v, want %d client_close and no read_error or write_error", closed, tt.conns)
			}
		})
	}
}
