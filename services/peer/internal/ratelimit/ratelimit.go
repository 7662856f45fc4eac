// Package ratelimit paces a byte stream: a token bucket shared by every
// upload of a node (UPLOAD_RATE).
package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/netlab/netlab/services/platform/lifecycle"
)

// Limiter hands out bytes at Rate per second with bursts up to Burst. A nil
// *Limiter allows everything at once.
type Limiter struct {
	rate  float64 // bytes per second
	burst float64

	mu     sync.Mutex
	tokens float64
	last   time.Time
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
}

// New returns a limiter of rate bytes/s whose burst is burst bytes (0: a
// quarter second of traffic), at least burstMin so one chunk always fits;
// nil when rate is 0. A short upload sends its burst at once, above the
// rate: a small burst keeps it near the rate.
func New(rate, burst int64, burstMin int) *Limiter {
	if rate <= 0 {
		return nil
	}
	b := float64(burst)
	if burst <= 0 {
		b = float64(rate) / 4
	}
	b = max(b, float64(burstMin))
	return &Limiter{rate: float64(rate), burst: b, tokens: b, now: time.Now, sleep: lifecycle.Sleep}
}

// Wait blocks until n bytes may be sent, or ctx ends. Waiters are served in
// the order they reserve: each takes its bytes at once (the bucket may go
// negative) and sleeps for the debt, so concurrent uploads share the rate.
func (l *Limiter) Wait(ctx context.Context, n int) error {
	if l == nil || n <= 0 {
		return nil
	}
	l.mu.Lock()
	now := l.now()
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	l.tokens -= float64(n)
	debt := l.tokens
	l.mu.Unlock()
	if debt >= 0 {
		return nil
	}
	return l.sleep(ctx, time.Duration(-debt/l.rate*float64(time.Second)))
}

// Rate is the configured bytes per second (0 for a nil limiter).
func (l *Limiter) Rate() int64 {
	if l == nil {
		return 0
	}
	return int64(l.rate)
}
