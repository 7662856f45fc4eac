package lifecycletest_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/netlab/netlab/services/platform/lifecycle/lifecycletest"
	"github.com/netlab/netlab/services/platform/tbtest"
)

// server serves until canceled, then returns err after delay.
type server struct {
	delay time.Duration
	err   error
}

func (s server) Serve(ctx context.Context) error {
	<-ctx.Done()
	time.Sleep(s.delay) // a drain that takes this long
	return s.err
}

func TestServing_StopAndWait(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	for _, tt := range []struct {
		name    string
		srv     server
		wait    time.Duration
		wantErr string
	}{
		{"returns nil", server{}, 5 * time.Second, ""},
		{"returns an error", server{err: boom}, 5 * time.Second, "serve: boom"},
		{"does not return in time", server{delay: time.Second}, 10 * time.Millisecond, "serve did not return within 10ms"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := lifecycletest.Serve(tbtest.New(t), tt.srv, 5*time.Second)
			select {
			case <-s.Done():
				t.Fatal("Serve returned before Stop")
			default:
			}
			s.Stop()
			err := s.Wait(tt.wait)
			if got := errString(err); got != tt.wantErr {
				t.Errorf("Wait = %q, want %q", got, tt.wantErr)
			}
		})
	}
}

// The end of the test stops the server and reports what Serve returned.
func TestServe_CleanupStopsTheServer(t *testing.T) {
	t.Parallel()
	tb := tbtest.New(t)
	s := lifecycletest.Serve(tb, server{err: errors.New("boom")}, 5*time.Second)
	tb.RunCleanups()
	select {
	case <-s.Done():
	default:
		t.Fatal("Serve still running after the cleanup")
	}
	if want := []string{"at the end of the test: serve: boom"}; !slices.Equal(tb.Messages(), want) {
		t.Errorf("cleanup reported %q, want %q", tb.Messages(), want)
	}
}

// newCounting is a server package's New: it registers a metric and
// refuses a negative delay.
func newCounting(delay time.Duration, log *zap.Logger, reg prometheus.Registerer) (server, error) {
	if delay < 0 || log == nil {
		return server{}, errors.New("bad config")
	}
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "built_total", Help: "Built."}))
	return server{delay: delay}, nil
}

func TestStart_BuildsAndServes(t *testing.T) {
	t.Parallel()
	s := lifecycletest.Start(t, newCounting, time.Millisecond, 5*time.Second)
	if s.Server.delay != time.Millisecond {
		t.Errorf("Server = %+v, want the one built from the config", s.Server)
	}
	if families, err := s.Registry.Gather(); err != nil || len(families) != 1 || families[0].GetName() != "built_total" {
		t.Errorf("Registry holds %v (%v), want what New registered", families, err)
	}
	s.Stop()
	if err := s.Wait(5 * time.Second); err != nil {
		t.Errorf("Wait = %v", err)
	}
	if _, _, err := lifecycletest.Build(newCounting, -time.Second); err == nil {
		t.Error("Build with a config New refuses = nil error")
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
