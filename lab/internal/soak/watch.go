package soak

// A server's resources — resident memory, goroutines, open files — sampled
// from its /metrics, once or every interval.

import (
	"context"
	"sync"
	"time"

	"github.com/netlab/netlab/lab/internal/prom"
)

// Snapshot is a server's resources at one moment.
type Snapshot struct {
	At         time.Time
	RSS        int64 // bytes
	Goroutines int
	FDs        int
	Metrics    prom.Metrics // the whole scrape, for the service's own counters
}

// TakeSnapshot scrapes metricsURL once.
func TakeSnapshot(ctx context.Context, metricsURL string) (Snapshot, error) {
	m, err := prom.Scrape(ctx, metricsURL)
	if err != nil {
		return Snapshot{}, err
	}
	return Snapshot{
		At:         time.Now(),
		RSS:        int64(m.Sum("process_resident_memory_bytes")),
		Goroutines: int(m.Sum("go_goroutines")),
		FDs:        int(m.Sum("process_open_fds")),
		Metrics:    m,
	}, nil
}

// Series is every snapshot a Sampler took, oldest first.
type Series []Snapshot

// Peak is the largest value of each resource over the series.
func (s Series) Peak() Snapshot {
	var p Snapshot
	for _, x := range s {
		p.RSS = max(p.RSS, x.RSS)
		p.Goroutines = max(p.Goroutines, x.Goroutines)
		p.FDs = max(p.FDs, x.FDs)
	}
	return p
}

// After is the part of the series taken at or after t.
func (s Series) After(t time.Time) Series {
	for i, x := range s {
		if !x.At.Before(t) {
			return s[i:]
		}
	}
	return nil
}

// RSSRange is the smallest and largest resident memory in the series.
func (s Series) RSSRange() (lo, hi int64) {
	for i, x := range s {
		if i == 0 || x.RSS < lo {
			lo = x.RSS
		}
		hi = max(hi, x.RSS)
	}
	return lo, hi
}

// Sampler takes a snapshot every interval until stopped.
type Sampler struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	series Series
	errs   int
}

// StartSampler begins sampling metricsURL every interval, the first one
// at once.
func StartSampler(ctx context.Context, metricsURL string, interval time.Duration) *Sampler {
	ctx, cancel := context.WithCancel(ctx)
	s := &Sampler{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			snap, err := TakeSnapshot(ctx, metricsURL)
			s.mu.Lock()
			if err != nil {
				if ctx.Err() == nil {
					s.errs++
				}
			} else {
				s.series = append(s.series, snap)
			}
			s.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the series and how many scrapes failed.
func (s *Sampler) Stop() (Series, int) {
	s.cancel()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.series, s.errs
}
