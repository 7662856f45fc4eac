package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// ServeAnchor runs one of the plain Go anchors in this process: the
// baselines a netlab server is compared with ("what the standard library
// gives you in ten lines").
//
//	tcp-copy ADDR    TCP echo with io.Copy per connection
//	http-hello ADDR  net/http answering Hello, World!
//	udp-echo ADDR    a ReadFromUDP / WriteToUDP loop
func ServeAnchor(ctx context.Context, kind, addr string) error {
	switch kind {
	case "tcp-copy":
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
	case "udp-echo":
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
	case "http-hello":
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
	return fmt.Errorf("unknown anchor %q", kind)
}

// pythonUDPEcho is the tutorial's UDP server: recvfrom, sendto, in one loop.
const pythonUDPEcho = `import socket, sys
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.bind(("127.0.0.1", int(sys.argv[1])))
    while True:
        data, addr = s.recvfrom(4096)
        s.sendto(data, addr)
`

// udpEchoReady waits until a datagram sent to addr comes back.
func udpEchoReady(ctx context.Context, addr string) error {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 64)
	for ctx.Err() == nil {
		_, _ = c.Write([]byte("ready?"))
		_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := c.Read(buf); err == nil {
			return nil
		}
	}
	return ctx.Err()
}

// nginxConfig writes a configuration serving the same hello as http-hello
// and returns its path.
func nginxConfig(dir, addr string) (string, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return "", err
	}
	conf := fmt.Sprintf(`worker_processes auto;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    client_body_temp_path %[1]s/tmp/body;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
    server {
        listen %[2]s backlog=4096;
        location / {
            default_type text/plain;
            return 200 "Hello, World!";
        }
    }
}
`, dir, addr)
	path := filepath.Join(dir, "nginx.conf")
	return path, os.WriteFile(path, []byte(conf), 0o644)
}
