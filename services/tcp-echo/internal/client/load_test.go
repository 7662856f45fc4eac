package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/addrtest"
	"github.com/netlab/netlab/services/tcp-echo/internal/client"
)

// echoBuf echoes with one fixed buffer (see echoEach).
func echoBuf(c net.Conn) { echoEach(c, func([]byte) {}) }

// resetAfter echoes the first n bytes, then aborts the connection (RST).
func resetAfter(n int64) func(net.Conn) {
	return func(c net.Conn) {
		_, _ = io.CopyN(c, c, n)
		_ = c.(*net.TCPConn).SetLinger(0)
		_ = c.Close()
	}
}

// everyOther hands odd-numbered connections (in accept order) to bad and
// the others to good.
func everyOther(good, bad func(net.Conn)) func(net.Conn) {
	var k atomic.Int64
	return func(c net.Conn) {
		if k.Add(1)%2 == 0 {
			bad(c)
			return
		}
		good(c)
	}
}

// cancelAfter echoes and calls cancel once msgs reads have been served
// over all connections.
func cancelAfter(msgs int64, cancel func()) func(net.Conn) {
	var reads atomic.Int64
	return func(c net.Conn) {
		echoEach(c, func([]byte) {
			if reads.Add(1) == msgs {
				cancel()
			}
		})
	}
}

func TestClient_Load(t *testing.T) {
	const shortRun = 150 * time.Millisecond
	tests := []struct {
		name        string
		addr        func(t *testing.T) string
		conns, size int
		duration    time.Duration
		wantOps     int64 // exact when > 0; -1 any positive number; 0 none
		wantErrors  client.LoadErrors
		wantFullRun bool // the run lasted the whole duration
	}{
		{name: "64-byte messages", addr: func(t *testing.T) string { return startServer(t, echo) },
			conns: 4, size: 64, duration: shortRun, wantOps: -1, wantFullRun: true},
		{name: "one connection, one byte", addr: func(t *testing.T) string { return startServer(t, echoBuf) },
			conns: 1, size: 1, duration: shortRun, wantOps: -1, wantFullRun: true},
		{name: "1MiB messages", addr: func(t *testing.T) string { return startServer(t, echo) },
			conns: 2, size: client.MaxLoadSize, duration: 2 * shortRun, wantOps: -1, wantFullRun: true},
		{name: "odd-sized large messages", addr: func(t *testing.T) string { return startServer(t, echoBuf) },
			conns: 3, size: 100<<10 + 3, duration: 2 * shortRun, wantOps: -1, wantFullRun: true},
		{name: "server closes after 10 messages", addr: func(t *testing.T) string { return startServer(t, closeAfter(10*64)) },
			conns: 3, size: 64, duration: time.Hour, wantOps: 30, wantErrors: client.LoadErrors{ShortRead: 3}},
		{name: "server resets after 10 messages", addr: func(t *testing.T) string { return startServer(t, resetAfter(10*64)) },
			conns: 3, size: 64, duration: time.Hour, wantOps: -1, wantErrors: client.LoadErrors{Reset: 3}},
		{name: "server corrupts the 5th message", addr: func(t *testing.T) string { return startServer(t, corruptAt(4*64+10)) },
			conns: 3, size: 64, duration: time.Hour, wantOps: 12, wantErrors: client.LoadErrors{Mismatch: 3}},
		{name: "server never answers", addr: func(t *testing.T) string { return startServer(t, silent(t.Context())) },
			conns: 2, size: 64, duration: time.Hour, wantOps: 0, wantErrors: client.LoadErrors{Timeout: 2}},
		{name: "unreachable", addr: func(t *testing.T) string { return addrtest.ClosedTCP(t) },
			conns: 5, size: 64, duration: time.Hour, wantOps: 0, wantErrors: client.LoadErrors{Dial: 5}},
		{name: "failed connections stop, the others go on", addr: func(t *testing.T) string { return startServer(t, everyOther(echo, closeAfter(64))) },
			conns: 4, size: 64, duration: shortRun, wantOps: -1, wantErrors: client.LoadErrors{ShortRead: 2}, wantFullRun: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &client.Client{Addr: tt.addr(t), Timeout: shortTimeout}
			res, err := c.Load(t.Context(), client.LoadOptions{Connections: tt.conns, Size: tt.size, Duration: tt.duration})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.wantOps > 0 && res.Ops != tt.wantOps,
				tt.wantOps < 0 && res.Ops <= 0,
				tt.wantOps == 0 && res.Ops != 0:
				t.Errorf("ops = %d, want %d (-1: some)", res.Ops, tt.wantOps)
			}
			if res.Errors != tt.wantErrors || res.Failed != tt.wantErrors.Total() || (res.FirstErr != nil) != (res.Failed > 0) {
				t.Errorf("errors %+v, failed %d (first: %v), want %+v", res.Errors, res.Failed, res.FirstErr, tt.wantErrors)
			}
			if res.Interrupted || res.Connections != tt.conns || res.Size != tt.size {
				t.Errorf("result %+v", res)
			}
			if tt.wantFullRun != (res.Duration >= tt.duration) || res.Duration <= 0 {
				t.Errorf("duration %v, want full run (%v) %v", res.Duration, tt.duration, tt.wantFullRun)
			}
			l := res.Latency
			if l.N != res.Ops || res.Ops > 0 && !(0 < l.Min && l.Min <= l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max && l.Min <= l.Avg && l.Avg <= l.Max) {
				t.Errorf("latency %+v for %d ops", l, res.Ops)
			}
			if got, want := res.OpsPerSec(), float64(res.Ops)/res.Duration.Seconds(); got != want {
				t.Errorf("ops/s %g, want %g", got, want)
			}
		})
	}
}

func TestClient_LoadErrorText(t *testing.T) {
	c := &client.Client{Addr: startServer(t, everyOther(echo, corruptAt(3))), Timeout: shortTimeout}
	res, err := c.Load(t.Context(), client.LoadOptions{Connections: 2, Size: 64, Duration: client.MinLoadDuration})
	if err != nil {
		t.Fatal(err)
	}
	var me *client.MismatchError
	if !errors.As(res.FirstErr, &me) || me.Offset != 3 {
		t.Fatalf("first error %v, want a mismatch at offset 3", res.FirstErr)
	}
	out := written(t, res.WriteText)
	if !strings.HasSuffix(out.String(), "\n1 errors (mismatch 1), 1 of 2 connections failed\n") {
		t.Errorf("summary:\n%s", out.String())
	}
}

func TestClient_LoadInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c := &client.Client{Addr: startServer(t, cancelAfter(100, cancel))}
	res, err := c.Load(ctx, client.LoadOptions{Connections: 4, Size: 64, Duration: client.MaxLoadDuration})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if !res.Interrupted || res.Ops <= 0 || res.Failed != 0 || res.Duration >= time.Minute {
		t.Errorf("result %+v, want interrupted with some ops and no errors", res)
	}
	out := written(t, res.WriteText)
	if !strings.Contains(out.String(), "s (interrupted)\n") || !strings.Contains(out.String(), "\n0 errors, 0 of 4 connections failed\n") {
		t.Errorf("summary:\n%s", out.String())
	}
}

func TestClient_LoadInterruptedWhileDialing(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	c := &client.Client{Addr: startServer(t, echo)}
	res, err := c.Load(ctx, client.LoadOptions{Connections: 3, Size: 64, Duration: time.Second})
	if !errors.Is(err, context.Canceled) || !res.Interrupted || res.Ops != 0 || res.Failed != 0 {
		t.Errorf("Load = %+v, %v; want interrupted, nothing done, nothing failed", res, err)
	}
}

func TestClient_LoadInvalidOptions(t *testing.T) {
	c := &client.Client{Addr: addrtest.ClosedTCP(t)}
	for _, opts := range []client.LoadOptions{
		{Connections: 0, Size: 64, Duration: time.Second},
		{Connections: client.MaxLoadConnections + 1, Size: 64, Duration: time.Second},
		{Connections: 1, Size: 0, Duration: time.Second},
		{Connections: 1, Size: client.MaxLoadSize + 1, Duration: time.Second},
		{Connections: 1, Size: 64, Duration: client.MinLoadDuration - 1},
		{Connections: 1, Size: 64, Duration: client.MaxLoadDuration + 1},
	} {
		if _, err := c.Load(t.Context(), opts); err == nil {
			t.Errorf("Load(%+v) did not fail", opts)
		}
	}
}

func TestLoadResult_WriteJSON(t *testing.T) {
	c := &client.Client{Addr: startServer(t, echo)}
	res, err := c.Load(t.Context(), client.LoadOptions{Connections: 3, Size: 64, Duration: client.MinLoadDuration})
	if err != nil {
		t.Fatal(err)
	}
	out := written(t, res.WriteJSON)
	var got loadJSON
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || bytes.Count(out.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("not one JSON object (%v): %s", err, out.Bytes())
	}
	if got.Connections != 3 || got.Ops <= 0 {
		t.Errorf("JSON %s", out.Bytes())
	}
	if got.DurationSeconds < client.MinLoadDuration.Seconds() {
		t.Errorf("duration_seconds %g, want >= 0.1", got.DurationSeconds)
	}
	got.check(t, 64, 0, nil)
}

// loadJSON is the object LoadResult.WriteJSON writes (and --load --json
// prints).
type loadJSON struct {
	Mode              string             `json:"mode"`
	Connections       int                `json:"connections"`
	Size              int                `json:"size"`
	DurationSeconds   float64            `json:"duration_seconds"`
	Ops               int64              `json:"ops"`
	OpsPerSecond      float64            `json:"ops_per_second"`
	BytesPerSecond    float64            `json:"bytes_per_second"`
	Latency           map[string]float64 `json:"latency"`
	Errors            map[string]int     `json:"errors"`
	FailedConnections *int               `json:"failed_connections"`
}

// check fails the test unless v is a load run of size-byte messages with
// wantFailed failed connections and wantErrors (zero when missing) by
// kind, whose rates follow from its ops and duration and whose latency
// summary is ordered and counts every op.
func (v loadJSON) check(t *testing.T, size, wantFailed int, wantErrors map[string]int) {
	t.Helper()
	if v.Mode != "load" || v.Size != size || v.FailedConnections == nil || *v.FailedConnections != wantFailed {
		t.Errorf("load JSON %+v, want mode load, size %d, %d failed connections", v, size, wantFailed)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }
	if want := float64(v.Ops) / v.DurationSeconds; !near(v.OpsPerSecond, want) {
		t.Errorf("ops_per_second %g, want ops/duration_seconds = %g", v.OpsPerSecond, want)
	}
	if want := v.OpsPerSecond * float64(size); !near(v.BytesPerSecond, want) {
		t.Errorf("bytes_per_second %g, want %g", v.BytesPerSecond, want)
	}
	l := v.Latency
	if len(l) != 8 || l["n"] != float64(v.Ops) || !(0 < l["min_ns"] && l["min_ns"] <= l["p50_ns"] && l["p50_ns"] <= l["p90_ns"] &&
		l["p90_ns"] <= l["p99_ns"] && l["p99_ns"] <= l["p999_ns"] && l["p999_ns"] <= l["max_ns"] && l["avg_ns"] <= l["max_ns"]) {
		t.Errorf("latency %v for %d ops", l, v.Ops)
	}
	for _, k := range []string{"dial", "timeout", "short_read", "mismatch", "reset", "other"} {
		if n, ok := v.Errors[k]; !ok || n != wantErrors[k] {
			t.Errorf("errors[%s] = %d, %v; want %d", k, n, ok, wantErrors[k])
		}
	}
}

func TestLoadErrors_String(t *testing.T) {
	tests := []struct {
		in   client.LoadErrors
		want string
	}{
		{client.LoadErrors{}, ""},
		{client.LoadErrors{Dial: 1, Reset: 2}, "dial 1, reset 2"},
		{client.LoadErrors{Timeout: 1, ShortRead: 2, Mismatch: 3, Other: 4}, "timeout 1, short read 2, mismatch 3, other 4"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestLoadConn_ZeroAllocs proves that a round trip of a load connection
// (write, read, verify, record) allocates nothing, for a message written
// inline and for one handed to the connection's writer goroutine.
func TestLoadConn_ZeroAllocs(t *testing.T) {
	addr := startServer(t, echoBuf)
	for _, size := range []int{64, 64 << 10} {
		lc, err := client.NewLoadConnForTest(addr, size)
		if err != nil {
			t.Fatal(err)
		}
		var stepErr error
		step := func() {
			if err := lc.Step(); err != nil && stepErr == nil {
				stepErr = err
			}
		}
		for range 10 {
			step() // warm up: first deadline timers, poller registration
		}
		allocs := testing.AllocsPerRun(500, step)
		ops := lc.Ops()
		lc.Close()
		if stepErr != nil {
			t.Fatalf("size %d: %v", size, stepErr)
		}
		if ops != 10+501 {
			t.Errorf("size %d: %d ops recorded, want %d", size, ops, 10+501)
		}
		if allocs != 0 {
			t.Errorf("size %d: %v allocations per round trip, want 0", size, allocs)
		}
	}
}

func BenchmarkLoadStep(b *testing.B) {
	addr := startServer(b, echoBuf)
	for _, size := range []int{64, 64 << 10} {
		b.Run("size="+strconv.Itoa(size), func(b *testing.B) {
			lc, err := client.NewLoadConnForTest(addr, size)
			if err != nil {
				b.Fatal(err)
			}
			defer lc.Close()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := lc.Step(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLoad(b *testing.B) {
	addr := startServer(b, echoBuf)
	for _, conns := range []int{1, 50} {
		b.Run("connections="+strconv.Itoa(conns), func(b *testing.B) {
			c := &client.Client{Addr: addr}
			var ops, secs float64
			for b.Loop() {
				res, err := c.Load(b.Context(), client.LoadOptions{Connections: conns, Size: 64, Duration: client.MinLoadDuration})
				if err != nil || res.Failed > 0 {
					b.Fatalf("Load = %+v, %v", res, err)
				}
				ops += float64(res.Ops)
				secs += res.Duration.Seconds()
			}
			b.ReportMetric(ops/secs, "ops/s")
		})
	}
}
