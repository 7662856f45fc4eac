package hello

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/netlab/netlab/services/http-hello/internal/config"
)

// The overhead benchmarks compare GET / through http-hello's whole stack
// (header limit, MAX_CONCURRENT, body cap, metrics, routing) with a bare
// net/http hello handler, the anchor `netlab bench` measures against:
//
//	go test -run '^$' -bench Overhead -count 10 ./internal/hello | benchstat -col /server -
//
// Handler is the middleware alone, called directly with a reused writer;
// Wire is the same over keep-alive loopback connections, with net/http's
// connection handling, timeouts and the kernel around it.

// cpuTime is the CPU time this process has used so far. The benchmarks
// report it per request beside ns/op: other work on the machine stretches
// wall time, not CPU time.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time used since start per b.N.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
}

// benchConfig is http-hello as `netlab bench` runs it: no access log and
// MAX_CONCURRENT out of the way, the other limits at their defaults.
func benchConfig() config.Config {
	return config.Config{
		ListenAddr: "127.0.0.1:0", Greeting: "Hello, World!",
		MaxDelay: 10 * time.Second, MaxBytes: 100 << 20, MaxBody: 1 << 20, MaxHeaderBytes: 16 << 10,
		MaxConcurrent: 100000, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
	}
}

// bareHello is the anchor's handler (lab/internal/bench serveHTTPHello).
func bareHello() http.Handler {
	hello := []byte("Hello, World!")
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(hello)
	})
}

// newBenchServer is http-hello with benchConfig and its own registry.
func newBenchServer(tb testing.TB) *Server {
	tb.Helper()
	s, err := New(benchConfig(), zap.NewNop(), prometheus.NewRegistry())
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// nopWriter is a ResponseWriter that keeps the headers and drops the body,
// reused across requests as net/http reuses nothing but is cheap to reset.
type nopWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *nopWriter) Header() http.Header { return w.h }
func (w *nopWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *nopWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.n += len(b)
	return len(b), nil
}

// helloRequest is GET / as wrk sends it, as the server parses it.
func helloRequest(tb testing.TB) *http.Request {
	tb.Helper()
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader([]byte("GET / HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n"))))
	if err != nil {
		tb.Fatal(err)
	}
	r.RemoteAddr = "127.0.0.1:40000"
	r.Body = http.NoBody // as net/http's server sets it for a request without a body
	return r
}

func benchmarkHandler(b *testing.B, h http.Handler) {
	r := helloRequest(b)
	w := &nopWriter{h: make(http.Header)}
	b.ReportAllocs()
	start := cpuTime(b)
	for b.Loop() {
		clear(w.h)
		w.code, w.n = 0, 0
		h.ServeHTTP(w, r)
	}
	reportCPU(b, start)
	if w.code != http.StatusOK || w.n != len("Hello, World!") {
		b.Fatalf("answered %d with %d bytes", w.code, w.n)
	}
}

func BenchmarkOverhead_Handler(b *testing.B) {
	b.Run("server=bare", func(b *testing.B) { benchmarkHandler(b, bareHello()) })
	b.Run("server=netlab", func(b *testing.B) { benchmarkHandler(b, newBenchServer(b).http.Handler) })
}

// serveBench serves with serve until the benchmark ends and returns the
// address.
func serveBench(b *testing.B, addr net.Addr, serve func(context.Context) error) string {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.Error(err)
		}
	})
	return addr.String()
}

// helloClient sends GET / on one keep-alive connection and reads each
// answer with as little work as it can, so the server's cost shows.
type helloClient struct {
	conn net.Conn
	br   *bufio.Reader
}

var helloWire = []byte("GET / HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n")

// get sends one request and checks the answer is a 200 with a 13-byte body.
func (c *helloClient) get() error {
	if _, err := c.conn.Write(helloWire); err != nil {
		return err
	}
	status, err := c.br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 200 ")) {
		return errors.New("answer: " + string(status))
	}
	length := -1
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	if length != len("Hello, World!") {
		return errors.New("Content-Length " + strconv.Itoa(length))
	}
	_, err = c.br.Discard(length)
	return err
}

func benchmarkWire(b *testing.B, addr string) {
	b.ReportAllocs()
	b.SetParallelism(8) // 16 connections on 2 cores: the server is never idle
	b.ResetTimer()
	start := cpuTime(b)
	defer reportCPU(b, start)
	b.RunParallel(func(pb *testing.PB) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		c := &helloClient{conn: conn, br: bufio.NewReader(conn)}
		for pb.Next() {
			if err := c.get(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkOverhead_Wire(b *testing.B) {
	b.Run("server=bare", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: bareHello()}
		addr := serveBench(b, ln.Addr(), func(ctx context.Context) error {
			go func() { <-ctx.Done(); srv.Close() }()
			return srv.Serve(ln)
		})
		benchmarkWire(b, addr)
	})
	b.Run("server=netlab", func(b *testing.B) {
		s := newBenchServer(b)
		benchmarkWire(b, serveBench(b, s.Addr(), s.Serve))
	})
}

// The benchmark's client must fail on a wrong answer, or a broken server
// would look fast.
func TestHelloClient_RefusesAWrongAnswer(t *testing.T) {
	for _, answer := range []string{
		"HTTP/1.1 404 Not Found\r\nContent-Length: 13\r\n\r\nHello, World!",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHello",
		"HTTP/1.1 200 OK\r\n",
	} {
		client, server := net.Pipe()
		go func() {
			_, _ = io.ReadFull(server, make([]byte, len(helloWire)))
			_, _ = io.WriteString(server, answer)
			server.Close()
		}()
		c := &helloClient{conn: client, br: bufio.NewReader(client)}
		if err := c.get(); err == nil {
			t.Errorf("answer %q: no error", answer)
		}
		client.Close()
	}
}
