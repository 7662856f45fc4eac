package healthcheck_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/platform/addrtest"
	"github.com/netlab/netlab/services/platform/admin"
	"github.com/netlab/netlab/services/platform/healthcheck"
	"github.com/netlab/netlab/services/platform/tabletest"
)

func TestURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr    string
		want    string
		wantErr string
	}{
		{addr: ":9090", want: "http://127.0.0.1:9090/readyz"},
		{addr: "0.0.0.0:9090", want: "http://127.0.0.1:9090/readyz"},
		{addr: "[::]:9090", want: "http://127.0.0.1:9090/readyz"},
		{addr: "10.0.0.1:9090", want: "http://10.0.0.1:9090/readyz"},
		{addr: "127.0.0.1:9090", want: "http://127.0.0.1:9090/readyz"},
		{addr: "[::1]:9090", want: "http://[::1]:9090/readyz"},
		{addr: "localhost:9090", want: "http://localhost:9090/readyz"},
		// The error says which address was bad.
		{addr: "9090", wantErr: "admin address"},
		{addr: "", wantErr: "admin address"},
		{addr: "::1:9090", wantErr: "admin address"},
		{addr: "[::1", wantErr: "admin address"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			got, err := healthcheck.URL(tt.addr)
			tabletest.Result(t, fmt.Sprintf("URL(%q)", tt.addr), got, err, tt.want, tt.wantErr)
		})
	}
}

// startAdmin runs a real admin server on a free loopback port with the given
// readiness and returns its address.
func startAdmin(t *testing.T, ready bool) string {
	t.Helper()
	srv, err := admin.New("127.0.0.1:0", admin.NewRegistry("svc"), zap.NewNop())
	if err != nil {
		t.Fatalf("admin.New: %v", err)
	}
	srv.SetReady(ready)
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-served
	})
	return srv.Addr().String()
}

func TestCheck(t *testing.T) {
	t.Parallel()
	readyAddr := startAdmin(t, true)
	_, readyPort, _ := net.SplitHostPort(readyAddr)
	notReadyAddr := startAdmin(t, false)
	absentAddr := addrtest.ClosedTCP(t)

	tests := []struct {
		name    string
		addr    string
		wantErr string // "" means healthy
	}{
		{"ready", readyAddr, ""},
		{"ready through wildcard address", ":" + readyPort, ""},
		{"ready through unspecified ipv4", "0.0.0.0:" + readyPort, ""},
		{"not ready", notReadyAddr, "503 Service Unavailable: not ready"},
		{"absent", absentAddr, "readyz: "},
		{"bad address", "nonsense", "admin address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := healthcheck.Check(t.Context(), tt.addr, healthcheck.DefaultTimeout)
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("Check(%q) = %v, want nil", tt.addr, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check(%q) = nil, want an error", tt.addr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Check(%q) = %q, want it to contain %q", tt.addr, err, tt.wantErr)
			}
		})
	}
}

func TestCheck_TimesOut(t *testing.T) {
	t.Parallel()
	// A server that accepts the request and never answers until the client
	// gives up.
	hung := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(hung.Close)
	addr := strings.TrimPrefix(hung.URL, "http://")

	const timeout = 100 * time.Millisecond
	start := time.Now()
	err := healthcheck.Check(t.Context(), addr, timeout)
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("Check against a hung server = nil, want an error")
	}
	if !strings.Contains(err.Error(), "context deadline exceeded") {
		t.Errorf("Check = %q, want a deadline error", err)
	}
	if elapsed > 10*time.Second {
		t.Errorf("Check took %v with a timeout of %v", elapsed, timeout)
	}
}

func TestCheck_CanceledContext(t *testing.T) {
	t.Parallel()
	addr := startAdmin(t, true)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := healthcheck.Check(ctx, addr, healthcheck.DefaultTimeout); err == nil {
		t.Error("Check with a canceled context = nil, want an error")
	}
}

func TestMain_ExitCodeAndOutput(t *testing.T) {
	t.Parallel()
	readyAddr := startAdmin(t, true)
	notReadyAddr := startAdmin(t, false)
	absentAddr := addrtest.ClosedTCP(t)

	tests := []struct {
		name       string
		addr       string
		wantCode   int
		wantPrefix string
		wantText   string
	}{
		{"ready", readyAddr, 0, "healthy\n", ""},
		{"not ready", notReadyAddr, 1, "unhealthy: ", "503"},
		{"absent", absentAddr, 1, "unhealthy: ", "readyz"},
		{"bad address", "nonsense", 1, "unhealthy: ", "admin address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			code := healthcheck.Main(t.Context(), tt.addr, &out)
			if code != tt.wantCode {
				t.Errorf("Main(%q) = %d, want %d (output %q)", tt.addr, code, tt.wantCode, out.String())
			}
			got := out.String()
			if tt.wantCode == 0 && got != tt.wantPrefix {
				t.Errorf("output = %q, want %q", got, tt.wantPrefix)
			}
			if !strings.HasPrefix(got, tt.wantPrefix) || !strings.Contains(got, tt.wantText) || !strings.HasSuffix(got, "\n") {
				t.Errorf("output = %q, want prefix %q, containing %q, ending in a newline", got, tt.wantPrefix, tt.wantText)
			}
		})
	}
}
