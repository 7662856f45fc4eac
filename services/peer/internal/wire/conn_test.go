package wire_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"sync"
	"testing"
	"testing/iotest"
	"time"
	"unsafe"

	"github.com/netlab/netlab/services/peer/internal/wire"
	"github.com/netlab/netlab/services/peer/internal/wire/wiretest"
)

const chunk = 64 << 10

// fakeConn reads from r and records every Write; deadlines are no-ops.
type fakeConn struct {
	wiretest.NopConn
	r      io.Reader
	writes [][]byte
}

func (f *fakeConn) Read(p []byte) (int, error) {
	if f.r == nil {
		return 0, io.EOF
	}
	return f.r.Read(p)
}

func (f *fakeConn) Write(p []byte) (int, error) {
	f.writes = append(f.writes, bytes.Clone(p))
	return len(p), nil
}

func (f *fakeConn) written() []byte { return bytes.Join(f.writes, nil) }

// pipe returns two Conns joined by net.Pipe.
func pipe(t *testing.T, timeout time.Duration) (*wire.Conn, *wire.Conn) {
	t.Helper()
	a, b := net.Pipe()
	ca, cb := wire.NewConn(a, timeout), wire.NewConn(b, timeout)
	t.Cleanup(func() {
		ca.Close()
		cb.Close()
	})
	return ca, cb
}

// rawPipe returns a Conn and the raw other end of its pipe.
func rawPipe(t *testing.T, timeout time.Duration) (net.Conn, *wire.Conn) {
	t.Helper()
	raw, b := net.Pipe()
	c := wire.NewConn(b, timeout)
	t.Cleanup(func() {
		raw.Close()
		c.Close()
	})
	return raw, c
}

func TestConn_PipeBothWays(t *testing.T) {
	a, b := pipe(t, 5*time.Second)
	a.SetVersion(wire.Version)
	b.SetVersion(wire.Version)
	msgs := samples()
	var wg sync.WaitGroup
	send := func(c *wire.Conn, name string) {
		for _, s := range msgs {
			if err := c.Send(s.msg); err != nil {
				t.Errorf("%s: Send %s: %v", name, s.name, err)
				return
			}
		}
	}
	recv := func(c *wire.Conn, name string) {
		for _, s := range msgs {
			m, err := c.Receive(0)
			if err != nil {
				t.Errorf("%s: Receive %s: %v", name, s.name, err)
				return
			}
			if !reflect.DeepEqual(m, s.msg) {
				t.Errorf("%s: got %+v, want %+v", name, m, s.msg)
			}
		}
	}
	wg.Go(func() { send(a, "a") })
	wg.Go(func() { recv(b, "b") })
	wg.Go(func() { send(b, "b") })
	wg.Go(func() { recv(a, "a") })
	wg.Wait()

	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Receive(0); err != io.EOF {
		t.Fatalf("Receive after the peer closed: %v, want io.EOF", err)
	}
}

// assertReceiveTimesOut fails unless c.Receive(wait) ends with a deadline
// error, and within 10 s: the deadlines under test are far shorter.
func assertReceiveTimesOut(t *testing.T, c *wire.Conn, wait time.Duration) {
	t.Helper()
	start := time.Now()
	_, err := c.Receive(wait)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Receive(%v) = %v, want deadline exceeded", wait, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Receive(%v) took %v", wait, d)
	}
}

func TestConn_ReceiveTimeoutSilentPeer(t *testing.T) {
	tests := []struct {
		name          string
		timeout, wait time.Duration
	}{
		{"timeout", 50 * time.Millisecond, 0},
		{"wait overrides timeout", time.Minute, 50 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := pipe(t, tc.timeout)
			assertReceiveTimesOut(t, a, tc.wait)
		})
	}
}

// Once the first byte of a header is in, the rest must follow within the
// I/O timeout, however long the wait for the frame is: a header sent a
// byte at a time is cut off.
func TestConn_PartialHeaderCutOffAfterIOTimeout(t *testing.T) {
	raw, c := rawPipe(t, 100*time.Millisecond)
	frame := encode(t, &wire.GetPiece{ID: fid("f"), Index: 3})
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for _, b := range frame[:wire.HeaderSize] {
			if _, err := raw.Write([]byte{b}); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(60 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	_, err := c.Receive(time.Minute)
	if !errors.Is(err, wire.ErrHeaderTimeout) || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Receive of a trickled header = %v, want ErrHeaderTimeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("cut off after %v", d)
	}
}

// Wait too: a reader polling for unasked frames must not wait forever on a
// header that never completes.
func TestConn_WaitCutsOffAPartialHeader(t *testing.T) {
	raw, c := rawPipe(t, 100*time.Millisecond)
	go func() { _, _ = raw.Write([]byte{wire.Version1}) }()
	for {
		err := c.Wait(10 * time.Millisecond)
		if errors.Is(err, wire.ErrHeaderTimeout) {
			return
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Wait on a partial header = %v, want ErrHeaderTimeout", err)
		}
	}
}

func TestConn_StalledPayloadTimesOut(t *testing.T) {
	raw, c := rawPipe(t, 100*time.Millisecond)
	go func() {
		// A header and part of the payload, then silence.
		raw.Write(append(header(wire.Version1, wire.TypePiece, 100000), make([]byte, 1000)...))
	}()
	assertReceiveTimesOut(t, c, time.Minute)
}

// TestConn_SlowSenderSucceeds: a 1 MiB piece that takes several times the
// timeout in total arrives, because every 64 KiB chunk comes in time,
// whether it is read through the connection's buffer or straight into
// the caller's (SetPieceBuffers), whose larger reads still renew the
// deadline per chunk.
func TestConn_SlowSenderSucceeds(t *testing.T) {
	const (
		timeout = 300 * time.Millisecond
		pause   = 30 * time.Millisecond
	)
	want := &wire.Piece{ID: fid("f"), Index: 1, Data: pattern(1 << 20)}
	tests := []struct {
		name string
		send func(t *testing.T, raw net.Conn) error
	}{
		{"raw chunks with pauses", func(t *testing.T, raw net.Conn) error {
			frame := encode(t, want)
			for len(frame) > 0 {
				n := min(len(frame), chunk)
				if _, err := raw.Write(frame[:n]); err != nil {
					return err
				}
				frame = frame[n:]
				time.Sleep(pause)
			}
			return nil
		}},
		{"throttled conn", func(t *testing.T, raw net.Conn) error {
			c := wire.NewConn(raw, timeout)
			c.SetThrottle(func(int) error {
				time.Sleep(pause)
				return nil
			})
			return c.Send(want)
		}},
	}
	for _, callersBuffer := range []bool{false, true} {
		for _, tc := range tests {
			name := tc.name
			if callersBuffer {
				name += " into the caller's buffer"
			}
			t.Run(name, func(t *testing.T) {
				raw, c := rawPipe(t, timeout)
				if callersBuffer {
					withPieceBuffers(c)
				}
				receiveSlowPiece(t, c, want, timeout, func() error { return tc.send(t, raw) })
			})
		}
	}
}

// receiveSlowPiece receives want on c while send sends it, and checks it
// arrived whole and took longer than timeout (else the test proves
// nothing about deadlines).
func receiveSlowPiece(t *testing.T, c *wire.Conn, want *wire.Piece, timeout time.Duration, send func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- send() }()
	start := time.Now()
	m, err := c.Receive(0)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	if d := time.Since(start); d < timeout {
		t.Fatalf("transfer took only %v; the test needs longer than the timeout %v", d, timeout)
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatal("piece arrived changed")
	}
	if err := <-done; err != nil {
		t.Fatalf("send: %v", err)
	}
}

func TestConn_Throttle(t *testing.T) {
	tests := []struct {
		name    string
		msg     wire.Message
		dataLen int
	}{
		{"1 MiB piece", &wire.Piece{ID: fid("a"), Index: 4, Data: pattern(1 << 20)}, 1 << 20},
		{"odd piece by value", wire.Piece{ID: fid("b"), Index: 5, Data: pattern(3*chunk + 123)}, 3*chunk + 123},
		{"small piece", &wire.Piece{ID: fid("c"), Data: pattern(10)}, 10},
		{"largest piece", &wire.Piece{ID: fid("d"), Data: make([]byte, wire.MaxPayload-37)}, wire.MaxPayload - 37},
		{"empty piece", &wire.Piece{ID: fid("e")}, 0},
		{"not a piece", &wire.Manifest{ID: fid("m"), Name: "m", Pieces: make([][32]byte, 4000)}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc := &fakeConn{}
			c := wire.NewConn(fc, time.Second)
			var total, calls int
			c.SetThrottle(func(n int) error {
				if n <= 0 || n > chunk {
					t.Errorf("throttle(%d)", n)
				}
				total += n
				calls++
				return nil
			})
			if err := c.Send(tc.msg); err != nil {
				t.Fatal(err)
			}
			if total != tc.dataLen {
				t.Errorf("throttle total %d, want %d", total, tc.dataLen)
			}
			if !bytes.Equal(fc.written(), encode(t, tc.msg)) {
				t.Error("bytes written differ from AppendFrame")
			}
			for i, w := range fc.writes {
				limit := chunk
				if i == 0 {
					limit += wire.HeaderSize
				}
				if len(w) > limit {
					t.Errorf("write %d is %d bytes, over %d", i, len(w), limit)
				}
			}
			if _, ok := tc.msg.(*wire.Manifest); !ok && calls != len(fc.writes) && tc.dataLen > 0 {
				t.Errorf("%d throttle calls for %d writes", calls, len(fc.writes))
			}
		})
	}
}

func TestConn_ThrottleErrorAborts(t *testing.T) {
	fc := &fakeConn{}
	c := wire.NewConn(fc, time.Second)
	stop := errors.New("stop")
	calls := 0
	c.SetThrottle(func(int) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if err := c.Send(wire.Piece{ID: fid("a"), Data: make([]byte, 1<<20)}); !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the throttle's error", err)
	}
	if len(fc.writes) != 2 {
		t.Fatalf("%d writes, want 2 (the chunks before the refusal)", len(fc.writes))
	}
}

func TestConn_SendWrites(t *testing.T) {
	bigCatalog := &wire.Catalog{}
	for i := range 3000 {
		bigCatalog.Files = append(bigCatalog.Files, wire.CatalogEntry{ID: fid("f"), Name: fmt.Sprintf("%0100d", i)})
	}
	tests := []struct {
		name   string
		msg    wire.Message
		writes int
	}{
		{"small frame in one write", wire.GetPiece{ID: fid("g"), Index: 1}, 1},
		{"empty payload", wire.GetCatalog{}, 1},
		{"one full chunk", wire.Piece{ID: fid("h"), Data: make([]byte, chunk-37)}, 1},
		{"large catalog in chunks", bigCatalog, (len(bigCatalog.AppendPayload(nil)) + chunk - 1) / chunk},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc := &fakeConn{}
			c := wire.NewConn(fc, time.Second)
			if err := c.Send(tc.msg); err != nil {
				t.Fatal(err)
			}
			if len(fc.writes) != tc.writes {
				t.Fatalf("%d writes, want %d", len(fc.writes), tc.writes)
			}
			if !bytes.Equal(fc.written(), encode(t, tc.msg)) {
				t.Fatal("bytes written differ from AppendFrame")
			}
		})
	}
}

func TestConn_SendRefusesWithoutWriting(t *testing.T) {
	tests := []struct {
		name string
		msg  wire.Message
		want error
	}{
		{"piece too large", &wire.Piece{Data: make([]byte, wire.MaxPayload-36)}, wire.ErrFrameTooLarge},
		{"piece value too large", wire.Piece{Data: make([]byte, wire.MaxPayload)}, wire.ErrFrameTooLarge},
		{"invalid peers", wire.Peers{Addrs: []string{""}}, wire.ErrInvalidMessage},
		{"too large manifest", wire.Manifest{ID: fid("a"), Name: "a", Pieces: make([][32]byte, wire.MaxPayload/32)}, wire.ErrFrameTooLarge},
		{"piece of no known hash", &wire.Piece{Data: make([]byte, 1<<20)}, wire.ErrInvalidMessage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc := &fakeConn{}
			c := wire.NewConn(fc, time.Second)
			c.SetThrottle(func(int) error {
				t.Error("throttle called for a refused message")
				return nil
			})
			if err := c.Send(tc.msg); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if len(fc.writes) != 0 {
				t.Fatalf("%d writes for a refused message", len(fc.writes))
			}
		})
	}
}

func TestConn_ReceiveErrors(t *testing.T) {
	good := encode(t, wire.GetPeers{})
	tests := []struct {
		name    string
		stream  []byte
		want    error
		inStep  bool // the next frame is still readable
		timeout time.Duration
	}{
		{"wrong version", header(7, wire.TypeGetPeers, 0), wire.ErrVersion, false, time.Second},
		{"too large", header(wire.Version1, wire.TypePiece, wire.MaxPayload+1), wire.ErrFrameTooLarge, false, time.Second},
		{"unknown type", header(wire.Version1, 99, 0), wire.ErrUnknownType, false, time.Second},
		{"partial header", []byte{wire.Version1, 1}, io.ErrUnexpectedEOF, false, time.Second},
		{"partial payload", append(header(wire.Version1, wire.TypeAuth, 32), 1, 2), io.ErrUnexpectedEOF, false, time.Second},
		{"bad payload", append(header(wire.Version1, wire.TypeAuth, 3), 1, 2, 3), &wire.DecodeError{}, true, time.Second},
		{"bad payload without deadlines", append(header(wire.Version1, wire.TypeAuth, 3), 1, 2, 3), &wire.DecodeError{}, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stream := tc.stream
			if tc.inStep {
				stream = append(bytes.Clone(stream), good...)
			}
			c := wire.NewConn(&fakeConn{r: bytes.NewReader(stream)}, tc.timeout)
			_, err := c.Receive(0)
			if de := (*wire.DecodeError)(nil); errors.As(tc.want, &de) {
				if !errors.As(err, &de) {
					t.Fatalf("err = %v, want *DecodeError", err)
				}
			} else if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !tc.inStep {
				return
			}
			m, err := c.Receive(0)
			if err != nil {
				t.Fatalf("next frame: %v", err)
			}
			if _, ok := m.(*wire.GetPeers); !ok {
				t.Fatalf("next frame: %T", m)
			}
		})
	}
}

// repeatReader yields b over and over.
type repeatReader struct {
	b   []byte
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.b[r.off:])
	r.off = (r.off + n) % len(r.b)
	return n, nil
}

func TestConn_ReceiveReusesBuffer(t *testing.T) {
	frame := encode(t, wire.Piece{ID: fid("a"), Data: pattern(1 << 20)})
	c := wire.NewConn(&fakeConn{r: &repeatReader{b: frame}}, time.Second)
	if _, err := c.Receive(0); err != nil { // grows the buffer
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := c.Receive(0); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 {
		t.Fatalf("%v allocations per Receive of a piece", allocs)
	}
}

func TestConn_ReceiveReadsPieceDataIntoCallersBuffers(t *testing.T) {
	first := wire.Piece{ID: fid("1"), Index: 7, Data: pattern(3*chunk + 11)}
	second := wire.Piece{ID: fid("2"), Index: 8, Data: pattern(100)}
	tooBig := wire.Piece{ID: fid("3"), Index: 9, Data: pattern(5000)}
	stream := bytes.Join([][]byte{encode(t, first), encode(t, second), encode(t, tooBig), encode(t, wire.GetCatalog{})}, nil)
	c := wire.NewConn(&fakeConn{r: bytes.NewReader(stream)}, time.Second)
	var given [][]byte
	c.SetPieceBuffers(func(n int) []byte {
		if n > 4096 && n < 10000 {
			return nil // declined: the connection's own buffer is used
		}
		b := make([]byte, n)
		given = append(given, b)
		return b
	})
	var got []wire.Message
	for range 4 {
		m, err := c.Receive(0)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	for i, want := range []wire.Piece{first, second, tooBig} {
		p, ok := got[i].(*wire.Piece)
		if !ok || p.ID != want.ID || p.Index != want.Index || !bytes.Equal(p.Data, want.Data) {
			t.Fatalf("message %d = %v, want piece %d", i, got[i], want.Index)
		}
	}
	if len(given) != 2 || &given[0][0] != &got[0].(*wire.Piece).Data[0] || &given[1][0] != &got[1].(*wire.Piece).Data[0] {
		t.Fatal("piece data was not read into the caller's buffers")
	}
	if _, ok := got[3].(*wire.GetCatalog); !ok {
		t.Fatalf("stream out of step after the pieces: %v", got[3])
	}
}

func TestConn_ReceiveIntoCallersBufferReportsATruncatedPiece(t *testing.T) {
	frame := encode(t, wire.Piece{ID: fid("a"), Data: pattern(2 * chunk)})
	c := wire.NewConn(&fakeConn{r: bytes.NewReader(frame[:len(frame)-10])}, time.Second)
	c.SetPieceBuffers(func(n int) []byte { return make([]byte, n) })
	if _, err := c.Receive(0); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
	}
}

// readRecorder is a fakeConn that notes the buffer of every Read.
type readRecorder struct {
	fakeConn
	targets [][]byte
}

func (r *readRecorder) Read(p []byte) (int, error) {
	n, err := r.fakeConn.Read(p)
	r.targets = append(r.targets, p[:n])
	return n, err
}

// TestConn_ReceivePieceDataSkipsTheReadBuffer checks that piece data is
// read from the connection into the caller's buffer, not into the
// connection's read buffer and copied from there: only what the header's
// read brought in may take that way.
func TestConn_ReceivePieceDataSkipsTheReadBuffer(t *testing.T) {
	for _, size := range []int{chunk - 1, chunk, 5*chunk + 11, 1 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			want := wire.Piece{ID: fid("1"), Index: 7, Data: pattern(size)}
			stream := bytes.Join([][]byte{encode(t, want), encode(t, wire.GetCatalog{})}, nil)
			// Short reads, like a socket handing over what has arrived so
			// far.
			rec := &readRecorder{fakeConn: fakeConn{r: iotest.HalfReader(bytes.NewReader(stream))}}
			c := wire.NewConn(rec, time.Second)
			var buf []byte
			c.SetPieceBuffers(func(n int) []byte {
				buf = make([]byte, n)
				return buf
			})
			m, err := c.Receive(0)
			if err != nil {
				t.Fatal(err)
			}
			if p, ok := m.(*wire.Piece); !ok || !bytes.Equal(p.Data, want.Data) {
				t.Fatalf("received %v, want the piece", m)
			}
			direct := 0
			for _, p := range rec.targets {
				if len(p) > 0 && within(p, buf) {
					direct += len(p)
				}
			}
			// The first read (header and the start of the data) goes
			// through the read buffer; everything after it must not.
			if first := len(rec.targets[0]); direct < size-first {
				t.Fatalf("%d of %d data bytes read straight into the piece buffer, want at least %d", direct, size, size-first)
			}
			if m, err := c.Receive(0); err != nil || !reflect.DeepEqual(m, &wire.GetCatalog{}) {
				t.Fatalf("next frame = %v, %v; stream out of step", m, err)
			}
		})
	}
}

// within reports whether p lies inside buf's memory.
func within(p, buf []byte) bool {
	start := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	at := uintptr(unsafe.Pointer(unsafe.SliceData(p)))
	return at >= start && at+uintptr(len(p)) <= start+uintptr(len(buf))
}

// A connection sends and accepts frames of its own version only; the first
// frame, read with ReceiveFirst, may carry any version from 1 on.
func TestConn_Versions(t *testing.T) {
	var stream []byte
	for _, v := range []uint8{wire.Version1, wire.Version2, 3, 0} {
		frame := encode(t, wire.GetCatalog{})
		frame[0] = v
		stream = append(stream, frame...)
	}
	c := wire.NewConn(&fakeConn{r: bytes.NewReader(stream)}, time.Second)
	if c.Version() != wire.Version1 {
		t.Fatalf("new connection speaks %d, want 1", c.Version())
	}
	for _, want := range []uint8{wire.Version1, wire.Version2, 3} {
		m, v, err := c.ReceiveFirst(0)
		if err != nil || v != want || m.Type() != wire.TypeGetCatalog {
			t.Fatalf("ReceiveFirst = %v, %d, %v; want get_catalog of version %d", m, v, err, want)
		}
	}
	if _, _, err := c.ReceiveFirst(0); !errors.Is(err, wire.ErrVersion) {
		t.Fatalf("ReceiveFirst of version 0: %v, want ErrVersion", err)
	}

	frame := encode(t, wire.Announce{ID: fid("a"), Indexes: []uint32{1}})
	c = wire.NewConn(&fakeConn{r: bytes.NewReader(frame)}, time.Second)
	if _, err := c.Receive(0); !errors.Is(err, wire.ErrVersion) {
		t.Fatalf("version-1 connection received a version-2 frame: %v", err)
	}
	frame[0] = wire.Version1
	c = wire.NewConn(&fakeConn{r: bytes.NewReader(frame)}, time.Second)
	if _, _, err := c.ReceiveFirst(0); !errors.Is(err, wire.ErrUnknownType) {
		t.Fatalf("announce in a version-1 frame: %v, want ErrUnknownType", err)
	}

	fc := &fakeConn{}
	c = wire.NewConn(fc, time.Second)
	if err := c.Send(wire.Announce{ID: fid("a"), Indexes: []uint32{1}}); !errors.Is(err, wire.ErrUnknownType) || len(fc.writes) != 0 {
		t.Fatalf("version-1 connection sent an announce: %v, %d writes", err, len(fc.writes))
	}
	c.SetVersion(wire.Version2)
	for _, m := range []wire.Message{wire.Announce{ID: fid("a"), Indexes: []uint32{1}}, wire.Piece{ID: fid("a"), Data: []byte("x")}} {
		if err := c.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range fc.writes {
		if w[0] != wire.Version2 {
			t.Fatalf("version-2 connection wrote a frame of version %d", w[0])
		}
	}
}

// Wait returns once a header is in, consumes nothing, and after a timeout
// leaves the stream in step.
func TestConn_WaitConsumesNothing(t *testing.T) {
	raw, c := rawPipe(t, 5*time.Second)
	start := time.Now()
	if err := c.Wait(20 * time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Wait on a silent peer: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("Wait ignored its wait")
	}
	frame := encode(t, wire.GetPiece{ID: fid("a"), Index: 7})
	go func() {
		_, _ = raw.Write(frame[:3])
		time.Sleep(50 * time.Millisecond)
		_, _ = raw.Write(frame[3:])
	}()
	for {
		err := c.Wait(10 * time.Millisecond)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Wait: %v", err)
		}
	}
	m, err := c.Receive(0)
	if g, ok := m.(*wire.GetPiece); err != nil || !ok || g.Index != 7 {
		t.Fatalf("Receive after Wait = %+v, %v", m, err)
	}
}

// deadlineConn records the write deadlines set on it.
type deadlineConn struct {
	fakeConn
	writeDeadlines []time.Time
}

func (d *deadlineConn) SetWriteDeadline(t time.Time) error {
	d.writeDeadlines = append(d.writeDeadlines, t)
	return nil
}

// SendWithin caps the deadline of that one Send, never lengthens it, and
// leaves later Sends to the connection's own timeout.
func TestConn_SendWithinCapsOneSend(t *testing.T) {
	dc := &deadlineConn{}
	c := wire.NewConn(dc, time.Minute)
	before := time.Now()
	if err := c.SendWithin(&wire.GetCatalog{}, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := c.SendWithin(&wire.GetCatalog{}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(&wire.GetCatalog{}); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	d := dc.writeDeadlines
	if len(d) != 3 {
		t.Fatalf("%d write deadlines set, want 3", len(d))
	}
	if d[0].After(after.Add(time.Millisecond)) {
		t.Errorf("SendWithin 1ms set a deadline %v after the call", d[0].Sub(before))
	}
	for i, dl := range d[1:] {
		if dl.Before(before.Add(time.Minute)) || dl.After(after.Add(time.Minute)) {
			t.Errorf("deadline %d is %v after the calls, want the I/O timeout (1m)", i+1, dl.Sub(before))
		}
	}

	// On a pipe nobody reads, with no I/O timeout at all, it returns.
	_, stuck := rawPipe(t, 0)
	if err := stuck.SendWithin(&wire.Error{Code: wire.ErrorShutdown}, 20*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("SendWithin to a peer that does not read = %v, want a deadline error", err)
	}
}
