package netserve_test

import (
	"net/http"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/platform/netserve"
)

func TestHTTPServer_Limits(t *testing.T) {
	h := http.NotFoundHandler()
	for _, write := range []time.Duration{0, 10 * time.Second} {
		srv := netserve.HTTPServer(h, zap.NewNop(), write)
		if srv.Handler == nil || srv.ErrorLog == nil {
			t.Fatalf("write %s: handler or error log missing", write)
		}
		if srv.WriteTimeout != write {
			t.Errorf("WriteTimeout = %s, want %s", srv.WriteTimeout, write)
		}
		if srv.ReadHeaderTimeout != 5*time.Second || srv.ReadTimeout != 10*time.Second ||
			srv.IdleTimeout != time.Minute || srv.MaxHeaderBytes != 16<<10 {
			t.Errorf("write %s: limits %s %s %s %d", write, srv.ReadHeaderTimeout, srv.ReadTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
		}
	}
}
