// Package healthcheck implements the `healthcheck` subcommand every service
// binary has: it asks the local admin listener's /readyz whether the service
// is ready, so a FROM scratch image (no shell, no curl) can still have a
// Docker HEALTHCHECK.
package healthcheck

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// DefaultTimeout bounds the whole check; Docker's own healthcheck timeout
// should be longer.
const DefaultTimeout = 2 * time.Second

// URL returns the /readyz URL for a service whose admin listener was
// configured with adminAddr. A wildcard or empty host means the loopback
// address, since the check runs inside the service's own network namespace.
func URL(adminAddr string) (string, error) {
	host, port, err := net.SplitHostPort(adminAddr)
	if err != nil {
		return "", fmt.Errorf("admin address %q: %w", adminAddr, err)
	}
	if port == "" {
		return "", fmt.Errorf("admin address %q: no port", adminAddr)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}

// Check returns nil when the service behind adminAddr answers /readyz with
// 200 within timeout.
func Check(ctx context.Context, adminAddr string, timeout time.Duration) error {
	url, err := URL(adminAddr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("readyz: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("readyz: %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

// Main runs the subcommand: it prints the outcome to out and returns the
// process exit code (0 ready, 1 not).
func Main(ctx context.Context, adminAddr string, out io.Writer) int {
	if err := Check(ctx, adminAddr, DefaultTimeout); err != nil {
		fmt.Fprintln(out, "unhealthy:", err)
		return 1
	}
	fmt.Fprintln(out, "healthy")
	return 0
}
