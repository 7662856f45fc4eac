// Package history keeps the recent past of every series the dashboard
// polls, in memory and bounded: one ring of Points values per series, all
// aligned on one ring of poll times, and at most MaxSeries series. A
// counter is kept as its per-second rate over each poll interval (worked
// out as it arrives, so a counter reset is seen where it happens); any
// other value as it was read. A value is a float32: 4 bytes a point.
package history

import (
	"errors"
	"math"
	"sync"
	"time"

	"github.com/netlab/netlab/services/dashboard/internal/scrape"
	"github.com/netlab/netlab/services/dashboard/internal/stats"
)

// Limits bound the memory: Points × MaxSeries × 4 bytes of values.
type Limits struct {
	Points    int // poll rounds kept
	MaxSeries int // series kept over every replica
}

// Store is the history. It is safe for concurrent use: one writer (the
// poller) and many readers (the views).
type Store struct {
	mu       sync.RWMutex
	lim      Limits
	times    []int64 // unix milliseconds, a ring; times[head] is the newest
	head     int
	n        int   // points held, at most lim.Points
	round    int64 // rounds appended
	series   int   // series held
	dropped  int64 // series refused because MaxSeries were held
	replicas map[string]*replica
}

// replica is one polled process's series.
type replica struct {
	families map[string]scrape.Family
	series   map[string]*Series // by Name + "{" + Labels + "}"
	start    float64            // process_start_time_seconds last read
}

// Series is one series' ring of values, aligned with the store's times.
type Series struct {
	Family     string
	Name       string
	Labels     string
	Cumulative bool // kept as a rate per second
	vals       []float32
	prev       float64 // the counter's last reading
	prevT      int64
	hasPrev    bool
	lastRound  int64 // the last round that had a value
}

// New returns an empty store.
func New(lim Limits) (*Store, error) {
	if lim.Points < 2 || lim.MaxSeries < 1 {
		return nil, errors.New("history: want at least 2 points and 1 series")
	}
	return &Store{lim: lim, times: make([]int64, lim.Points), head: -1, replicas: map[string]*replica{}}, nil
}

// Scrape is what one replica answered in a round; a nil Result means it
// could not be read, and its series get no value for the round.
type Scrape struct {
	Result *scrape.Result
}

// Append adds one poll round at t: the scrapes of the replicas that were
// polled (by replica key). Every series held gets a point: its value, or
// NaN when it was not read. Series with no value for a whole window, and
// replicas with no series left, are forgotten.
func (s *Store) Append(t time.Time, scrapes map[string]Scrape) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.head = (s.head + 1) % s.lim.Points
	s.n = min(s.n+1, s.lim.Points)
	s.round++
	ms := t.UnixMilli()
	s.times[s.head] = ms
	for _, r := range s.replicas {
		for _, ser := range r.series {
			ser.vals[s.head] = float32(math.NaN())
		}
	}
	for key, sc := range scrapes {
		if sc.Result != nil {
			s.ingest(key, ms, sc.Result)
		}
	}
	s.expire()
}

// ingest records one replica's scrape at ms.
func (s *Store) ingest(key string, ms int64, res *scrape.Result) {
	r := s.replicas[key]
	if r == nil {
		r = &replica{series: map[string]*Series{}}
		s.replicas[key] = r
	}
	r.families = res.Families
	start := math.NaN()
	for _, smp := range res.Samples {
		if smp.Name == "process_start_time_seconds" {
			start = smp.Value
		}
	}
	// A new start time: the process restarted, and every counter with it.
	restarted := !math.IsNaN(start) && r.start != 0 && start != r.start
	if !math.IsNaN(start) {
		r.start = start
	}
	for _, smp := range res.Samples {
		id := smp.Name + "{" + smp.Labels + "}"
		ser := r.series[id]
		if ser == nil {
			if s.series >= s.lim.MaxSeries {
				s.dropped++
				continue
			}
			ser = &Series{Family: smp.Family, Name: smp.Name, Labels: smp.Labels, Cumulative: smp.Cumulative,
				vals: make([]float32, s.lim.Points)}
			for i := range ser.vals {
				ser.vals[i] = float32(math.NaN())
			}
			r.series[id] = ser
			s.series++
		}
		ser.lastRound = s.round
		ser.vals[s.head] = float32(ser.value(smp.Value, ms, restarted))
	}
}

// value is what the series keeps for a reading v at ms: a counter's rate
// since its last reading (NaN for the first), or v.
func (ser *Series) value(v float64, ms int64, restarted bool) float64 {
	if !ser.Cumulative {
		return v
	}
	out := math.NaN()
	if ser.hasPrev {
		out = stats.Rate(ser.prev, v, float64(ms-ser.prevT)/1000, restarted)
	}
	ser.prev, ser.prevT, ser.hasPrev = v, ms, true
	return out
}

// expire forgets series without a value for a whole window.
func (s *Store) expire() {
	for key, r := range s.replicas {
		for id, ser := range r.series {
			if s.round-ser.lastRound >= int64(s.lim.Points) {
				delete(r.series, id)
				s.series--
			}
		}
		if len(r.series) == 0 {
			delete(s.replicas, key)
		}
	}
}

// Stats are the store's counts.
type Stats struct {
	Series  int   // held now
	Dropped int64 // refused since start because MaxSeries were held
	Points  int   // rounds held now
}

// Stats returns the store's counts.
func (s *Store) Stats() Stats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return Stats{Series: s.series, Dropped: s.dropped, Points: s.n}
}

// Read runs fn with a Reader of the store, under its read lock: fn must
// not keep the Reader or anything it returns past its return.
func (s *Store) Read(fn func(Reader)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	fn(Reader{s})
}

// Reader reads the store inside Read.
type Reader struct{ s *Store }

// Len is the number of points held.
func (r Reader) Len() int { return r.s.n }

// Times returns the times (unix milliseconds) of the last n points, oldest
// first; n is capped at Len.
func (r Reader) Times(n int) []int64 {
	n = min(n, r.s.n)
	out := make([]int64, n)
	for i := range n {
		out[i] = r.s.times[r.s.index(n-1-i)]
	}
	return out
}

// index is the ring index of the point back points before the newest.
func (s *Store) index(back int) int {
	return ((s.head-back)%s.lim.Points + s.lim.Points) % s.lim.Points
}

// Families returns the families a replica exported in its last scrape.
func (r Reader) Families(replica string) map[string]scrape.Family {
	if rep := r.s.replicas[replica]; rep != nil {
		return rep.families
	}
	return nil
}

// Each calls fn for every series of a replica, in no order.
func (r Reader) Each(replica string, fn func(*Series)) {
	if rep := r.s.replicas[replica]; rep != nil {
		for _, ser := range rep.series {
			fn(ser)
		}
	}
}

// Get returns a replica's series by name and labels, nil if not held.
func (r Reader) Get(replica, name, labels string) *Series {
	if rep := r.s.replicas[replica]; rep != nil {
		return rep.series[name+"{"+labels+"}"]
	}
	return nil
}

// Values appends the series' last n values, oldest first (n capped at
// Len), to dst.
func (r Reader) Values(ser *Series, n int, dst []float32) []float32 {
	n = min(n, r.s.n)
	for i := range n {
		dst = append(dst, ser.vals[r.s.index(n-1-i)])
	}
	return dst
}
