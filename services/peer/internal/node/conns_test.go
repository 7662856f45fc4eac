package node_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/node/nodetest"
	"github.com/netlab/netlab/services/peer/internal/wire"
	"github.com/netlab/netlab/services/platform/poll"
)

// dialFrom connects to tn's peer port from the local address ip (any
// 127.0.0.0/8 address reaches loopback on Linux), so a test can play
// several sources.
func dialFrom(t testing.TB, tn *testNode, ip string) (net.Conn, *wire.Conn) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c, err := d.Dial("tcp", tn.addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, wire.NewConn(c, 5*time.Second)
}

// expectErrorFrame fails unless the node's next frame on wc is an error
// with the given code; what says which frame it answers, for the failure.
func expectErrorFrame(t testing.TB, wc *wire.Conn, code wire.ErrorCode, what string) {
	t.Helper()
	msg, err := wc.Receive(0)
	if e, ok := msg.(*wire.Error); err != nil || !ok || e.Code != code {
		t.Fatalf("%s: %v, %v; want a %v error", what, msg, err, code)
	}
}

// waitInvalid waits until tn has counted n invalid frames for reason.
func waitInvalid(t testing.TB, tn *testNode, reason string, n float64) {
	t.Helper()
	poll.Until(t, "frames_invalid_total{reason="+reason+"}", 5*time.Second, func() bool {
		return counter(t, tn, "netlab_peer_frames_invalid_total", reason) == n
	})
}

// expectBusy fails unless the node's first frame on wc is error(busy),
// followed by the end of the connection.
func expectBusy(t testing.TB, wc *wire.Conn) {
	t.Helper()
	expectErrorFrame(t, wc, wire.ErrorBusy, "first frame")
	if _, err := wc.Receive(0); err == nil {
		t.Fatal("connection still open after the busy error")
	}
}

// askCatalog sends get_catalog on an authenticated connection and fails
// unless a catalog comes back.
func askCatalog(t testing.TB, wc *wire.Conn) *wire.Catalog {
	t.Helper()
	if err := wc.Send(&wire.GetCatalog{}); err != nil {
		t.Fatal(err)
	}
	msg, err := wc.Receive(0)
	cat, ok := msg.(*wire.Catalog)
	if err != nil || !ok {
		t.Fatalf("answer to get_catalog: %v, %v; want a catalog", msg, err)
	}
	return cat
}

// Connections that never finish the handshake have their own budget: they
// do not take the MAX_CONNS slots of peers that authenticated, and one
// source cannot hold more than MAX_HANDSHAKES_PER_SOURCE of them.
func TestNode_SilentConnectionsDoNotLockOutPeers(t *testing.T) {
	a := startNode(t, t.TempDir(), map[string]string{
		"MAX_CONNS": "2", "MAX_HANDSHAKES": "8", "MAX_HANDSHAKES_PER_SOURCE": "4", "DIAL_TIMEOUT": "30s",
	})
	for range 4 {
		dialFrom(t, a, "127.0.0.2") // silent: never says hello
	}
	_, over := dialFrom(t, a, "127.0.0.2")
	expectBusy(t, over)
	if got := counter(t, a, "netlab_peer_connections_rejected_total", "handshakes_per_source"); got != 1 {
		t.Errorf(`connections_rejected_total{reason="handshakes_per_source"} = %v, want 1`, got)
	}

	// Two honest peers from another address fill MAX_CONNS between them.
	own := &wire.Hello{NodeID: [16]byte{1, 2, 3}, Nonce: [16]byte{4, 5, 6}, ListenPort: 1}
	for range 2 {
		_, wc := dialFrom(t, a, "127.0.0.1")
		handshake(t, wc, own)
		askCatalog(t, wc)
	}
	// A third one is past MAX_CONNS: told so after its handshake.
	_, third := dialFrom(t, a, "127.0.0.1")
	handshake(t, third, own)
	expectBusy(t, third)
	if got := counter(t, a, "netlab_peer_connections_rejected_total", "max_conns"); got != 1 {
		t.Errorf(`connections_rejected_total{reason="max_conns"} = %v, want 1`, got)
	}
}

// Past MAX_HANDSHAKES, a new connection is refused at once whatever its
// source.
func TestNode_RefusesHandshakesOverTheBudget(t *testing.T) {
	a := startNode(t, t.TempDir(), map[string]string{
		"MAX_HANDSHAKES": "2", "MAX_HANDSHAKES_PER_SOURCE": "1", "DIAL_TIMEOUT": "30s",
	})
	dialFrom(t, a, "127.0.0.2")
	dialFrom(t, a, "127.0.0.3")
	_, wc := dialFrom(t, a, "127.0.0.4")
	expectBusy(t, wc)
	if got := counter(t, a, "netlab_peer_connections_rejected_total", "handshakes"); got != 1 {
		t.Errorf(`connections_rejected_total{reason="handshakes"} = %v, want 1`, got)
	}
}

// An error frame from the peer ends the connection: the node closes it
// without answering and counts it by its code, not as a bad frame or a
// request.
func TestNode_ErrorFrameJustCloses(t *testing.T) {
	a := startNode(t, t.TempDir(), nil)
	_, wc := dialWire(t, a)
	handshake(t, wc, &wire.Hello{NodeID: [16]byte{1}, Nonce: [16]byte{2}, ListenPort: 1})
	if err := wc.Send(&wire.Error{Code: wire.ErrorShutdown, Message: "bye"}); err != nil {
		t.Fatal(err)
	}
	if msg, err := wc.Receive(0); !errors.Is(err, io.EOF) {
		t.Fatalf("after our error frame: %v, %v; want the connection closed without a frame", msg, err)
	}
	poll.Until(t, "errors_received_total{code=shutdown}", 5*time.Second, func() bool {
		return counter(t, a, "netlab_peer_errors_received_total", "shutdown") == 1
	})
	if got := counter(t, a, "netlab_peer_frames_invalid_total"); got != 0 {
		t.Errorf("frames_invalid_total = %v, want 0", got)
	}
	if got := counter(t, a, "netlab_peer_requests_served_total", "error"); got != 0 {
		t.Errorf(`requests_served_total{type="error"} = %v, want 0`, got)
	}
}

// requests_served_total counts requests answered, nothing else.
func TestNode_RequestsServedCountsOnlyRequests(t *testing.T) {
	a := startNode(t, t.TempDir(), nil)
	_, wc := dialWire(t, a)
	own := &wire.Hello{NodeID: [16]byte{1}, Nonce: [16]byte{2}, ListenPort: 1}
	handshake(t, wc, own)
	askCatalog(t, wc)
	if err := wc.Send(own); err != nil { // a hello is no request
		t.Fatal(err)
	}
	expectErrorFrame(t, wc, wire.ErrorProtocol, "answer to a second hello")
	waitInvalid(t, a, "unexpected", 1)
	if got := counter(t, a, "netlab_peer_requests_served_total", "get_catalog"); got != 1 {
		t.Errorf(`requests_served_total{type="get_catalog"} = %v, want 1`, got)
	}
	if got := counter(t, a, "netlab_peer_requests_served_total", "hello"); got != 0 {
		t.Errorf(`requests_served_total{type="hello"} = %v, want 0`, got)
	}
}

// A first frame that is a valid message but not a hello is counted as
// unexpected, like one after the handshake.
func TestNode_CountsUnexpectedFramesBeforeTheHandshake(t *testing.T) {
	a := startNode(t, t.TempDir(), nil)
	_, wc := dialWire(t, a)
	if err := wc.Send(&wire.GetCatalog{}); err != nil {
		t.Fatal(err)
	}
	expectErrorFrame(t, wc, wire.ErrorProtocol, "answer to get_catalog before hello")
	waitInvalid(t, a, "unexpected", 1)
}

// A hello whose addr is not host:port is malformed.
func TestNode_RefusesHelloWithABadAddr(t *testing.T) {
	a := startNode(t, t.TempDir(), nil)
	for i, addr := range []string{"not an address", "host:99999", "[::1"} {
		c, wc := dialWire(t, a)
		h := wire.Hello{NodeID: [16]byte{1}, ListenPort: 1, Addr: addr}
		// Written by hand: Send refuses such a hello.
		frame := append([]byte{wire.Version, byte(wire.TypeHello), 0, 0, 0, 0}, h.AppendPayload(nil)...)
		binary.BigEndian.PutUint32(frame[2:], uint32(len(frame)-wire.HeaderSize))
		if _, err := c.Write(frame); err != nil {
			t.Fatal(err)
		}
		expectErrorFrame(t, wc, wire.ErrorProtocol, fmt.Sprintf("answer to a hello with addr %q", addr))
		waitInvalid(t, a, "malformed", float64(i+1))
	}
}

// observed starts a node whose info-level log lines the test can read.
func observed(t *testing.T, env map[string]string) (*testNode, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.InfoLevel)
	n := nodetest.StartLogged(t, t.TempDir(), env, zap.New(core))
	return &testNode{t: t, n: n.Node, dir: n.Dir, api: n.API, reg: n.Reg, stop: n.Stop}, logs
}

// waitLog waits for a log line whose message contains msg and whose
// reason field is reason.
func waitLog(t *testing.T, logs *observer.ObservedLogs, msg, reason string) {
	t.Helper()
	poll.Until(t, "log line "+msg+" ("+reason+")", 5*time.Second, func() bool {
		for _, e := range logs.All() {
			if strings.Contains(e.Message, msg) && e.ContextMap()["reason"] == reason {
				return true
			}
		}
		return false
	})
}

// Busy refusals are logged, not only counted.
func TestNode_LogsBusyRefusals(t *testing.T) {
	a, logs := observed(t, map[string]string{"MAX_HANDSHAKES": "1", "MAX_HANDSHAKES_PER_SOURCE": "1", "DIAL_TIMEOUT": "30s"})
	dialFrom(t, a, "127.0.0.2")
	_, wc := dialFrom(t, a, "127.0.0.3")
	expectBusy(t, wc)
	waitLog(t, logs, "connection refused", "handshakes")
}

// A peer that stops reading its answers is cut off after IO_TIMEOUT, and
// that is logged at info.
func TestNode_LogsSlowReaderCutOff(t *testing.T) {
	a, logs := observed(t, map[string]string{"IO_TIMEOUT": "200ms"})
	writeRandomFile(t, filepath.Join(a.dir, "big.bin"), 16<<20)
	var id content.ID
	poll.Until(t, "big.bin in the catalog", 10*time.Second, func() bool {
		var files []struct{ ID string }
		a.call("GET", "/api/catalog", nil, &files)
		if len(files) == 1 {
			parsed, err := content.ParseID(files[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			id = parsed
			return true
		}
		return false
	})
	c, wc := dialWire(t, a)
	handshake(t, wc, &wire.Hello{NodeID: [16]byte{1}, Nonce: [16]byte{2}, ListenPort: 1})
	// Ask for every piece and read nothing.
	for i := range uint32(256) {
		if err := wc.Send(&wire.GetPiece{ID: id, Index: i}); err != nil {
			break // the node stopped reading: it is stuck writing
		}
	}
	waitLog(t, logs, "peer too slow reading", "slow_reader")
	c.Close()
}

// The admin API refuses state-changing requests a browser sends from
// another site; requests without browser headers (peerctl, the lab, the
// dashboard's server) go through.
func TestNode_APIRefusesCrossOriginRequests(t *testing.T) {
	a := startNode(t, t.TempDir(), nil)
	post := func(header map[string]string) int {
		req, err := http.NewRequest("POST", a.api+"/api/downloads", strings.NewReader(`{"ref":"nothing"}`))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Origin": "http://evil.example"},
	} {
		if code := post(h); code != http.StatusForbidden {
			t.Errorf("POST with %v = %d, want 403", h, code)
		}
	}
	for _, h := range []map[string]string{nil, {"Sec-Fetch-Site": "same-origin"}} {
		if code := post(h); code == http.StatusForbidden {
			t.Errorf("POST with %v = 403, want it through", h)
		}
	}
}
