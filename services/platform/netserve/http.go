package netserve

import (
	"net/http"
	"time"

	"go.uber.org/zap"
)

// HTTPServer is an http.Server for h with the limits of netlab's small
// HTTP listeners (the admin listener, the dashboard's pages): requests are
// a few headers and no large bodies, so slow or oversized ones are cut
// off early. write bounds writing a response; 0 leaves it unbounded, for
// listeners that hold event streams open. Errors are logged on log.
func HTTPServer(h http.Handler, log *zap.Logger, write time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      write,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          zap.NewStdLog(log),
	}
}
