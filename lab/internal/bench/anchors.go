package bench

import (
	"context"
	"fmt"
)

// ServeAnchor runs one of the plain Go anchors in this process until ctx
// ends: the baselines a netlab server is compared with ("what the standard
// library gives you in ten lines"). `netlab bench serve KIND ADDR` runs it.
//
//	tcp-copy ADDR    TCP echo with io.Copy per connection
//	http-hello ADDR  net/http answering Hello, World!
//	udp-echo ADDR    a ReadFrom / WriteTo loop
//
// Each anchor lives with the workloads that compare against it: tcp.go,
// udp.go, http.go.
func ServeAnchor(ctx context.Context, kind, addr string) error {
	switch kind {
	case "tcp-copy":
		return serveTCPCopy(ctx, addr)
	case "udp-echo":
		return serveUDPEcho(ctx, addr)
	case "http-hello":
		return serveHTTPHello(ctx, addr)
	}
	return fmt.Errorf("unknown anchor %q", kind)
}
