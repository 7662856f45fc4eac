package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/addrtest"
	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/tcp-echo/internal/client"
)

const shortTimeout = 200 * time.Millisecond

// written is what write, a result's WriteText or WriteJSON, writes; an
// error fails the test.
func written(t *testing.T, write func(io.Writer) error) *bytes.Buffer {
	t.Helper()
	var out bytes.Buffer
	if err := write(&out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func TestPyRepr(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"Hello, world", `b'Hello, world'`},
		{"", `b''`},
		{"it's", `b"it's"`},
		{`say "hi"`, `b'say "hi"'`},
		{`it's "x"`, `b'it\'s "x"'`},
		{`a\b`, `b'a\\b'`},
		{"\t\n\r", `b'\t\n\r'`},
		{"\x00\x0b\x0c\x1f\x7f\x80\xff", `b'\x00\x0b\x0c\x1f\x7f\x80\xff'`},
		{" ~", `b' ~'`},
		{"héllo", `b'h\xc3\xa9llo'`},
	}
	for _, tt := range tests {
		if got := client.PyRepr([]byte(tt.in)); got != tt.want {
			t.Errorf("PyRepr(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestClient_EchoDefaultHello(t *testing.T) {
	addr := startServer(t, echo)
	c := &client.Client{Addr: addr}
	res, err := c.Echo(t.Context(), []byte(client.DefaultMessage))
	if err != nil {
		t.Fatal(err)
	}
	out := written(t, res.WriteText)
	if got, want := out.String(), "Received b'Hello, world'\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
	if res.RTT <= 0 {
		t.Errorf("RTT = %v, want > 0", res.RTT)
	}
}

func TestClient_EchoLargeMessage(t *testing.T) {
	addr := startServer(t, echo)
	msg := bytes.Repeat([]byte("0123456789abcdef"), client.MaxMessageSize/16)
	res, err := (&client.Client{Addr: addr}).Echo(t.Context(), msg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.Received, msg) {
		t.Error("large message not echoed intact")
	}
}

func TestClient_EchoErrors(t *testing.T) {
	tests := []struct {
		name    string
		addr    func(t *testing.T) string
		msg     string
		wantMsg string // exact error text; "{addr}" is replaced
		wantAs  func(error) bool
	}{
		{
			name:    "mismatch",
			addr:    func(t *testing.T) string { return startServer(t, reply(12, "Hellx")) },
			wantMsg: `echo mismatch: sent "Hello, world", received "Hellx"`,
			wantAs:  func(err error) bool { var e *client.MismatchError; return errors.As(err, &e) && e.Offset == 4 },
		},
		{
			name:    "closes early",
			addr:    func(t *testing.T) string { return startServer(t, closeAfter(4)) },
			wantMsg: "server closed the connection after echoing 4 of 12 bytes",
			wantAs:  func(err error) bool { var e *client.ShortEchoError; return errors.As(err, &e) },
		},
		{
			name:    "never answers",
			addr:    func(t *testing.T) string { return startServer(t, silent(t.Context())) },
			wantMsg: "timed out after 200ms waiting for echo",
			wantAs:  func(err error) bool { var e *client.TimeoutError; return errors.As(err, &e) },
		},
		{
			name:    "unreachable",
			addr:    func(t *testing.T) string { return addrtest.ClosedTCP(t) },
			wantMsg: "cannot reach {addr}: connection refused",
			wantAs:  func(err error) bool { var e *client.DialError; return errors.As(err, &e) },
		},
		{
			name:    "empty message",
			addr:    func(t *testing.T) string { return startServer(t, echo) },
			msg:     "-",
			wantMsg: "message is empty",
			wantAs:  func(error) bool { return true },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := tt.addr(t)
			msg := client.DefaultMessage
			if tt.msg == "-" {
				msg = ""
			}
			c := &client.Client{Addr: addr, Timeout: shortTimeout}
			_, err := c.Echo(t.Context(), []byte(msg))
			if err == nil {
				t.Fatal("no error")
			}
			if want := strings.ReplaceAll(tt.wantMsg, "{addr}", addr); err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			if !tt.wantAs(err) {
				t.Errorf("error %T %v is not of the expected type", err, err)
			}
		})
	}
}

// flaky echoes 12-byte messages and misbehaves on the second message of
// every connection: corrupting it, or never answering it.
func flaky(drop bool) func(net.Conn) {
	return func(c net.Conn) {
		buf := make([]byte, 12)
		for k := 1; ; k++ {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			if k == 2 {
				if drop {
					continue
				}
				buf[0] ^= 0xff
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}
}

func TestClient_Count(t *testing.T) {
	tests := []struct {
		name           string
		handle         func(net.Conn)
		count          int
		wantOK, wantEr int
		wantLastErr    string
	}{
		{"all echoed", echo, 5, 5, 0, ""},
		{"one probe", echo, 1, 1, 0, ""},
		{"corrupted probes redial", flaky(false), 4, 2, 2, "echo mismatch: sent"},
		{"lost probes time out and redial", flaky(true), 4, 2, 2, "timed out after 200ms waiting for echo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &client.Client{Addr: startServer(t, tt.handle), Timeout: shortTimeout}
			var probes []client.Probe
			res, err := c.Count(t.Context(), client.CountOptions{
				Message: []byte(client.DefaultMessage),
				Count:   tt.count,
				OnProbe: func(p client.Probe) { probes = append(probes, p) },
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Sent != tt.count || res.OK != tt.wantOK || res.Errors != tt.wantEr || res.Interrupted {
				t.Errorf("result %+v, want sent %d ok %d errors %d", res, tt.count, tt.wantOK, tt.wantEr)
			}
			if len(probes) != tt.count {
				t.Fatalf("%d probes reported, want %d", len(probes), tt.count)
			}
			for i, p := range probes {
				if p.Seq != i+1 || p.Bytes != 12 || (p.Err == nil) != (p.RTT > 0) {
					t.Errorf("probe %d = %+v", i, p)
				}
				if s := p.String(); p.Err == nil && !strings.HasPrefix(s, "seq="+strconv.Itoa(i+1)+" bytes=12 rtt=") {
					t.Errorf("probe line %q", s)
				}
			}
			if res.RTT.N != int64(tt.wantOK) || (tt.wantOK > 0 && !(res.RTT.Min > 0 && res.RTT.Min <= res.RTT.P50 && res.RTT.P50 <= res.RTT.Max)) {
				t.Errorf("RTT stats %+v", res.RTT)
			}
			if tt.wantLastErr == "" && res.LastErr != nil || tt.wantLastErr != "" && (res.LastErr == nil || !strings.Contains(res.LastErr.Error(), tt.wantLastErr)) {
				t.Errorf("last error %v, want %q", res.LastErr, tt.wantLastErr)
			}
		})
	}
}

func TestClient_CountInterval(t *testing.T) {
	c := &client.Client{Addr: startServer(t, echo)}
	start := time.Now()
	res, err := c.Count(t.Context(), client.CountOptions{Message: []byte("x"), Count: 3, Interval: 30 * time.Millisecond})
	if err != nil || res.OK != 3 {
		t.Fatalf("Count = %+v, %v", res, err)
	}
	if el := time.Since(start); el < 60*time.Millisecond {
		t.Errorf("3 probes 30ms apart took %v, want >= 60ms", el)
	}
}

func TestClient_CountInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c := &client.Client{Addr: startServer(t, echo)}
	res, err := c.Count(ctx, client.CountOptions{
		Message:  []byte(client.DefaultMessage),
		Count:    1000,
		Interval: 0,
		OnProbe: func(p client.Probe) {
			if p.Seq == 3 {
				cancel() // what SIGINT does in the command
			}
		},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if !res.Interrupted || res.Sent != 3 || res.OK != 3 || res.RTT.N != 3 {
		t.Errorf("result %+v, want interrupted after 3 good probes", res)
	}
	out := written(t, res.WriteText)
	if !strings.Contains(out.String(), "3 sent, 3 ok, 0 errors (interrupted after 3 of 1000)") {
		t.Errorf("summary:\n%s", out.String())
	}
}

func TestClient_CountUnreachable(t *testing.T) {
	addr := addrtest.ClosedTCP(t)
	_, err := (&client.Client{Addr: addr}).Count(t.Context(), client.CountOptions{Message: []byte("x"), Count: 3})
	var de *client.DialError
	if !errors.As(err, &de) || !strings.HasPrefix(err.Error(), "cannot reach "+addr) {
		t.Errorf("error %v, want cannot reach", err)
	}
}

func TestCountResult_WriteJSON(t *testing.T) {
	c := &client.Client{Addr: startServer(t, echo)}
	res, err := c.Count(t.Context(), client.CountOptions{Message: []byte("abc"), Count: 4})
	if err != nil {
		t.Fatal(err)
	}
	out := written(t, res.WriteJSON)
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, out.Bytes())
	}
	for k, want := range map[string]any{"mode": "count", "sent": 4.0, "ok": 4.0, "errors": 0.0, "message_bytes": 3.0} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	l, _ := got["latency"].(map[string]any)
	if l["n"] != 4.0 || len(l) != 8 {
		t.Errorf("latency %v, want 8 keys and n 4", got["latency"])
	}
	for _, k := range []string{"min_ns", "avg_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"} {
		if v, _ := l[k].(float64); v <= 0 {
			t.Errorf("latency.%s = %v, want > 0", k, l[k])
		}
	}
}

func TestClient_Bulk(t *testing.T) {
	for _, size := range []int64{1, 1_000_003, 8 << 20} {
		c := &client.Client{Addr: startServer(t, echo)}
		res, err := c.Bulk(t.Context(), client.BulkOptions{Size: size})
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !res.Match || res.Sent != size || res.Echoed != size || res.MismatchOffset != -1 || res.Duration <= 0 {
			t.Errorf("size %d: result %+v", size, res)
		}
		out := written(t, res.WriteText)
		if !strings.Contains(out.String(), "match: yes\n") || !strings.Contains(out.String(), " MB/s (") {
			t.Errorf("report:\n%s", out.String())
		}
	}
}

func TestClient_BulkErrors(t *testing.T) {
	const size = 8 << 20
	tests := []struct {
		name       string
		addr       func(t *testing.T) string
		check      func(t *testing.T, res client.BulkResult, err error)
		wantReport string
	}{
		{
			name: "corrupted byte",
			addr: func(t *testing.T) string { return startServer(t, corruptAt(5_000_000)) },
			check: func(t *testing.T, res client.BulkResult, err error) {
				var me *client.MismatchError
				if !errors.As(err, &me) || me.Offset != 5_000_000 {
					t.Fatalf("error %v, want mismatch at 5000000", err)
				}
				if !strings.HasPrefix(err.Error(), "echo mismatch at offset 5000000: sent 0x") {
					t.Errorf("error text %q", err)
				}
				if res.MismatchOffset != 5_000_000 || res.Echoed != 5_000_000 || res.Match {
					t.Errorf("result %+v", res)
				}
			},
			wantReport: "match: no, first mismatch at offset 5000000\n",
		},
		{
			name: "closes early",
			addr: func(t *testing.T) string { return startServer(t, closeAfter(1<<20)) },
			check: func(t *testing.T, res client.BulkResult, err error) {
				var se *client.ShortEchoError
				if !errors.As(err, &se) || se.Echoed != 1<<20 || se.Sent != size {
					t.Fatalf("error %v, want short echo of 1MiB", err)
				}
				if res.Match || res.Echoed != 1<<20 {
					t.Errorf("result %+v", res)
				}
			},
			wantReport: "match: no, short echo (1048576 of 8388608 bytes)\n",
		},
		{
			name: "never answers",
			addr: func(t *testing.T) string { return startServer(t, silent(t.Context())) },
			check: func(t *testing.T, res client.BulkResult, err error) {
				var te *client.TimeoutError
				if !errors.As(err, &te) || err.Error() != "timed out after 200ms waiting for echo (0 of 8388608 bytes echoed)" {
					t.Fatalf("error %v, want timeout", err)
				}
				if res.Match || res.Echoed != 0 {
					t.Errorf("result %+v", res)
				}
			},
			wantReport: "match: no, short echo (0 of 8388608 bytes)\n",
		},
		{
			name: "unreachable",
			addr: func(t *testing.T) string { return addrtest.ClosedTCP(t) },
			check: func(t *testing.T, res client.BulkResult, err error) {
				var de *client.DialError
				if !errors.As(err, &de) || !strings.HasSuffix(err.Error(), ": connection refused") {
					t.Fatalf("error %v, want cannot reach", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &client.Client{Addr: tt.addr(t), Timeout: shortTimeout}
			res, err := c.Bulk(t.Context(), client.BulkOptions{Size: size})
			tt.check(t, res, err)
			if tt.wantReport == "" {
				return
			}
			out := written(t, res.WriteText)
			if !strings.HasSuffix(out.String(), tt.wantReport) {
				t.Errorf("report:\n%s\nwant suffix %q", out.String(), tt.wantReport)
			}
		})
	}
}

func TestBulkResult_WriteJSON(t *testing.T) {
	st := client.BulkStream{Sent: 2e6, Echoed: 1e6, Duration: time.Second, MismatchOffset: 1e6,
		Err: &client.MismatchError{Offset: 1e6, At: 1e6}, TCP: &clientcli.TCPConn{Retransmits: 2, Cwnd: 10, RTT: time.Millisecond, DeliveryRate: 8e6}}
	res := client.BulkResult{Addr: "a:1", Size: 2e6, Parallel: 1, Sent: 2e6, Echoed: 1e6, Duration: time.Second, MismatchOffset: 1e6,
		Streams: []client.BulkStream{st}}
	out := written(t, res.WriteJSON)
	want := `{"mode":"bulk","addr":"a:1","bytes":2000000,"stream_bytes":2000000,"parallel":1,"sent":2000000,"echoed":1000000,` +
		`"duration_ns":1000000000,"mb_per_s":1,"mbit_per_s":8,"match":false,"mismatch_offset":1000000,` +
		`"streams":[{"sent":2000000,"echoed":1000000,"duration_ns":1000000000,"mbit_per_s":8,"match":false,"mismatch_offset":1000000,` +
		`"error":"echo mismatch at offset 1000000","tcp":{"retransmits":2,"cwnd":10,"rtt_ns":1000000,"delivery_rate_bps":8000000}}]}` + "\n"
	if out.String() != want {
		t.Errorf("got  %s\nwant %s", out.String(), want)
	}
}

func TestPatternAt(t *testing.T) {
	// Deterministic, and not a short repetition.
	a := client.PatternAt(0, 4096)
	if !bytes.Equal(a, client.PatternAt(0, 4096)) {
		t.Fatal("pattern not deterministic")
	}
	for _, off := range []int64{1, 4096, 256 << 10, 1 << 20} {
		if bytes.Equal(a, client.PatternAt(off, 4096)) {
			t.Errorf("pattern at %d repeats the start", off)
		}
	}
}

func BenchmarkBulk(b *testing.B) {
	const size = 8 << 20
	c := &client.Client{Addr: startServer(b, echo)}
	b.SetBytes(size)
	for b.Loop() {
		res, err := c.Bulk(b.Context(), client.BulkOptions{Size: size})
		if err != nil || !res.Match {
			b.Fatalf("Bulk = %+v, %v", res, err)
		}
	}
}
