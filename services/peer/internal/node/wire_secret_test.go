package node_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlab/netlab/services/peer/internal/cpace"
	"github.com/netlab/netlab/services/peer/internal/node"
	"github.com/netlab/netlab/services/peer/internal/wire"
)

// relay forwards connections to target and records the bytes of each
// direction of the first one.
type relay struct {
	ln             net.Listener
	mu             sync.Mutex
	toAcceptor     bytes.Buffer // what the dialing node sent
	toInitiator    bytes.Buffer
	connections    atomic.Int32
	forwardedBytes atomic.Int64
}

func startRelay(t *testing.T, target string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.forward(t, c, target)
		}
	}()
	return r
}

func (r *relay) forward(t *testing.T, c net.Conn, target string) {
	defer c.Close()
	s, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer s.Close()
	first := r.connections.Add(1) == 1
	rec := func(b *bytes.Buffer) io.Writer {
		if !first {
			return io.Discard
		}
		return writerFunc(func(p []byte) (int, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.forwardedBytes.Add(int64(len(p)))
			return b.Write(p)
		})
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(io.MultiWriter(s, rec(&r.toAcceptor)), c); s.Close(); done <- struct{}{} }()
	go func() { _, _ = io.Copy(io.MultiWriter(c, rec(&r.toInitiator)), s); c.Close(); done <- struct{}{} }()
	<-done
	<-done
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// frames splits a recorded stream into its frames (type and payload).
func frames(t *testing.T, b []byte) (types []wire.Type, payloads [][]byte) {
	t.Helper()
	r := bytes.NewReader(b)
	for r.Len() > 0 {
		typ, _, p, err := wire.ReadFrameVersion(r, nil, wire.AnyVersion)
		if err != nil {
			t.Fatalf("recorded stream: %v", err)
		}
		types, payloads = append(types, typ), append(payloads, p)
	}
	return types, payloads
}

// A download between two nodes with a secret, through a relay that
// records it: the file's content never appears on the wire, every frame
// after the handshake is sealed, and the offline guesses that broke
// versions 1 and 2 find nothing in the recorded handshake.
func TestNode_SecretSwarmIsSealedOnTheWire(t *testing.T) {
	a := startNode(t, t.TempDir(), map[string]string{"PEER_SECRET": guessSecret, "PIECE_SIZE": "16KiB"})
	marker := []byte("netlab-plaintext-marker;")
	if err := os.WriteFile(filepath.Join(a.dir, "m.txt"), bytes.Repeat(marker, 20000), 0o600); err != nil {
		t.Fatal(err)
	}
	r := startRelay(t, a.addr())
	// MAX_PEERS 1: b keeps the relayed connection and does not dial a
	// second time around the relay.
	b := startNode(t, t.TempDir(), map[string]string{"PEERS": r.ln.Addr().String(), "PEER_SECRET": guessSecret, "MAX_PEERS": "1"})
	b.inSwarm("m.txt")
	b.download("m.txt", 30*time.Second)
	got, err := os.ReadFile(filepath.Join(b.dir, "m.txt"))
	if err != nil || !bytes.Equal(got, bytes.Repeat(marker, 20000)) {
		t.Fatalf("downloaded file differs: %v", err)
	}
	r.mu.Lock()
	up, down := bytes.Clone(r.toAcceptor.Bytes()), bytes.Clone(r.toInitiator.Bytes())
	r.mu.Unlock()
	if len(down) < 20000*len(marker) {
		t.Fatalf("the relay forwarded %d bytes to the downloader, less than the file", len(down))
	}
	if bytes.Contains(down, marker[:12]) || bytes.Contains(up, marker[:12]) {
		t.Fatal("the file's content is on the wire in the clear")
	}
	ut, up2 := frames(t, up)
	dt, dp := frames(t, down)
	wantHead := []wire.Type{wire.TypeHello, wire.TypePake, wire.TypeAuth}
	for i, want := range wantHead {
		if ut[i] != want || dt[i] != want {
			t.Fatalf("handshake frame %d: %s and %s, want %s", i, ut[i], dt[i], want)
		}
	}
	for i, typ := range append(ut[3:], dt[3:]...) {
		if typ != wire.TypeSealed {
			t.Fatalf("frame %d after the handshake is %s, not sealed", i, typ)
		}
	}
	if found := passiveGuess(t, up2, dp); len(found) > 0 {
		t.Fatalf("offline guesses over the recorded handshake single out %v", found)
	}
}

// passiveGuess tries candidate secrets (the secret among them) against a
// recorded version-3 handshake the way versions 1 and 2 fell: recompute
// each auth frame from the candidate and what the record shows. It
// returns the candidates that match.
func passiveGuess(t *testing.T, up, down [][]byte) []string {
	t.Helper()
	hi, err := wire.Decode(wire.TypeHello, up[0])
	if err != nil {
		t.Fatal(err)
	}
	ha, err := wire.Decode(wire.TypeHello, down[0])
	if err != nil {
		t.Fatal(err)
	}
	helloI, helloA := hi.(*wire.Hello), ha.(*wire.Hello)
	ya, yb := [32]byte(up[1]), [32]byte(down[1])
	authI, authA := [32]byte(up[2]), [32]byte(down[2])
	ci, sid := node.TestPakeInputs(helloI, helloA)
	y, err := cpace.RandomScalar(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	for c := range candidates(len(guessSecret)) {
		if len(list) == 300 {
			break
		}
		list = append(list, c)
	}
	var found []string
	for _, c := range append(list, guessSecret) {
		legacy := legacyMAC(c, helloI.Nonce, helloA.NodeID, helloA.Nonce) == authA ||
			legacyMAC(c, helloA.Nonce, helloI.NodeID, helloI.Nonce) == authI
		// Without either side's scalar the best an eavesdropper can do
		// is its own: the key it gets matches no confirmation.
		p, err := cpace.Start(y, []byte(c), ci, sid)
		if err != nil {
			t.Fatal(err)
		}
		isk, err := p.Finish(yb, true)
		if err != nil {
			t.Fatal(err)
		}
		ki, ka, err := node.ConfirmKeysForTest(isk)
		if err != nil {
			t.Fatal(err)
		}
		if legacy || node.TestConfirmation(ki, ya, yb) == authI || node.TestConfirmation(ka, ya, yb) == authA {
			found = append(found, c)
		}
	}
	return found
}

// flipConn flips one bit of the next write once armed.
type flipConn struct {
	net.Conn
	armed atomic.Bool
}

func (f *flipConn) Write(p []byte) (int, error) {
	if f.armed.CompareAndSwap(true, false) && len(p) > wire.HeaderSize+2 {
		p = bytes.Clone(p)
		p[wire.HeaderSize+2] ^= 0x10
	}
	return f.Conn.Write(p)
}

// A sealed frame with one bit flipped on the way closes the connection,
// counted as tampered.
func TestNode_TamperedFrameClosesTheConnection(t *testing.T) {
	tn := startNode(t, t.TempDir(), map[string]string{"PEER_SECRET": guessSecret})
	c, _ := dialWire(t, tn)
	fc := &flipConn{Conn: c}
	wc := wire.NewConn(fc, 5*time.Second)
	if _, err := node.GreetForTest(wc, guessSecret, wire.RekeyLimits{}); err != nil {
		t.Fatal(err)
	}
	if !wc.Encrypted() {
		t.Fatal("connection with a secret not sealed")
	}
	if err := wc.Send(&wire.GetCatalog{}); err != nil {
		t.Fatal(err)
	}
	if _, err := wc.Receive(0); err != nil {
		t.Fatalf("catalog over the sealed connection: %v", err)
	}
	fc.armed.Store(true)
	if err := wc.Send(&wire.GetCatalog{}); err != nil {
		t.Fatal(err)
	}
	msg, err := wc.Receive(0)
	if e, ok := msg.(*wire.Error); !ok || e.Code != wire.ErrorProtocol {
		t.Fatalf("answer to a tampered frame: %#v, %v; want error(protocol)", msg, err)
	}
	if _, err := wc.Receive(0); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("connection still open after a tampered frame: %v", err)
	}
	waitInvalid(t, tn, "tampered", 1)
}

// The whole handshake has one deadline: an initiator that sends each
// frame slowly, each well within the I/O timeout, is cut off once
// DIAL_TIMEOUT has passed.
func TestNode_HandshakeHasOneDeadline(t *testing.T) {
	tn := startNode(t, t.TempDir(), map[string]string{"PEER_SECRET": guessSecret, "DIAL_TIMEOUT": "500ms", "IO_TIMEOUT": "10s"})
	c, wc := dialWire(t, tn)
	wc.SetVersion(wire.Version)
	if err := wc.Send(&wire.Hello{NodeID: [16]byte{1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := wc.Receive(0); err != nil {
		t.Fatal(err)
	}
	// The pake frame's 32-byte payload a byte every 100 ms: 3.2 s in all.
	frame, err := wire.AppendFrameVersion(nil, wire.Version, &wire.Pake{Element: [32]byte{1}})
	if err != nil {
		t.Fatal(err)
	}
	var sent atomic.Int32
	go func() {
		// The header at once, then the payload a byte at a time: each
		// chunk within IO_TIMEOUT, the whole far beyond DIAL_TIMEOUT.
		if _, err := c.Write(frame[:wire.HeaderSize]); err != nil {
			return
		}
		sent.Add(wire.HeaderSize)
		for _, b := range frame[wire.HeaderSize:] {
			time.Sleep(100 * time.Millisecond)
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			sent.Add(1)
		}
	}()
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	var one [1]byte
	if _, err := c.Read(one[:]); err == nil {
		t.Fatalf("the node sent a byte (%#x) to a handshake it should have cut off", one[0])
	} else if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the node kept the slow handshake open")
	}
	if n := sent.Load(); int(n) >= len(frame) {
		t.Fatalf("the whole pake frame (%d bytes) went through before the node closed", n)
	}
}
