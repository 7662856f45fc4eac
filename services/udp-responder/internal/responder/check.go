package responder

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/netlab/netlab/services/udp-responder/probe"
)

// CheckProbe sends a real probe to the responder listening on listenAddr
// (a wildcard host means loopback) and waits for its reply: the part of
// the healthcheck that proves datagrams are answered. It tries up to three
// times within timeout, because UDP may lose one.
func CheckProbe(ctx context.Context, listenAddr string, timeout time.Duration) error {
	host, port, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", listenAddr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", net.JoinHostPort(host, port))
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	defer conn.Close()

	var id [8]byte
	_, _ = rand.Read(id[:])
	runID := binary.BigEndian.Uint64(id[:])
	req := make([]byte, 64)
	resp := make([]byte, 128)
	const tries = 3
	per := timeout / tries
	var lastErr error
	for seq := range uint64(tries) {
		if err := probe.Encode(req, probe.Probe{RunID: runID, Seq: seq, SentUnix: time.Now().UnixNano()}); err != nil {
			return err
		}
		if _, err := conn.Write(req); err != nil {
			return fmt.Errorf("probe: %w", err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(per))
		for {
			n, err := conn.Read(resp)
			if err != nil {
				lastErr = err
				break
			}
			p, err := probe.Parse(resp[:n])
			if err == nil && p.Reply && p.RunID == runID {
				return nil
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	if lastErr == nil {
		lastErr = errors.New("no reply")
	}
	return fmt.Errorf("probe: no reply in %d tries: %w", tries, lastErr)
}
