package responder_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/netlab/netlab/services/platform/promset/promsettest"
	"github.com/netlab/netlab/services/udp-responder/internal/responder"
)

// A datagram the server has read is answered even when shutdown starts at
// that moment: stopping must not close a socket under a worker that still
// has replies to send. Shutdown starts while a client floods the server,
// many times over, with both I/O paths; every datagram read must end as a
// reply or a counted policy drop, never a write error.
func TestServer_AnswersEveryDatagramReadWhenShutdownStarts(t *testing.T) {
	for _, batch := range []int{1, 32} {
		t.Run(map[int]string{1: "single", 32: "batched"}[batch], func(t *testing.T) {
			for round := range 40 {
				cfg := testConfig()
				cfg.BatchSize = batch
				reg := prometheus.NewRegistry()
				srv, err := responder.New(cfg, zap.NewNop(), reg, func() {})
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				served := make(chan error, 1)
				go func() { served <- srv.Serve(ctx) }()

				c := (&running{srv: srv}).client(t, "127.0.0.1")
				p := newProbe(t, uint64(round), 64)
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						_, _ = c.Write(p) // refused once the server is gone
					}
				})
				wg.Go(func() { // drain the replies so the client's buffer never fills
					buf := make([]byte, 2048)
					for {
						select {
						case <-stop:
							return
						default:
						}
						_ = c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
						_, _ = c.Read(buf)
					}
				})
				time.Sleep(time.Duration(1+round%5) * time.Millisecond) // a flood in progress, not readiness
				cancel()
				select {
				case err := <-served:
					if err != nil {
						t.Fatalf("Serve: %v", err)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("Serve did not return after cancel")
				}
				close(stop)
				wg.Wait()

				received := promsettest.Value(t, reg, "netlab_udp_responder_datagrams_received_total")
				sent := promsettest.Value(t, reg, "netlab_udp_responder_replies_sent_total")
				dropped := promsettest.Value(t, reg, "netlab_udp_responder_dropped_total")
				writeErrors := (&running{reg: reg}).dropped(t, "write_error")
				if writeErrors != 0 || received != sent+dropped {
					t.Fatalf("round %d: read %v datagrams, sent %v replies, dropped %v (%v of them write errors): a reply to a datagram read during shutdown was lost",
						round, received, sent, dropped, writeErrors)
				}
			}
		})
	}
}
