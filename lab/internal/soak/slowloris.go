package soak

// The http phase's slowloris clients: each keeps a request's headers
// unfinished, one byte at a time, and notes how long the server let it.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// slowStats is what the slow clients saw, together.
type slowStats struct {
	dialed, dialErrs, answered atomic.Int64
	mu                         sync.Mutex
	cut                        []time.Duration // lifetime of each connection the server closed
}

func (s *slowStats) lifetimes() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.cut)
	slices.Sort(out)
	return out
}

// slowClient keeps one slowloris connection open until ctx ends: a
// request line and one header, then one more byte of a header name every
// trickle. When the server closes it, it notes how long it lived and
// connects again, as an attacker would. opened gets a value once, after
// the first connection is up.
func slowClient(ctx context.Context, addr string, id int, st *slowStats, opened chan<- struct{}) {
	// Spread the first dials over half a second.
	time.Sleep(time.Duration(id%500) * time.Millisecond)
	d := net.Dialer{Timeout: 5 * time.Second}
	first := true
	buf := make([]byte, 512)
	for ctx.Err() == nil {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			if ctx.Err() == nil {
				st.dialErrs.Add(1)
				time.Sleep(100 * time.Millisecond)
			}
			continue
		}
		st.dialed.Add(1)
		if first {
			opened <- struct{}{}
			first = false
		}
		start := time.Now()
		answered := false
		_, err = fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nX-Slow-%d: ", addr, id)
		for err == nil && ctx.Err() == nil {
			_ = c.SetReadDeadline(time.Now().Add(trickle))
			var n int
			n, err = c.Read(buf)
			if n > 0 {
				// The server answered a request it never fully got.
				answered = true
				st.answered.Add(1)
				break
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				_, err = c.Write([]byte{'x'})
			}
		}
		if err != nil && !answered && ctx.Err() == nil {
			st.mu.Lock()
			st.cut = append(st.cut, time.Since(start))
			st.mu.Unlock()
		}
		c.Close()
	}
	if first {
		opened <- struct{}{} // never connected: do not block the phase
	}
}
