package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
)

// ServeAnchor runs one of the plain Go anchors in this process until ctx
// ends: the baselines a netlab server is compared with ("what the standard
// library gives you in ten lines"). `netlab bench serve KIND ADDR` runs it.
//
//	tcp-copy ADDR    TCP echo with io.Copy per connection
//	http-hello ADDR  net/http answering Hello, World!
//	udp-echo ADDR    a ReadFrom / WriteTo loop
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

func serveTCPCopy(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go func() {
			defer c.Close()
			_, _ = io.Copy(c, c)
		}()
	}
}

func serveUDPEcho(ctx context.Context, addr string) error {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); pc.Close() }()
	buf := make([]byte, 65536)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			continue
		}
		_, _ = pc.WriteTo(buf[:n], from)
	}
}

func serveHTTPHello(ctx context.Context, addr string) error {
	hello := []byte("Hello, World!")
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(hello)
	})}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
