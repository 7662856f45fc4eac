package tests_test

// Hardening checks: how the compose file runs every container, the UDP
// responder's amplification over a mixed request set, the peer's shared
// secret, and the limits on oversized headers, bodies, datagrams and frames.
//
// tcp-echo has no size limit to check: it echoes a byte stream, with no
// message boundaries; its limits are MAX_CONNS and the idle and write
// timeouts.

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
)

// assertHardened checks how a service container runs: a numeric non-root
// user, a read-only root filesystem, every capability dropped and none
// added, no-new-privileges, not privileged, and every published port bound
// to 127.0.0.1 only. The kernel's view of the main process must agree (no
// effective, permitted or bounding capabilities, no_new_privs set), and every
// process runs as that user (assertNonRootReadOnly).
func assertHardened(t *testing.T, ctr *testcontainers.DockerContainer) {
	t.Helper()
	info := inspect(t, ctr)
	name := strings.TrimPrefix(info.Name, "/")

	uid, gid, ok := strings.Cut(info.Config.User, ":")
	u, uerr := strconv.Atoi(uid)
	g, gerr := strconv.Atoi(gid)
	if !ok || uerr != nil || gerr != nil || u == 0 || g == 0 {
		t.Errorf("%s: Config.User = %q, want numeric non-root uid:gid", name, info.Config.User)
	}
	hc := info.HostConfig
	if !hc.ReadonlyRootfs {
		t.Errorf("%s: root filesystem is writable", name)
	}
	if !slices.ContainsFunc(hc.CapDrop, func(c string) bool { return strings.EqualFold(c, "ALL") }) {
		t.Errorf("%s: CapDrop = %v, want ALL", name, hc.CapDrop)
	}
	if len(hc.CapAdd) > 0 {
		t.Errorf("%s: CapAdd = %v, want none", name, hc.CapAdd)
	}
	if hc.Privileged {
		t.Errorf("%s: privileged", name)
	}
	if !slices.ContainsFunc(hc.SecurityOpt, func(o string) bool { return o == "no-new-privileges" || o == "no-new-privileges:true" }) {
		t.Errorf("%s: SecurityOpt = %v, want no-new-privileges", name, hc.SecurityOpt)
	}
	// What compose asked for and what Docker bound.
	for port, bindings := range hc.PortBindings {
		for _, b := range bindings {
			if b.HostIP.String() != "127.0.0.1" {
				t.Errorf("%s: port %s is to be published on %q, want 127.0.0.1", name, port, b.HostIP)
			}
		}
	}
	published := 0
	for port, bindings := range info.NetworkSettings.Ports {
		for _, b := range bindings {
			published++
			if b.HostIP.String() != "127.0.0.1" {
				t.Errorf("%s: port %s is published on %q:%s, want 127.0.0.1", name, port, b.HostIP, b.HostPort)
			}
		}
	}
	if published == 0 {
		t.Errorf("%s publishes no port (want its ports on 127.0.0.1)", name)
	}

	// The kernel's view of the main process.
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", info.State.Pid))
	if err != nil {
		t.Logf("%s: cannot read the process status from the host (%v); checked the configuration only", name, err)
	} else {
		want := map[string]string{"CapEff": "0000000000000000", "CapPrm": "0000000000000000", "CapBnd": "0000000000000000", "NoNewPrivs": "1"}
		for line := range strings.Lines(string(status)) {
			k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
			v = strings.TrimSpace(v)
			if w, ok := want[k]; ok {
				if v != w {
					t.Errorf("%s: main process %s = %s, want %s", name, k, v, w)
				}
				delete(want, k)
			}
			if k == "Uid" || k == "Gid" {
				for _, id := range strings.Fields(v) {
					if id == "0" {
						t.Errorf("%s: main process %s = %s, want no root id", name, k, v)
					}
				}
			}
		}
		for k := range want {
			t.Errorf("%s: /proc/%d/status has no %s", name, info.State.Pid, k)
		}
	}
	assertNonRootReadOnly(t, ctr)
}

// Every service the compose file runs by default is hardened; the peer
// nodes are checked in TestPeer_ComposeSwarmSpreadsFile, which runs them.
func TestStack_EveryServiceIsHardened(t *testing.T) {
	s := sharedStack(t)
	for _, c := range []struct {
		name string
		ctr  *testcontainers.DockerContainer
	}{{tcpEchoService, s.tcpEcho}, {udpResponderService, s.udpResponder}, {httpHelloService, s.httpHello}} {
		t.Run(c.name, func(t *testing.T) { assertHardened(t, c.ctr) })
	}
}

// udpExchange sends each payload to server from a socket of its own (so
// every reply belongs to one request) and returns the sizes of the replies
// each got within wait.
func udpExchange(t *testing.T, server *net.UDPAddr, payloads [][]byte, wait time.Duration) [][]int {
	t.Helper()
	replies := make([][]int, len(payloads))
	var wg sync.WaitGroup
	for i, p := range payloads {
		sock, err := net.ListenUDP("udp4", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer sock.Close()
		wg.Go(func() {
			if _, err := sock.WriteToUDP(p, server); err != nil {
				t.Errorf("send %d bytes: %v", len(p), err)
				return
			}
			_ = sock.SetReadDeadline(time.Now().Add(wait))
			buf := make([]byte, 65536)
			for {
				n, err := sock.Read(buf)
				if err != nil {
					return
				}
				replies[i] = append(replies[i], n)
			}
		})
	}
	wg.Wait()
	return replies
}

func junk(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	if n > 0 {
		b[0] = 'j' // never the probe magic
	}
	return b
}

// The responder's amplification, measured over a mixed set: junk of every
// size from 1 byte to the largest UDP datagram, the tutorial's greeting,
// probes up to and over MAX_DATAGRAM, things that look like its own replies
// and exit attempts. No request may get more than one reply or a reply
// larger than itself, and all replies together are at most as many bytes as
// all requests.
func TestUDPResponder_NeverAmplifiesMixedSizes(t *testing.T) {
	s := sharedStack(t)
	server := &net.UDPAddr{IP: net.ParseIP(containerIP(t, s.udpResponder)), Port: 12345}
	sentBefore := udpMetric(t, s, "netlab_udp_responder_bytes_sent_total")
	receivedBefore := udpMetric(t, s, "netlab_udp_responder_bytes_received_total")

	var payloads [][]byte
	for _, n := range []int{1, 2, 7, 13, 14, 15, 35, 36, 37, 64, 100, 512, 1024, 1400, 2047, 2048, 2049, 4096, 9000, 65507} {
		payloads = append(payloads, junk(n))
	}
	for _, n := range []int{36, 64, 1024, 2048, 2049} {
		payloads = append(payloads, udpProbe(n, 1, uint64(n)))
	}
	reply := udpProbe(64, 1, 7)
	reply[5] = 1 // a probe marked as a reply: never answered (loop)
	payloads = append(payloads, reply,
		[]byte("Hello, server!"), []byte("Hello, server!\n"), []byte("Hello, client!"),
		[]byte("x"), []byte("exit"), []byte("exit not-the-token"))

	replies := udpExchange(t, server, payloads, time.Second)
	const maxDatagram = 2048 // deploy/env/udp-responder.env
	var reqBytes, replyBytes, answered, inLimitBytes int
	var lines []string
	for i, p := range payloads {
		reqBytes += len(p)
		if len(p) <= maxDatagram {
			inLimitBytes += len(p)
		}
		for _, n := range replies[i] {
			replyBytes += n
			if n > len(p) {
				t.Errorf("a %d-byte request (%q) got a %d-byte reply", len(p), abbrev(p), n)
			}
		}
		if len(replies[i]) > 1 {
			t.Errorf("a %d-byte request (%q) got %d replies", len(p), abbrev(p), len(replies[i]))
		}
		if len(replies[i]) > 0 {
			answered++
		}
		lines = append(lines, fmt.Sprintf("%d->%v", len(p), replies[i]))
	}
	t.Logf("request size -> reply sizes: %s", strings.Join(lines, " "))
	ratio := float64(replyBytes) / float64(reqBytes)
	// The datagrams over MAX_DATAGRAM weigh most; the ratio over those the
	// server considers at all is the telling one.
	t.Logf("FIGURE amplification udp-responder requests=%d request_bytes=%d replies=%d reply_bytes=%d ratio=%.4f ratio_within_max_datagram=%.4f",
		len(payloads), reqBytes, answered, replyBytes, ratio, float64(replyBytes)/float64(inLimitBytes))
	if ratio > 1.0 {
		t.Errorf("amplification ratio %.4f, want <= 1", ratio)
	}
	// Some requests must be answered, or the test measured nothing: the
	// greeting and the probes up to MAX_DATAGRAM.
	if answered < 5 {
		t.Errorf("only %d requests answered, want at least the greeting and 4 probes", answered)
	}

	// The server's own byte counters agree (they include its healthcheck
	// probes, which are answered at exactly their size).
	sent := udpMetric(t, s, "netlab_udp_responder_bytes_sent_total") - sentBefore
	received := udpMetric(t, s, "netlab_udp_responder_bytes_received_total") - receivedBefore
	if sent > received {
		t.Errorf("the server counted %v bytes sent for %v received", sent, received)
	}
}

// Datagrams over MAX_DATAGRAM (2048 in deploy/env/udp-responder.env) get no
// reply and are counted as too_large, exactly once each; one of exactly
// MAX_DATAGRAM bytes is answered.
func TestUDPResponder_RefusesOversizedDatagramsAndCountsThem(t *testing.T) {
	s := sharedStack(t)
	const maxDatagram = 2048
	server := &net.UDPAddr{IP: net.ParseIP(containerIP(t, s.udpResponder)), Port: 12345}
	before := udpMetric(t, s, udpDropped, droppedFor("too_large"))

	payloads := [][]byte{
		udpProbe(maxDatagram, 2, 0), // the limit itself: answered
		udpProbe(maxDatagram+1, 2, 1),
		junk(maxDatagram + 1),
		junk(9000),
		junk(65507),
	}
	replies := udpExchange(t, server, payloads, time.Second)
	if !slices.Equal(replies[0], []int{maxDatagram}) {
		t.Errorf("a %d-byte probe got replies %v, want one of %d bytes", maxDatagram, replies[0], maxDatagram)
	}
	for i, p := range payloads[1:] {
		if len(replies[i+1]) > 0 {
			t.Errorf("a %d-byte datagram got replies %v, want none (over MAX_DATAGRAM)", len(p), replies[i+1])
		}
	}
	want := before + float64(len(payloads)-1)
	got := waitMetricAtLeast(t, s, want, udpDropped, droppedFor("too_large"))
	if got != want {
		t.Errorf("%s{reason=\"too_large\"} went from %v to %v, want +%d", udpDropped, before, got, len(payloads)-1)
	}
}

// A header block over MAX_HEADER_BYTES is refused with 431 and a body over
// MAX_BODY with 413, each counted.
func TestHTTPHello_RefusesOversizedHeaderAndBody(t *testing.T) {
	s := sharedStack(t)
	const (
		maxHeaderBytes = 16384   // deploy/env/http-hello.env
		maxBody        = 1048576 // deploy/env/http-hello.env
		requests       = "netlab_http_hello_requests_total"
	)

	t.Run("header", func(t *testing.T) {
		// net/http reads up to MAX_HEADER_BYTES plus 4096 bytes of slack;
		// four times the limit is over either way.
		const counter = "netlab_http_hello_headers_too_large_total"
		before, _, err := scrapeValue(t, s.httpAdminAddr, counter)
		if err != nil {
			t.Fatal(err)
		}
		req := "GET / HTTP/1.1\r\nHost: http-hello\r\nX-Big: " + strings.Repeat("h", 4*maxHeaderBytes) + "\r\n\r\n"
		resp := rawHTTP(t, s.httpAddr, []byte(req))
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("a %d-byte header block got %d, want 431", len(req), resp.StatusCode)
		}
		// net/http answers before any handler runs; the server counts it
		// all the same.
		after, found, err := scrapeValue(t, s.httpAdminAddr, counter)
		if err != nil || !found || after != before+1 {
			t.Errorf("%s went from %v to %v (found %v, %v), want +1", counter, before, after, found, err)
		}
		// Just under the limit is served.
		req = "GET / HTTP/1.1\r\nHost: http-hello\r\nX-Big: " + strings.Repeat("h", maxHeaderBytes-100) + "\r\n\r\n"
		if resp := rawHTTP(t, s.httpAddr, []byte(req)); resp.StatusCode != http.StatusOK {
			t.Fatalf("a %d-byte header block got %d, want 200", len(req), resp.StatusCode)
		}
	})

	t.Run("body", func(t *testing.T) {
		label := []string{`route="/echo"`, `method="POST"`, `code="413"`}
		before, _, err := scrapeValue(t, s.httpAdminAddr, requests, label...)
		if err != nil {
			t.Fatal(err)
		}
		body := bytes.Repeat([]byte("b"), maxBody+1)
		req := fmt.Appendf(nil, "POST /echo HTTP/1.1\r\nHost: http-hello\r\nContent-Length: %d\r\n\r\n", len(body))
		resp := rawHTTP(t, s.httpAddr, append(req, body...))
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("a %d-byte body got %d, want 413", len(body), resp.StatusCode)
		}
		after, _, err := scrapeValue(t, s.httpAdminAddr, requests, label...)
		if err != nil {
			t.Fatal(err)
		}
		if after != before+1 {
			t.Errorf("%s%v went from %v to %v, want +1", requests, label, before, after)
		}
	})
}

// scrapeValue is scrapeMetric where a counter without samples yet reads 0.
func scrapeValue(t *testing.T, adminAddr, metric string, labels ...string) (float64, bool, error) {
	t.Helper()
	code, body, err := httpGet(t.Context(), "http://"+adminAddr+"/metrics")
	if err != nil {
		return 0, false, err
	}
	if code != http.StatusOK {
		return 0, false, fmt.Errorf("GET /metrics = %d", code)
	}
	return metricValue(body, metric, labels...)
}

// rawHTTP writes req on a new connection (while reading, so a server that
// answers before reading everything does not deadlock the test) and returns
// the response, with its body read.
func rawHTTP(t *testing.T, addr string, req []byte) *http.Response {
	t.Helper()
	conn := dial(t, addr)
	_ = conn.SetDeadline(time.Now().Add(ioTimeout))
	go func() { _, _ = conn.Write(req) }() // the server may close before reading it all
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp
}

// peerFrame reads one frame of the peer protocol: version, type, payload.
func peerFrame(r io.Reader) (version, typ byte, payload []byte, err error) {
	var h [6]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, 0, nil, err
	}
	n := binary.BigEndian.Uint32(h[2:])
	if n > 1<<20 {
		return 0, 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(r, payload)
	return h[0], h[1], payload, err
}

// A frame header announcing a payload over the protocol's maximum (4 MiB +
// 4096) is refused before the payload is read: the node answers with an
// error frame of code too_large, closes the connection and counts it
// (docs/peer-protocol.md, Framing).
func TestPeer_RefusesOversizedFrameAndCountsIt(t *testing.T) {
	skipShort(t)
	nw := newPeerNetwork(t)
	n := startPeer(t, nw, "node", nil)
	conn := dial(t, net.JoinHostPort(containerIP(t, n.ctr), peerPort))
	_ = conn.SetDeadline(time.Now().Add(ioTimeout))

	// The node speaks first: its hello (type 1).
	if v, typ, _, err := peerFrame(conn); err != nil || v != 1 || typ != 1 {
		t.Fatalf("first frame: version %d type %d, %v; want the node's hello (1, 1)", v, typ, err)
	}
	// A hello header claiming a 4 GiB payload, and no payload.
	if _, err := conn.Write([]byte{1, 1, 0xff, 0xff, 0xff, 0xff}); err != nil {
		t.Fatal(err)
	}
	_, typ, payload, err := peerFrame(conn)
	if err != nil || typ != 12 || len(payload) < 2 {
		t.Fatalf("answer to an oversized frame: type %d payload %q, %v; want an error frame (12)", typ, payload, err)
	}
	if code := binary.BigEndian.Uint16(payload); code != 4 {
		t.Errorf("error code %d (%q), want 4 (too_large)", code, payload[2:])
	}
	if extra, err := io.ReadAll(conn); err != nil || len(extra) > 0 {
		t.Errorf("after the error frame: %d more bytes, %v; want the connection closed", len(extra), err)
	}
	if got := n.metric("netlab_peer_frames_invalid_total", `reason="too_large"`); got != 1 {
		t.Errorf(`frames_invalid_total{reason="too_large"} = %v, want 1`, got)
	}
	if got := n.metric("netlab_peer_connections_rejected_total", `reason="handshake"`); got != 1 {
		t.Errorf(`connections_rejected_total{reason="handshake"} = %v, want 1`, got)
	}
}

// With PEER_SECRET set, two nodes with the secret find each other and share
// a file; a node without a secret and one with a wrong secret are refused at
// the handshake (each refusal logged with its address and counted as auth)
// and never see the file.
func TestPeer_SecretRefusesNodesWithoutIt(t *testing.T) {
	skipShort(t)
	nw := newPeerNetwork(t)
	const secret = "netlab-e2e-shared-secret"
	start := time.Now()
	a := startPeer(t, nw, "a", map[string]string{"PEER_SECRET": secret})
	b := startPeer(t, nw, "b", map[string]string{"PEER_SECRET": secret, "PEERS": "a"})
	none := startPeer(t, nw, "none", map[string]string{"PEERS": "a"})
	wrong := startPeer(t, nw, "wrong", map[string]string{"PEER_SECRET": "not-" + secret, "PEERS": "a"})
	data, want := randomBytes(t, 1<<20)
	id := a.put("secret.bin", data)

	// The node with the secret gets the file.
	b.waitInSwarm(id, 1)
	b.startDownload(id)
	b.waitComplete(id)
	b.requireFile("secret.bin", want)

	// Both outsiders have been refused by a, by address.
	outsiders := map[string]*peerNode{containerIP(t, none.ctr): none, containerIP(t, wrong.ctr): wrong}
	err := poll(t.Context(), 30*time.Second, 200*time.Millisecond, func() error {
		refused := map[string]bool{}
		for _, l := range jsonLogs(t, a.ctr, start) {
			host, _, _ := net.SplitHostPort(l.Remote)
			if l.Msg == "connection refused" && l.Reason == "auth" && outsiders[host] != nil {
				refused[host] = true
			}
		}
		if len(refused) != len(outsiders) {
			return fmt.Errorf("a refused %v for auth, want both outsiders", refused)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.metric("netlab_peer_connections_rejected_total", `reason="auth"`); got < 2 {
		t.Errorf(`a: connections_rejected_total{reason="auth"} = %v, want >= 2`, got)
	}
	// And they see nothing of the swarm.
	for _, o := range []*peerNode{none, wrong} {
		var st struct {
			PeersConnected int `json:"peers_connected"`
		}
		if _, err := o.call(t.Context(), http.MethodGet, "/api/status", nil, &st); err != nil {
			t.Fatal(err)
		}
		var files []struct {
			ID string `json:"id"`
		}
		if _, err := o.call(t.Context(), http.MethodGet, "/api/swarm", nil, &files); err != nil {
			t.Fatal(err)
		}
		if st.PeersConnected != 0 || len(files) != 0 {
			t.Errorf("%s: %d peers connected, swarm %v; want none", o.alias, st.PeersConnected, files)
		}
	}
	var peers []struct {
		Addr      string `json:"addr"`
		Connected bool   `json:"connected"`
	}
	if _, err := a.call(t.Context(), http.MethodGet, "/api/peers", nil, &peers); err != nil {
		t.Fatal(err)
	}
	for _, p := range peers {
		host, _, _ := net.SplitHostPort(p.Addr)
		if outsiders[host] != nil && p.Connected {
			t.Errorf("a is connected to %s (%s), which has no or a wrong secret", p.Addr, outsiders[host].alias)
		}
	}
}
