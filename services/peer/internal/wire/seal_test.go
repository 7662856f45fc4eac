package wire_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/netlab/netlab/services/peer/internal/content"
	"github.com/netlab/netlab/services/peer/internal/wire"
	"github.com/netlab/netlab/services/peer/internal/wire/wiretest"
)

// memConn reads from r and records what is written.
type memConn struct {
	wiretest.NopConn
	r io.Reader
	w bytes.Buffer
}

func (m *memConn) Read(b []byte) (int, error) {
	if m.r == nil {
		return 0, io.EOF
	}
	return m.r.Read(b)
}
func (m *memConn) Write(b []byte) (int, error) { return m.w.Write(b) }

// testKey is the key 00 01 … 1f, the one in docs/peer-protocol.md.
func testKey() [wire.KeySize]byte {
	var k [wire.KeySize]byte
	for i := range k {
		k[i] = byte(i)
	}
	return k
}

func otherKey() [wire.KeySize]byte {
	return [wire.KeySize]byte(bytes.Repeat([]byte{0xa5}, wire.KeySize))
}

// sealedConn is a version-3 Conn over m, sealed: it sends with send and
// receives with recv.
func sealedConn(t testing.TB, m *memConn, send, recv [wire.KeySize]byte, lim wire.RekeyLimits) *wire.Conn {
	t.Helper()
	c := wire.NewConn(m, 0)
	c.SetVersion(wire.Version4)
	if err := c.Encrypt(wire.Keys{Send: send, Receive: recv}, lim); err != nil {
		t.Fatal(err)
	}
	return c
}

// sealAll sends msgs on a sealed Conn and returns the bytes on the wire.
func sealAll(t testing.TB, lim wire.RekeyLimits, msgs ...wire.Message) ([]byte, *wire.Conn) {
	t.Helper()
	m := &memConn{}
	c := sealedConn(t, m, testKey(), otherKey(), lim)
	for _, msg := range msgs {
		if err := c.Send(msg); err != nil {
			t.Fatalf("send %s: %v", msg.Type(), err)
		}
	}
	return m.w.Bytes(), c
}

// openAll receives n messages from wire bytes b with the matching keys.
func openAll(t testing.TB, b []byte, lim wire.RekeyLimits, n int) ([]wire.Message, *wire.Conn, error) {
	t.Helper()
	c := sealedConn(t, &memConn{r: bytes.NewReader(b)}, otherKey(), testKey(), lim)
	var out []wire.Message
	for range n {
		msg, err := c.Receive(0)
		if err != nil {
			return out, c, err
		}
		out = append(out, cloneMsg(msg))
	}
	return out, c, nil
}

// cloneMsg copies what aliases the Conn's buffer.
func cloneMsg(m wire.Message) wire.Message {
	b, _ := wire.AppendFrameVersion(nil, wire.Version, m)
	got, _ := wire.Decode(m.Type(), b[wire.HeaderSize:])
	return got
}

func TestSealed_EveryMessageRoundTrips(t *testing.T) {
	var msgs []wire.Message
	for _, s := range samples() {
		msgs = append(msgs, s.msg)
	}
	b, _ := sealAll(t, wire.DefaultRekey, msgs...)
	if bytes.Contains(b, pattern(100)) || bytes.Contains(b, []byte("peer-1:8001")) {
		t.Fatal("plaintext on the wire")
	}
	// Every frame on the wire is sealed.
	for rest := b; len(rest) > 0; {
		typ, v, payload, err := wire.ReadFrameVersion(bytes.NewReader(rest), nil, wire.Version4)
		if err != nil || typ != wire.TypeSealed || v != wire.Version4 {
			t.Fatalf("frame on the wire: type %s version %d: %v", typ, v, err)
		}
		rest = rest[wire.HeaderSize+len(payload):]
	}
	got, _, err := openAll(t, b, wire.DefaultRekey, len(msgs))
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range samples() {
		if !reflect.DeepEqual(got[i], s.msg) {
			t.Errorf("%s: got %#v", s.name, got[i])
		}
	}
}

// Flipping any bit of a sealed frame's payload (ciphertext or tag) or of
// its length-carrying header fails authentication.
func TestSealed_AnyFlippedBitIsTampered(t *testing.T) {
	b, _ := sealAll(t, wire.DefaultRekey, &wire.GetPiece{ID: fid("f"), Index: 5})
	for i := wire.HeaderSize; i < len(b); i++ {
		for bit := range 8 {
			bad := bytes.Clone(b)
			bad[i] ^= 1 << bit
			if _, _, err := openAll(t, bad, wire.DefaultRekey, 1); !errors.Is(err, wire.ErrTampered) {
				t.Fatalf("byte %d bit %d flipped: %v, want ErrTampered", i, bit, err)
			}
		}
	}
}

// A frame replayed, dropped or moved is refused: nonces are counters.
func TestSealed_ReplayedOrReorderedFramesAreTampered(t *testing.T) {
	b, _ := sealAll(t, wire.DefaultRekey, &wire.GetCatalog{}, &wire.GetPeers{})
	first := b[:wire.HeaderSize+wire.SealOverhead]
	second := b[len(first):]
	for name, stream := range map[string][]byte{
		"replayed":  append(bytes.Clone(first), first...),
		"reordered": append(bytes.Clone(second), first...),
		"dropped":   second,
	} {
		got, _, err := openAll(t, stream, wire.DefaultRekey, 2)
		if !errors.Is(err, wire.ErrTampered) {
			t.Errorf("%s: got %v, %v; want ErrTampered", name, got, err)
		}
	}
}

func TestSealed_FrameInTheClearRefused(t *testing.T) {
	plain, err := wire.AppendFrameVersion(nil, wire.Version4, &wire.GetCatalog{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := openAll(t, plain, wire.DefaultRekey, 1); !errors.Is(err, wire.ErrNotSealed) {
		t.Fatalf("plain frame on a sealed connection: %v, want ErrNotSealed", err)
	}
}

func TestSealed_NeedsVersion3(t *testing.T) {
	c := wire.NewConn(&memConn{}, 0)
	c.SetVersion(wire.Version2)
	if err := c.Encrypt(wire.Keys{}, wire.DefaultRekey); err == nil {
		t.Fatal("Encrypt on a version-2 connection succeeded")
	}
}

// With small limits both sides move to the next key at the same frames,
// by count and by volume; a receiver that did not would fail.
func TestSealed_RekeysBeforeTheLimits(t *testing.T) {
	small := wire.RekeyLimits{Frames: 3, Bytes: 2000}
	var msgs []wire.Message
	for i := range 40 {
		msgs = append(msgs, &wire.Piece{ID: fid("f"), Index: uint32(i), Data: pattern(1 + i*37)})
	}
	b, tx := sealAll(t, small, msgs...)
	got, rx, err := openAll(t, b, small, len(msgs))
	if err != nil {
		t.Fatal(err)
	}
	for i := range msgs {
		if !reflect.DeepEqual(got[i], msgs[i]) {
			t.Fatalf("frame %d differs after rekeying", i)
		}
	}
	sent, _ := tx.Rekeys()
	_, received := rx.Rekeys()
	// 40 frames, at most 3 per key: at least 13 rekeys; the volume
	// limit forces more once the pieces grow.
	if sent < 13 || sent != received {
		t.Fatalf("rekeys: sender %d, receiver %d; want the same, at least 13", sent, received)
	}
	if _, _, err := openAll(t, b, wire.DefaultRekey, len(msgs)); !errors.Is(err, wire.ErrTampered) {
		t.Fatalf("a receiver that keeps its first key read every frame: %v", err)
	}
}

// SendPieceFile seals as Send does.
func TestSealed_SendPieceFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	data := pattern(200 << 10)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := &memConn{}
	c := sealedConn(t, m, testKey(), otherKey(), wire.DefaultRekey)
	if err := c.SendPieceFile(fid("f"), 3, f, 1000, 100<<10); err != nil {
		t.Fatal(err)
	}
	want, _ := sealAll(t, wire.DefaultRekey, &wire.Piece{ID: fid("f"), Index: 3, Data: data[1000 : 1000+100<<10]})
	if !bytes.Equal(m.w.Bytes(), want) {
		t.Fatal("SendPieceFile's sealed frame differs from Send's")
	}
}

// The sealed frame of docs/peer-protocol.md: get_piece for the BLAKE3
// file 00…1f, piece 5, the first frame under key 00…1f.
func TestSealed_DocumentVector(t *testing.T) {
	var d content.Hash
	for i := range d {
		d[i] = byte(i)
	}
	b, _ := sealAll(t, wire.DefaultRekey, &wire.GetPiece{ID: content.NewID(content.BLAKE3, d), Index: 5})
	const want = "04210000003607a2b5dfb72f87b80eafa13c12279d94dc4c46423a92743a9689ab9adfe4414b5040e6bc2af72ae10b351323aeb25b9d1f777f12aa6c"
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("sealed frame\n got %s\nwant %s", got, want)
	}
}

// FuzzSealedReceive: whatever byte stream arrives, a sealed Conn returns
// only the messages that were sealed, in their order, and fails on the
// first frame that was altered; it never panics.
func FuzzSealedReceive(f *testing.F) {
	msgs := []wire.Message{&wire.GetCatalog{}, &wire.Piece{ID: fid("f"), Index: 2, Data: pattern(300)}, &wire.Reject{Code: wire.RejectBusy}}
	sealed, _ := sealAll(f, wire.DefaultRekey, msgs...)
	f.Add(sealed)
	f.Add(sealed[:40])
	f.Add([]byte{4, 0x21, 0, 0, 0, 17})
	f.Fuzz(func(t *testing.T, stream []byte) {
		c := sealedConn(t, &memConn{r: bytes.NewReader(stream)}, otherKey(), testKey(), wire.DefaultRekey)
		for i := 0; ; i++ {
			m, err := c.Receive(0)
			if err != nil {
				return
			}
			if i >= len(msgs) || !reflect.DeepEqual(cloneMsg(m), msgs[i]) {
				t.Fatalf("frame %d accepted as %#v, which was not sealed there", i, m)
			}
		}
	})
}
