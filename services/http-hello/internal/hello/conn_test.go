package hello

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

const testTick = 10 * time.Millisecond

// connPair is a serverConn accepted through a listener with lazy deadlines
// swept every testTick, and the client end of it.
func connPair(t *testing.T) (*serverConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	dl := newDeadlines(testTick)
	stop := make(chan struct{})
	go dl.run(stop)
	t.Cleanup(func() { close(stop) })
	l := &listener{Listener: ln, refused: prometheus.NewCounter(prometheus.CounterOpts{Name: "refused"}), deadlines: dl}
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*serverConn), client
}

// readErr is the error of one Read on c, or a failure if it blocks past
// the test's patience.
func readErr(t *testing.T, c net.Conn) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Read still blocked after 10s")
		return nil
	}
}

func TestServerConn_FarReadDeadlineFiresWhenDue(t *testing.T) {
	c, _ := connPair(t)
	start := time.Now()
	due := 10 * testTick // far enough to be left to the sweep
	if err := c.SetReadDeadline(start.Add(due)); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	armed := c.read.armed
	c.mu.Unlock()
	if armed {
		t.Fatal("a deadline 10 ticks away was armed at once")
	}
	err := readErr(t, c)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read: %v, want a deadline error", err)
	}
	if waited := time.Since(start); waited < due {
		t.Fatalf("deadline fired after %s, before it was due (%s)", waited, due)
	}
}

func TestServerConn_FarWriteDeadlineFiresWhenDue(t *testing.T) {
	c, _ := connPair(t)
	due := 10 * testTick
	if err := c.SetWriteDeadline(time.Now().Add(due)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatalf("Write before the deadline: %v", err)
	}
	time.Sleep(due + 3*testTick)
	if _, err := c.Write([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write after the deadline: %v, want a deadline error", err)
	}
}

// A deadline moved farther away before it is due, as net/http does on
// every request, does not fire at the old time.
func TestServerConn_MovedDeadlineDoesNotFireEarly(t *testing.T) {
	c, client := connPair(t)
	if err := c.SetReadDeadline(time.Now().Add(3 * testTick)); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * testTick)
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := readErr(t, c); err != nil {
		t.Fatalf("Read with the deadline an hour away: %v", err)
	}
}

// A deadline in the past interrupts a blocked Read at once, and clearing
// it lets the next Read wait for data: net/http's abortPendingRead.
func TestServerConn_PastDeadlineInterruptsRead(t *testing.T) {
	c, client := connPair(t)
	if err := c.SetReadDeadline(time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		done <- err
	}()
	time.Sleep(testTick)
	if err := c.SetReadDeadline(time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("interrupted Read: %v, want a deadline error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a past deadline did not interrupt the Read")
	}
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := readErr(t, c); err != nil {
		t.Fatalf("Read after clearing the deadline: %v", err)
	}
}

// Once the sweep stops (the server has stopped serving), a far deadline
// goes to the connection at once.
func TestServerConn_DeadlinesArmedAfterTheSweepStops(t *testing.T) {
	dl := newDeadlines(testTick)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { dl.run(stop); close(done) }()
	close(stop)
	<-done
	if !dl.soon(time.Now().Add(time.Hour)) {
		t.Fatal("after the sweep stopped, a deadline an hour away is left to it")
	}
}

// deadlineSequence is what net/http does to a connection's deadlines for
// one keep-alive request: the idle and header deadlines, the whole
// request's, the write deadline, the background read's clear, its abort
// and clear after the handler, and the write deadline's clear. Without
// timeouts each future deadline is the zero time.
func deadlineSequence(c net.Conn, timeouts bool) {
	at := func(d time.Duration) time.Time {
		if !timeouts {
			return time.Time{}
		}
		return time.Now().Add(d)
	}
	_ = c.SetReadDeadline(at(120 * time.Second))
	_ = c.SetReadDeadline(at(5 * time.Second))
	_ = c.SetReadDeadline(at(30 * time.Second))
	_ = c.SetWriteDeadline(at(60 * time.Second))
	_ = c.SetReadDeadline(time.Time{})
	_ = c.SetReadDeadline(time.Unix(1, 0))
	_ = c.SetReadDeadline(time.Time{})
	_ = c.SetWriteDeadline(time.Time{})
}

// BenchmarkDeadlines is the cost per request of the deadlines net/http
// sets: on the TCP connection without timeouts (the bare anchor), with
// http-hello's timeouts, and with the timeouts through serverConn.
func BenchmarkDeadlines(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	raw, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	dl := newDeadlines(deadlineTick)
	stop := make(chan struct{})
	defer close(stop)
	go dl.run(stop)
	lazy := &serverConn{Conn: raw, dl: dl}
	for _, bc := range []struct {
		name     string
		conn     net.Conn
		timeouts bool
	}{{"conn=tcp/timeouts=none", raw, false}, {"conn=tcp/timeouts=set", raw, true}, {"conn=lazy/timeouts=set", lazy, true}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			start := cpuTime(b)
			for b.Loop() {
				deadlineSequence(bc.conn, bc.timeouts)
			}
			reportCPU(b, start)
		})
	}
}
