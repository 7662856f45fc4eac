// Package lifecycle runs a service's servers and shuts them down in order on
// SIGINT or SIGTERM: readiness fails at once, servers drain within the
// shutdown timeout, and a second signal forces an immediate exit.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// Server is anything that serves until its context is canceled and then
// drains, returning once it has stopped. Serve returns early with an error
// when it cannot go on.
type Server interface {
	Serve(ctx context.Context) error
}

// Admin is the part of the admin listener Run drives.
type Admin interface {
	SetReady(bool)
	Serve() error
	Shutdown(ctx context.Context) error
}

// SignalContext returns a context that is canceled on the first SIGINT or
// SIGTERM. On a second signal it calls force, which should exit the process
// (main owns os.Exit). stop releases the signal handler.
func SignalContext(parent context.Context, log *zap.Logger, force func()) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			log.Info("shutdown started", zap.String("signal", sig.String()))
			cancel()
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			log.Warn("second signal: forcing exit", zap.String("signal", sig.String()))
			force()
		case <-done:
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(sigs)
			close(done)
			cancel()
		})
	}
}

// adminGrace bounds how long in-flight admin requests (a scrape, a
// healthcheck) may take once everything else has stopped.
const adminGrace = 2 * time.Second

// Run marks adm ready and serves it and every server until ctx is canceled
// or one of them fails. It then shuts down in order: /readyz fails at once,
// the servers drain (each bounded by its own shutdown timeout, which must not
// exceed drainTimeout), and the admin listener closes last so /healthz and
// /metrics answer throughout the drain. It returns the first failure.
func Run(ctx context.Context, log *zap.Logger, adm Admin, drainTimeout time.Duration, servers ...Server) error {
	// The servers get their own context, canceled only after readiness has
	// failed, so no server can stop while /readyz still says ready.
	serveCtx, stopServers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServers()

	// Ready before any Serve starts: the listeners are already bound, so a
	// server may answer its first request (and a probe may ask /readyz)
	// before a goroutine started after it would have set ready.
	adm.SetReady(true)
	results := make(chan error, len(servers))
	for _, s := range servers {
		go func() { results <- s.Serve(serveCtx) }()
	}
	adminDone := make(chan error, 1)
	go func() { adminDone <- adm.Serve() }()
	log.Info("ready")

	var failure error
	running := len(servers)
	select {
	case <-ctx.Done():
	case err := <-results:
		running--
		failure = err
		if failure == nil {
			failure = errors.New("server stopped unexpectedly")
		}
	case err := <-adminDone:
		failure = err
		if failure == nil {
			failure = errors.New("admin server stopped unexpectedly")
		}
		adminDone = nil
	}
	adm.SetReady(false)
	stopServers()

	// Servers enforce their own drain deadline; this bound only guards
	// against one that never returns.
	hardStop := time.NewTimer(drainTimeout + 5*time.Second)
	defer hardStop.Stop()
wait:
	for ; running > 0; running-- {
		select {
		case err := <-results:
			if err != nil && failure == nil {
				failure = err
			}
		case <-hardStop.C:
			failure = errors.Join(failure, fmt.Errorf("shutdown: %d server(s) still running after %s", running, drainTimeout))
			break wait
		}
	}

	shutdownCtx, done := context.WithTimeout(context.Background(), adminGrace)
	defer done()
	if err := adm.Shutdown(shutdownCtx); err != nil && failure == nil {
		failure = fmt.Errorf("admin shutdown: %w", err)
	}
	if adminDone != nil {
		if err := <-adminDone; err != nil && failure == nil {
			failure = err
		}
	}
	return failure
}

// Sleep waits for d, or returns ctx.Err() as soon as ctx ends first: a wait
// that a shutdown or a client that left cuts short.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
