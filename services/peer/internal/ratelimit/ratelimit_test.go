package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/netlab/netlab/services/peer/internal/ratelimit"
)

func TestNew_ZeroRateIsUnlimited(t *testing.T) {
	l := ratelimit.New(0, 0, 64<<10)
	if l != nil {
		t.Fatal("New(0) returned a limiter, want nil (no cap)")
	}
	if err := l.Wait(context.Background(), 1<<30); err != nil {
		t.Fatalf("nil limiter Wait: %v", err)
	}
}

func TestLimiter_PacesToRate(t *testing.T) {
	const rate = 1 << 20 // 1 MiB/s
	l := ratelimit.New(rate, 0, 64<<10)
	clock := time.Unix(0, 0)
	var slept []time.Duration
	ratelimit.WithFakeClock(l, func() time.Time { return clock }, &slept)

	// 4 MiB in 64 KiB chunks with time advancing by each sleep: the total
	// sleep must be what the bytes beyond the burst cost at the rate.
	const chunk = 64 << 10
	total := time.Duration(0)
	for sent := 0; sent < 4<<20; sent += chunk {
		n := len(slept)
		if err := l.Wait(context.Background(), chunk); err != nil {
			t.Fatal(err)
		}
		if len(slept) > n {
			clock = clock.Add(slept[len(slept)-1])
			total += slept[len(slept)-1]
		}
	}
	burst := float64(rate) / 4
	want := time.Duration((4<<20 - burst) / rate * float64(time.Second))
	if diff := total - want; diff < -10*time.Millisecond || diff > 10*time.Millisecond {
		t.Fatalf("slept %v for 4 MiB at 1 MiB/s with a 256 KiB burst, want about %v", total, want)
	}
}

func TestLimiter_BurstAllowsImmediateSend(t *testing.T) {
	l := ratelimit.New(1<<20, 0, 64<<10)
	var slept []time.Duration
	clock := time.Unix(0, 0)
	ratelimit.WithFakeClock(l, func() time.Time { return clock }, &slept)
	if err := l.Wait(context.Background(), 256<<10); err != nil {
		t.Fatal(err)
	}
	if len(slept) != 0 {
		t.Fatalf("a send within the burst slept %v", slept)
	}
	// After a long idle period the bucket refills only up to the burst.
	clock = clock.Add(time.Hour)
	_ = l.Wait(context.Background(), 512<<10)
	if len(slept) != 1 || slept[0] < 240*time.Millisecond {
		t.Fatalf("512 KiB after an idle hour slept %v, want about 250ms (burst is capped)", slept)
	}
}

func TestLimiter_WaitHonoursContext(t *testing.T) {
	l := ratelimit.New(1024, 0, 1024)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = l.Wait(ctx, 1024) // uses the burst
	if err := l.Wait(ctx, 1<<20); err == nil {
		t.Fatal("Wait for 1 MiB at 1 KiB/s with a canceled context returned nil")
	}
}

func TestLimiter_BurstSetting(t *testing.T) {
	tests := []struct {
		name         string
		burst        int64
		wantFirstGap time.Duration // the sleep after sending 128 KiB at once, at 1 MiB/s
	}{
		{"default is a quarter second", 0, 0},
		{"one chunk", 64 << 10, 62500 * time.Microsecond},
		{"below the chunk is raised to it", 1000, 62500 * time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := ratelimit.New(1<<20, tt.burst, 64<<10)
			var slept []time.Duration
			ratelimit.WithFakeClock(l, func() time.Time { return time.Unix(0, 0) }, &slept)
			if err := l.Wait(context.Background(), 128<<10); err != nil {
				t.Fatal(err)
			}
			var got time.Duration
			if len(slept) > 0 {
				got = slept[0]
			}
			if diff := got - tt.wantFirstGap; diff < -time.Millisecond || diff > time.Millisecond {
				t.Fatalf("128 KiB at once slept %v, want %v", got, tt.wantFirstGap)
			}
		})
	}
}
