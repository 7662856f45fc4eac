package tests_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/tests/e2e"
	"github.com/testcontainers/testcontainers-go"
)

// The offline attack on a swarm's secret (docs/reliability.md): connect,
// record what the node sends in the handshake, and test every candidate
// secret against the record with no further contact. Up to protocol
// version 2 the node sent a MAC over values the dialer could see before
// it had checked anything, and a short secret fell to a dictionary.

const (
	e2eSecretAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	e2eShortSecret    = "q4z" // one of 36³ candidates
)

// legacyGuess returns the 3-character candidates whose version-2 MAC
// (docs/peer-protocol.md before version 3) over the dialer's nonce and
// the node's id and nonce equals mac.
func legacyGuess(mac []byte, dialerNonce, nodeID, nodeNonce []byte) []string {
	var found []string
	buf := make([]byte, 3)
	for _, a := range e2eSecretAlphabet {
		for _, b := range e2eSecretAlphabet {
			for _, c := range e2eSecretAlphabet {
				buf[0], buf[1], buf[2] = byte(a), byte(b), byte(c)
				m := hmac.New(sha256.New, buf)
				m.Write([]byte("netlab-peer-auth-v1"))
				m.Write(dialerNonce)
				m.Write(nodeID)
				m.Write(nodeNonce)
				if hmac.Equal(m.Sum(nil), mac) {
					found = append(found, string(buf))
				}
			}
		}
	}
	return found
}

// helloFrame is a hello of version v: node id, nonce, no listen port.
func helloFrame(v byte, id, nonce []byte) []byte {
	b := []byte{v, 1, 0, 0, 0, 35}
	b = append(append(b, id...), nonce...)
	return append(b, 0, 0, 0)
}

// recordHandshake sends first on a new connection to the node, then,
// after each frame the node sends, what next returns for it; it returns
// every frame the node sent until it closed the connection.
func recordHandshake(t *testing.T, addr string, first []byte, next func(typ byte, payload []byte) []byte) (types []byte, payloads [][]byte) {
	t.Helper()
	conn := e2e.Dial(t, addr)
	_ = conn.SetDeadline(time.Now().Add(e2e.IOTimeout))
	if _, err := conn.Write(first); err != nil {
		t.Fatal(err)
	}
	for {
		_, typ, payload, err := peerFrame(conn)
		if errors.Is(err, io.EOF) || e2e.IsClosedByPeer(err) {
			return types, payloads
		}
		if err != nil {
			t.Fatalf("after %d frames: %v", len(types), err)
		}
		types, payloads = append(types, typ), append(payloads, payload)
		if out := next(typ, payload); out != nil {
			if _, err := conn.Write(out); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// ristrettoBase is the encoding of ristretto255's generator: a valid
// pake share for a dialer that does not know the secret.
const ristrettoBase = "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76"

func TestPeer_SecretCannotBeGuessedOffline(t *testing.T) {
	nw := e2e.NewPeerNetwork(t)
	a := e2e.StartPeer(t, nw, "a", map[string]string{"PEER_SECRET": e2eShortSecret})
	id, nonce := make([]byte, 16), make([]byte, 16)
	_, _ = rand.Read(id)
	_, _ = rand.Read(nonce)

	// Version 2: the node refuses with error(version) and sends no MAC.
	types, payloads := recordHandshake(t, a.PeerAddr(), helloFrame(2, id, nonce), func(byte, []byte) []byte { return nil })
	if len(types) >= 2 && types[0] == 1 && types[1] == 2 {
		p := payloads[0]
		if found := legacyGuess(payloads[1], nonce, p[:16], p[16:32]); len(found) > 0 {
			t.Fatalf("secret guessed offline from a version-2 handshake: %v", found)
		}
	}
	if len(types) != 1 || types[0] != 12 || binary.BigEndian.Uint16(payloads[0]) != 2 {
		t.Fatalf("answer to a version-2 hello: types %v; want one error(version)", types)
	}

	// Version 4 without the secret: the node sends its hello and its pake
	// share, and answers a wrong confirmation with error(auth): no MAC of
	// its own, nothing a candidate can be checked against.
	base, _ := hex.DecodeString(ristrettoBase)
	types, payloads = recordHandshake(t, a.PeerAddr(), helloFrame(4, id, nonce), func(typ byte, _ []byte) []byte {
		switch typ {
		case 1: // hello: send a share
			return append([]byte{4, 0x20, 0, 0, 0, 32}, base...)
		case 0x20: // the node's share: a guessed confirmation
			return append([]byte{4, 2, 0, 0, 0, 32}, make([]byte, 32)...)
		}
		return nil
	})
	if len(types) != 3 || types[0] != 1 || types[1] != 0x20 || types[2] != 12 || binary.BigEndian.Uint16(payloads[2]) != 3 {
		t.Fatalf("version-4 handshake without the secret: frames %v; want hello, pake, error(auth)", types)
	}
	// Every 32 bytes the node sent, tried as a version-2 MAC.
	hello := payloads[0]
	for _, p := range [][]byte{payloads[1], hello[:32]} {
		if found := legacyGuess(p, nonce, hello[:16], hello[16:32]); len(found) > 0 {
			t.Fatalf("a candidate matches the version-4 record: %v", found)
		}
	}
	if got := a.Metrics().Value("netlab_peer_connections_rejected_total", `reason="auth"`); got != 1 {
		t.Errorf(`connections_rejected_total{reason="auth"} = %v, want 1`, got)
	}
	if got := a.Metrics().Value("netlab_peer_connections_rejected_total", `reason="version"`); got != 1 {
		t.Errorf(`connections_rejected_total{reason="version"} = %v, want 1`, got)
	}
}

// Protocol version 4 ids are 33 bytes: a node refuses a hello of every
// earlier version, in an open swarm too, with error(version) in that
// version, saying which version it speaks.
func TestPeer_EarlierVersionsRefused(t *testing.T) {
	nw := e2e.NewPeerNetwork(t)
	a := e2e.StartPeer(t, nw, "a", nil)
	id, nonce := make([]byte, 16), make([]byte, 16)
	_, _ = rand.Read(id)
	_, _ = rand.Read(nonce)
	for _, v := range []byte{1, 2, 3} {
		conn := e2e.Dial(t, a.PeerAddr())
		_ = conn.SetDeadline(time.Now().Add(e2e.IOTimeout))
		if _, err := conn.Write(helloFrame(v, id, nonce)); err != nil {
			t.Fatal(err)
		}
		got, typ, payload, err := peerFrame(conn)
		conn.Close()
		if err != nil || typ != 12 || got != v || len(payload) < 4 || binary.BigEndian.Uint16(payload) != 2 ||
			!strings.Contains(string(payload[4:]), "protocol version 4 only") {
			t.Fatalf("answer to a version-%d hello: version %d, type %d, %q, %v; want error(version) in version %d", v, got, typ, payload, err, v)
		}
	}
	if got := a.Metrics().Value("netlab_peer_connections_rejected_total", `reason="version"`); got != 3 {
		t.Errorf(`connections_rejected_total{reason="version"} = %v, want 3`, got)
	}
}

// A download between two nodes with a secret works, and through a relay
// that records every byte, none of the file's content is on the wire.
func TestPeer_SecretSwarmEncryptsTransfers(t *testing.T) {
	nw := e2e.NewPeerNetwork(t)
	a := e2e.StartPeer(t, nw, "a", map[string]string{"PEER_SECRET": e2eShortSecret})
	r := startRecordingRelay(t, networkGateway(t, nw), a.PeerAddr())
	// MAX_PEERS 1: b keeps the relayed connection.
	b := e2e.StartPeer(t, nw, "b", map[string]string{"PEER_SECRET": e2eShortSecret, "PEERS": r.addr, "MAX_PEERS": "1"})
	marker := []byte("netlab-e2e-plaintext-marker|")
	data := bytes.Repeat(marker, (1<<20)/len(marker))
	id := a.Put("marked.txt", data)
	b.WaitInSwarm(id, 1)
	b.StartDownload(id)
	b.WaitComplete(id)
	b.RequireFile("marked.txt", sha256.Sum256(data))

	rec := r.recorded()
	if len(rec) < len(data) {
		t.Fatalf("the relay carried %d bytes, less than the file (%d): the download went around it", len(rec), len(data))
	}
	if bytes.Contains(rec, marker[:16]) {
		t.Fatal("the file's content crossed the relay in the clear")
	}
}

// networkGateway is the host's address on the network: containers on it
// reach a listener of the test there.
func networkGateway(t *testing.T, nw *testcontainers.DockerNetwork) string {
	t.Helper()
	out, err := exec.Command("docker", "network", "inspect", "-f", "{{range .IPAM.Config}}{{.Gateway}} {{end}}", nw.Name).Output()
	if err != nil {
		t.Fatalf("docker network inspect: %v", err)
	}
	for _, f := range strings.Fields(string(out)) {
		if ip := net.ParseIP(f); ip != nil && ip.To4() != nil {
			return f
		}
	}
	t.Fatalf("network %s has no IPv4 gateway: %q", nw.Name, out)
	return ""
}

// recordingRelay forwards connections to a target and records the bytes
// in both directions.
type recordingRelay struct {
	addr string
	mu   sync.Mutex
	buf  bytes.Buffer
}

func startRecordingRelay(t *testing.T, host, target string) *recordingRelay {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	r := &recordingRelay{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.forward(c, target)
		}
	}()
	return r
}

func (r *recordingRelay) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.Write(p)
}

func (r *recordingRelay) recorded() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.buf.Bytes())
}

func (r *recordingRelay) forward(c net.Conn, target string) {
	defer c.Close()
	s, err := net.DialTimeout("tcp", target, e2e.IOTimeout)
	if err != nil {
		return
	}
	defer s.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(io.MultiWriter(s, r), c); s.Close(); done <- struct{}{} }()
	go func() { _, _ = io.Copy(io.MultiWriter(c, r), s); c.Close(); done <- struct{}{} }()
	<-done
	<-done
}
