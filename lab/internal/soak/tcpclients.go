package soak

// The tcp phase's clients: connections opened in bulk, echo loops that
// verify every byte, and one-byte pings that show a connection is alive.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// dialAll opens n connections, 64 dials at a time.
func dialAll(ctx context.Context, addr string, n int) ([]net.Conn, int) {
	conns := make([]net.Conn, n)
	var failed atomic.Int64
	d := net.Dialer{Timeout: 5 * time.Second}
	eachAtOnce(ctx, n, 64, func(i int) {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			failed.Add(1)
			return
		}
		conns[i] = c
	})
	out := conns[:0]
	for _, c := range conns {
		if c != nil {
			out = append(out, c)
		}
	}
	return out, int(failed.Load())
}

// eachAtOnce calls do for 0 to n-1, up to limit calls at a time, and
// returns when they are done; once ctx ends it starts no more.
func eachAtOnce(ctx context.Context, n, limit int, do func(i int)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			do(i)
		})
	}
	wg.Wait()
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

type echoStats struct {
	echoes atomic.Int64
	errors atomic.Int64
}

// echoLoop sends a message, reads it back and compares, until ctx ends.
// Messages differ per connection and per round so a crossed or stale echo
// is caught.
func echoLoop(ctx context.Context, c net.Conn, id int, st *echoStats) {
	msg := make([]byte, msgSize)
	got := make([]byte, msgSize)
	for round := 0; ctx.Err() == nil; round++ {
		for i := range msg {
			msg[i] = byte(id + round + i)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(msg); err != nil {
			st.errors.Add(1)
			return
		}
		if _, err := io.ReadFull(c, got); err != nil {
			st.errors.Add(1)
			return
		}
		if !bytes.Equal(msg, got) {
			st.errors.Add(1)
			return
		}
		st.echoes.Add(1)
	}
}

// pingAll sends one byte on each connection, 256 at a time, and counts
// those echoed.
func pingAll(ctx context.Context, conns []net.Conn) int {
	var alive atomic.Int64
	eachAtOnce(ctx, len(conns), 256, func(i int) {
		if ping(conns[i]) == nil {
			alive.Add(1)
		}
	})
	return int(alive.Load())
}

func ping(c net.Conn) error {
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte{'p'}); err != nil {
		return err
	}
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return err
	}
	if b[0] != 'p' {
		return errors.New("wrong byte echoed")
	}
	return nil
}
