package dashboard_test

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/dashboard"
	"github.com/netlab/netlab/services/dashboard/dash/dashtest"
	"github.com/netlab/netlab/services/platform/poll"
)

// syncBuffer is a buffer the command writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestMain_ServesThePagesOfTheTargets(t *testing.T) {
	svc := dashtest.Serve(t, &dashtest.Admin{Service: "tcp-echo", Version: "v1"})
	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- dashboard.Main(ctx, []string{"--listen", "127.0.0.1:0", "--targets", "tcp-echo=" + svc.Listener.Addr().String(),
			"--interval", "100ms", "--timeout", "80ms", "--history", "10s"}, &stdout, &stderr, nil)
	}()
	addr := regexp.MustCompile(`http://(\S+)/`)
	var url string
	poll.Until(t, "the command to say where it serves", 5*time.Second, func() bool {
		m := addr.FindStringSubmatch(stdout.String())
		if m != nil {
			url = "http://" + m[1]
		}
		return m != nil
	})
	poll.Until(t, "tcp-echo up on the overview", 5*time.Second, func() bool {
		resp, err := http.Get(url + "/api/view?page=overview")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return strings.Contains(b.String(), `"state":"up"`) && strings.Contains(b.String(), `"version":"v1"`)
	})
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
}

func TestMain_BadFlagsNameTheFlag(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--targets", "nope"}, "--targets"},
		{[]string{"--interval", "1ms"}, "--interval"},
		{[]string{"--max-scrape-bytes", "lots"}, "--max-scrape-bytes"},
		{[]string{"--max-series", "1"}, "--max-series"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		var stdout, stderr bytes.Buffer
		if code := dashboard.Main(t.Context(), tt.args, &stdout, &stderr, nil); code != 2 || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%v: exit %d, %q; want 2 naming %s", tt.args, code, stderr.String(), tt.want)
		}
	}
}
