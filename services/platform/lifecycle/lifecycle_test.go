package lifecycle_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/platform/admin"
	"github.com/netlab/netlab/services/platform/lifecycle"
	"github.com/netlab/netlab/services/platform/poll"
)

// waitLimit bounds every wait so that a bug fails the test instead of
// hanging it; nothing here waits this long when the code works.
const waitLimit = 10 * time.Second

// recorder keeps the order in which things happened.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(event string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, event)
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// fakeAdmin records SetReady calls; Serve blocks until Shutdown (or returns
// what is sent on fail).
type fakeAdmin struct {
	rec         *recorder
	readyCalls  chan bool
	ready       atomic.Bool
	fail        chan error
	stop        chan struct{}
	stopOnce    sync.Once
	shutdownErr error
}

func newFakeAdmin(rec *recorder) *fakeAdmin {
	return &fakeAdmin{
		rec:        rec,
		readyCalls: make(chan bool, 16),
		fail:       make(chan error, 1),
		stop:       make(chan struct{}),
	}
}

func (a *fakeAdmin) SetReady(ready bool) {
	a.ready.Store(ready)
	a.rec.add("ready=" + strconv.FormatBool(ready))
	a.readyCalls <- ready
}

func (a *fakeAdmin) Serve() error {
	select {
	case <-a.stop:
		return nil
	case err := <-a.fail:
		return err
	}
}

func (a *fakeAdmin) Shutdown(context.Context) error {
	a.rec.add("admin shutdown")
	a.release()
	return a.shutdownErr
}

// release lets Serve return; tests whose Run never shuts the admin down
// call it in t.Cleanup.
func (a *fakeAdmin) release() { a.stopOnce.Do(func() { close(a.stop) }) }

// serverFunc adapts a function to lifecycle.Server.
type serverFunc func(ctx context.Context) error

func (f serverFunc) Serve(ctx context.Context) error { return f(ctx) }

// drainingServer serves until ctx is canceled, reports that on canceled,
// then keeps draining until release is closed and returns ret.
func drainingServer(rec *recorder, name string, canceled, release chan struct{}, ret error) lifecycle.Server {
	return serverFunc(func(ctx context.Context) error {
		<-ctx.Done()
		close(canceled)
		<-release
		rec.add(name + " drained")
		return ret
	})
}

func startRun(ctx context.Context, adm lifecycle.Admin, drain time.Duration, servers ...lifecycle.Server) <-chan error {
	done := make(chan error, 1)
	go func() { done <- lifecycle.Run(ctx, zap.NewNop(), adm, drain, servers...) }()
	return done
}

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func closed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	receive(t, ch, what)
}

func expectReady(t *testing.T, adm *fakeAdmin, want bool) {
	t.Helper()
	if got := receive(t, adm.readyCalls, "SetReady"); got != want {
		t.Fatalf("SetReady(%v), want SetReady(%v)", got, want)
	}
}

func notDone(t *testing.T, done <-chan error, why string) {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) %s", err, why)
	default:
	}
}

func TestRun_NotReadyWhileServersDrain(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	adm := newFakeAdmin(rec)
	canceledA, releaseA := make(chan struct{}), make(chan struct{})
	canceledB, releaseB := make(chan struct{}), make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	done := startRun(ctx, adm, time.Minute,
		drainingServer(rec, "a", canceledA, releaseA, nil),
		drainingServer(rec, "b", canceledB, releaseB, nil),
	)
	expectReady(t, adm, true)

	cancel()
	// Readiness fails while both servers are still draining.
	expectReady(t, adm, false)
	closed(t, canceledA, "server a to see the cancel")
	closed(t, canceledB, "server b to see the cancel")
	if adm.ready.Load() {
		t.Error("admin is ready during the drain")
	}
	if got, want := rec.list(), []string{"ready=true", "ready=false"}; !slices.Equal(got, want) {
		t.Errorf("events during drain = %v, want %v", got, want)
	}
	notDone(t, done, "while both servers were draining")

	close(releaseA)
	notDone(t, done, "while server b was draining")
	close(releaseB)

	if err := receive(t, done, "Run to return"); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	events := rec.list()
	if len(events) != 5 || events[4] != "admin shutdown" {
		t.Errorf("events = %v, want the admin shut down last", events)
	}
	if i := slices.Index(events, "ready=false"); i != 1 {
		t.Errorf("events = %v, want ready=false right after ready=true", events)
	}
}

func TestRun_StopsEverythingOnFailure(t *testing.T) {
	t.Parallel()
	errBoom := errors.New("boom")
	errAdmin := errors.New("admin broke")
	errOther := errors.New("other failed while draining")

	tests := []struct {
		name string
		// failure is returned by the failing server (or sent to the admin's
		// Serve when adminFails); nil means the server returns nil early.
		failure    error
		adminFails bool
		otherErr   error // what the other server returns after the cancel
		wantIs     error
		wantText   string
	}{
		{name: "server error", failure: errBoom, wantIs: errBoom},
		{name: "server stops without error", wantText: "server stopped unexpectedly"},
		{name: "first failure wins", failure: errBoom, otherErr: errOther, wantIs: errBoom},
		{name: "admin serve fails", failure: errAdmin, adminFails: true, wantIs: errAdmin},
		{name: "admin serve returns nil", adminFails: true, wantText: "admin server stopped unexpectedly"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			adm := newFakeAdmin(rec)
			failNow := make(chan struct{})
			failing := serverFunc(func(ctx context.Context) error {
				select {
				case <-failNow:
					rec.add("failing stopped")
					return tt.failure
				case <-ctx.Done():
					return nil
				}
			})
			other := serverFunc(func(ctx context.Context) error {
				<-ctx.Done()
				rec.add("other canceled")
				return tt.otherErr
			})
			servers := []lifecycle.Server{failing, other}
			if tt.adminFails {
				servers = []lifecycle.Server{other}
			}

			// t.Context() is never canceled while Run runs: only the
			// failure can stop it.
			done := startRun(t.Context(), adm, time.Minute, servers...)
			expectReady(t, adm, true)
			if tt.adminFails {
				adm.fail <- tt.failure
			} else {
				close(failNow)
			}
			expectReady(t, adm, false)

			err := receive(t, done, "Run to return")
			if err == nil {
				t.Fatal("Run = nil, want the failure")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Run = %v, want it to wrap %v", err, tt.wantIs)
			}
			if tt.otherErr != nil && errors.Is(err, tt.otherErr) {
				t.Errorf("Run = %v, want only the first failure", err)
			}
			if tt.wantText != "" && !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Run = %q, want it to contain %q", err, tt.wantText)
			}
			events := rec.list()
			if !slices.Contains(events, "other canceled") {
				t.Errorf("events = %v: the other server was not canceled", events)
			}
			if !tt.adminFails {
				if got := slices.Index(events, "failing stopped"); got < 0 || got > slices.Index(events, "ready=false") {
					t.Errorf("events = %v, want the failure before ready=false", events)
				}
			}
			if events[len(events)-1] != "admin shutdown" {
				t.Errorf("events = %v, want the admin shut down last", events)
			}
		})
	}
}

func TestRun_ReturnsDrainError(t *testing.T) {
	t.Parallel()
	errDrain := errors.New("drain: 3 connections dropped")
	rec := &recorder{}
	adm := newFakeAdmin(rec)
	canceled, release := make(chan struct{}), make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	done := startRun(ctx, adm, time.Minute, drainingServer(rec, "srv", canceled, release, errDrain))
	expectReady(t, adm, true)
	cancel()
	// The server sees the parent's cancel directly, possibly before Run
	// calls SetReady(false): release it only once readiness is off, so the
	// order of events below is fixed.
	expectReady(t, adm, false)
	close(release)

	err := receive(t, done, "Run to return")
	if !errors.Is(err, errDrain) {
		t.Errorf("Run = %v, want %v", err, errDrain)
	}
	want := []string{"ready=true", "ready=false", "srv drained", "admin shutdown"}
	if got := rec.list(); !slices.Equal(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
}

func TestRun_AdminShutdownError(t *testing.T) {
	t.Parallel()
	errShutdown := errors.New("in-flight scrape")
	adm := newFakeAdmin(&recorder{})
	adm.shutdownErr = errShutdown
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	done := startRun(ctx, adm, time.Minute, serverFunc(func(ctx context.Context) error {
		<-ctx.Done()
		return nil
	}))
	expectReady(t, adm, true)
	cancel()

	err := receive(t, done, "Run to return")
	if !errors.Is(err, errShutdown) || !strings.HasPrefix(err.Error(), "admin shutdown: ") {
		t.Errorf("Run = %v, want %q wrapping %v", err, "admin shutdown: ...", errShutdown)
	}
}

func TestRun_NoServers(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	adm := newFakeAdmin(rec)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	done := startRun(ctx, adm, time.Minute)
	expectReady(t, adm, true)
	cancel()
	if err := receive(t, done, "Run to return"); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	want := []string{"ready=true", "ready=false", "admin shutdown"}
	if got := rec.list(); !slices.Equal(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
}

func TestRun_HungServerTimesOut(t *testing.T) {
	if testing.Short() {
		t.Skip("waits drainTimeout + 5s")
	}
	t.Parallel()
	const drain = 50 * time.Millisecond
	adm := newFakeAdmin(&recorder{})
	t.Cleanup(adm.release)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	hung := serverFunc(func(context.Context) error {
		<-release // ignores its context
		return nil
	})
	polite := serverFunc(func(ctx context.Context) error {
		<-ctx.Done()
		return nil
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	done := startRun(ctx, adm, drain, hung, polite)
	expectReady(t, adm, true)
	start := time.Now()
	cancel()
	expectReady(t, adm, false)

	select {
	case err := <-done:
		elapsed := time.Since(start)
		if err == nil || !strings.Contains(err.Error(), "1 server(s) still running after 50ms") {
			t.Errorf("Run = %v, want the hung server reported", err)
		}
		if elapsed < drain+5*time.Second {
			t.Errorf("Run gave up after %v, want at least %v", elapsed, drain+5*time.Second)
		}
	case <-time.After(drain + 5*time.Second + waitLimit):
		t.Fatal("Run did not give up on a server that never returns")
	}
}

func TestRun_WithAdminServer(t *testing.T) {
	t.Parallel()
	adm, err := admin.New("127.0.0.1:0", admin.NewRegistry("svc"), zap.NewNop())
	if err != nil {
		t.Fatalf("admin.New: %v", err)
	}
	base := "http://" + adm.Addr().String()
	tr := &http.Transport{DisableKeepAlives: true}
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	status := func(path string) int {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}

	rec := &recorder{}
	canceled, release := make(chan struct{}), make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- lifecycle.Run(ctx, zap.NewNop(), adm, time.Minute, drainingServer(rec, "srv", canceled, release, nil))
	}()

	poll.Until(t, "/readyz to answer 200", waitLimit, func() bool { return status("/readyz") == http.StatusOK })

	cancel()
	closed(t, canceled, "the server to see the cancel")
	// While the server drains: not ready, but alive and scrapeable.
	poll.Until(t, "/readyz to answer 503", waitLimit, func() bool { return status("/readyz") == http.StatusServiceUnavailable })
	for _, path := range []string{"/healthz", "/metrics"} {
		if got := status(path); got != http.StatusOK {
			t.Errorf("%s during the drain = %d, want 200", path, got)
		}
	}
	close(release)

	if err := receive(t, done, "Run to return"); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	if conn, err := net.Dial("tcp", adm.Addr().String()); err == nil {
		_ = conn.Close()
		t.Error("admin listener still open after Run returned")
	}
}

// The signal tests are not parallel: signals go to the whole process. Each
// sends a signal only while SignalContext (or a guard) has it registered
// with signal.Notify, so the default action never kills the test binary.

func TestSignalContext_CancelsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			forced := make(chan struct{}, 1)
			ctx, stop := lifecycle.SignalContext(t.Context(), zap.NewNop(), func() { forced <- struct{}{} })
			t.Cleanup(stop)
			if err := ctx.Err(); err != nil {
				t.Fatalf("ctx.Err() = %v before any signal", err)
			}

			if err := syscall.Kill(os.Getpid(), sig); err != nil {
				t.Fatal(err)
			}
			closed(t, ctx.Done(), "ctx to be canceled by "+sig.String())
			if !errors.Is(ctx.Err(), context.Canceled) {
				t.Errorf("ctx.Err() = %v, want context.Canceled", ctx.Err())
			}
			select {
			case <-forced:
				t.Error("force called after one signal")
			default:
			}
		})
	}
}

func TestSignalContext_SecondSignalForces(t *testing.T) {
	forced := make(chan struct{}, 1)
	ctx, stop := lifecycle.SignalContext(t.Context(), zap.NewNop(), func() { forced <- struct{}{} })
	t.Cleanup(stop)

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	closed(t, ctx.Done(), "ctx to be canceled by the first SIGTERM")
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	receive(t, forced, "force to be called by the second SIGTERM")
}

func TestSignalContext_StopReleases(t *testing.T) {
	forced := make(chan struct{}, 1)
	ctx, stop := lifecycle.SignalContext(t.Context(), zap.NewNop(), func() { forced <- struct{}{} })
	if err := ctx.Err(); err != nil {
		t.Fatalf("ctx.Err() = %v before stop", err)
	}
	stop()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("ctx.Err() = %v after stop, want context.Canceled", ctx.Err())
	}

	// After stop, SignalContext no longer takes SIGTERM: a guard keeps the
	// process alive and sees it instead, and force is never called.
	guard := make(chan os.Signal, 1)
	signal.Notify(guard, syscall.SIGTERM)
	t.Cleanup(func() { signal.Stop(guard) })
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	receive(t, guard, "the guard to see SIGTERM")
	select {
	case <-forced:
		t.Error("force called after stop")
	default:
	}
}

func TestSignalContext_ParentCancel(t *testing.T) {
	parent, cancelParent := context.WithCancel(t.Context())
	forced := make(chan struct{}, 1)
	ctx, stop := lifecycle.SignalContext(parent, zap.NewNop(), func() { forced <- struct{}{} })
	t.Cleanup(stop)

	cancelParent()
	closed(t, ctx.Done(), "ctx to follow its parent")
	select {
	case <-forced:
		t.Error("force called without a signal")
	default:
	}
}

// A server that stops the moment its context ends must still find /readyz
// already failing: readiness goes first, always.
func TestRun_ReadinessFailsBeforeServersSeeCancel(t *testing.T) {
	for range 200 {
		rec := &recorder{}
		adm := newFakeAdmin(rec)
		sawReady := make(chan bool, 1)
		fast := serverFunc(func(ctx context.Context) error {
			<-ctx.Done()
			sawReady <- adm.ready.Load()
			return nil
		})
		ctx, cancel := context.WithCancel(t.Context())
		done := startRun(ctx, adm, time.Second, fast)
		receive(t, adm.readyCalls, "ready=true")
		cancel()
		if receive(t, sawReady, "server stop") {
			t.Fatal("a server saw its context canceled while the service was still ready")
		}
		if err := receive(t, done, "Run to return"); err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
}

func TestSignalContext_StopTwiceIsSafe(t *testing.T) {
	_, stop := lifecycle.SignalContext(t.Context(), zap.NewNop(), func() {})
	stop()
	stop()
}

func TestSleep(t *testing.T) {
	t.Parallel()
	if err := lifecycle.Sleep(t.Context(), time.Millisecond); err != nil {
		t.Errorf("Sleep(1ms) = %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	if err := lifecycle.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep with a canceled context = %v, want context.Canceled", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("Sleep with a canceled context waited %v", waited)
	}
}
