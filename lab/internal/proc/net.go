package proc

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"
)

// FreePorts returns n distinct loopback TCP ports nobody listens on now.
// All n are held open until every one is chosen, so none repeats.
func FreePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// FreeAddr is a loopback address (127.0.0.1:port) on a TCP port nobody
// listens on now. Such a port is almost always free for UDP too.
func FreeAddr() (string, error) {
	ports, err := FreePorts(1)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("127.0.0.1:%d", ports[0]), nil
}

// FreeUDPPort returns a loopback UDP port nobody is bound to now.
func FreeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// WaitHTTP is a readiness check for Start: url answers 200 (a netlab
// server's /readyz).
func WaitHTTP(url string) func(context.Context) error {
	return func(ctx context.Context) error {
		client := &http.Client{Timeout: time.Second}
		for {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			resp, err := client.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
				err = fmt.Errorf("%s: %s", url, resp.Status)
			}
			if !Sleep(ctx, 50*time.Millisecond) {
				return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
			}
		}
	}
}

// WaitTCP is a readiness check for Start: addr accepts a TCP connection.
func WaitTCP(addr string) func(context.Context) error {
	return func(ctx context.Context) error {
		for {
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err == nil {
				c.Close()
				return nil
			}
			if !Sleep(ctx, 20*time.Millisecond) {
				return fmt.Errorf("%s: %w", addr, err)
			}
		}
	}
}

// WaitListening is a readiness check for Start: a TCP socket listens on
// port. It reads /proc/net/tcp rather than connecting, for programs that
// take any connection as their work (iperf3's test, nc's transfer).
func WaitListening(port int) func(context.Context) error {
	return func(ctx context.Context) error {
		for !Listening(port) {
			if !Sleep(ctx, 5*time.Millisecond) {
				return fmt.Errorf("nothing listens on port %d: %w", port, ctx.Err())
			}
		}
		return nil
	}
}

// Listening reports whether a TCP socket listens on port (state 0A in
// /proc/net/tcp or tcp6), without connecting to it.
func Listening(port int) bool {
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(f)
		if err == nil && listensIn(string(data), port) {
			return true
		}
	}
	return false
}

// listensIn reads a /proc/net/tcp table for a listening socket on port.
func listensIn(table string, port int) bool {
	want := fmt.Sprintf(":%04X", port)
	for line := range strings.Lines(table) {
		f := strings.Fields(line)
		if len(f) > 3 && strings.HasSuffix(f[1], want) && f[3] == "0A" {
			return true
		}
	}
	return false
}

// Sleep waits d, or less if ctx ends first (then it returns false): the
// pause between two tries of every wait loop in the lab.
func Sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// RaiseFileLimit lifts this process's soft RLIMIT_NOFILE to the hard limit
// (children inherit it) and fails when even that leaves fewer than need.
func RaiseFileLimit(need uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("getrlimit: %w", err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("setrlimit: %w", err)
	}
	if lim.Cur < need {
		return lim.Cur, fmt.Errorf("open-file limit %d is below the %d this run needs (raise the hard limit: ulimit -Hn)", lim.Cur, need)
	}
	return lim.Cur, nil
}
